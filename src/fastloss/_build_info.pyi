# Stub for the module CMake generates at build time from _build_info.py.in.
compiler: str
build_type: str
c_flags: str
openmp: bool
target_clones: bool
libmvec: bool
system: str
