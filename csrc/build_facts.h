/* What the compiled kernels know about their own build, for fastloss.show_config(). */
#ifndef FASTLOSS_BUILD_FACTS_H
#define FASTLOSS_BUILD_FACTS_H

/* The ISA clones and the exp/log the hot loops were built with. */
const char *fl_simd_paths(void);
/* The clone the loader picks on this CPU. */
const char *fl_active_isa(void);
int fl_openmp_enabled(void);
/* omp_get_max_threads(), or 1 without OpenMP. */
int fl_openmp_max_threads(void);

#endif
