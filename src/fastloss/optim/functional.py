"""One optimizer step on one parameter array, in place: the functional core of fastloss.optim.

Each ``*_update`` function applies one step of a ``torch.optim`` algorithm to ``param`` and
its state arrays, in place, in one fused pass (compiled backend) or in NumPy (the
``"numpy"`` backend, :mod:`fastloss.reference.optim`). The formulas are PyTorch's
``_single_tensor_*`` functions (torch 2.13, ``differentiable=False, capturable=False``),
operation for operation, so trajectories agree with PyTorch to rounding. Each is defined
beside its optimizer class in its rule's module (:mod:`fastloss.optim.sgd`, ``.adagrad``,
``.rmsprop``, ``.adam``, as torch/optim/adam.py holds ``adam`` and ``Adam``) and re-exported
here from :mod:`fastloss.optim._registry`; this module states what they share, the
conventions below (checked by :mod:`fastloss.optim._update`).

Conventions shared by every function here:

* ``param`` and the state arrays are updated in place: each must be a writeable,
  C-contiguous ``numpy.ndarray`` of dtype float32 or float64 (native byte order); the state
  arrays have ``param``'s shape and dtype (per-array scalars, NAdam's ``mu_product`` and
  ASGD's ``mu`` and ``eta``: 0-d arrays of its dtype) and share no memory with it or with
  each other.
* ``grad`` is a ``numpy.ndarray`` of ``param``'s shape and dtype; it is only read, and may
  be non-contiguous (it is then copied).
* State arrays every call needs are positional; those only an option needs are keywords,
  required exactly when the option is on (``momentum_buffer`` when ``momentum != 0``,
  ``grad_avg`` when ``centered``, ``max_exp_avg_sq`` when ``amsgrad``).
* ``step`` is the 1-based step count *after* increment (the caller counts: 1 on the first
  call). Hyper-parameters are real numbers (not bools): non-negative and finite, betas in
  ``[0, 1)``, as each update rule's row in :mod:`fastloss.optim._registry` says; flags are
  bools.
* Arithmetic is in the arrays' dtype with hyper-parameters rounded to it, as in PyTorch;
  per-call scalars (bias corrections, step sizes) are computed once in float64.
* Every argument is checked before any array is touched: after a ``TypeError`` or
  ``ValueError`` all arrays are byte-identical to what they were. The common call (Python
  float hyper-parameters, bool flags, arrays as the kernels want them) is checked and run
  in one compiled call; anything else goes through the checks below, which raise or copy.
* An update is applied whole on both backends: a Ctrl-C during it is raised when it is
  done, and floating-point state (``np.errstate(all="raise")``) never interrupts it.
* ``n_threads``: ``None`` uses :func:`fastloss.get_num_threads` for arrays of at least
  ``fastloss.THREADING_THRESHOLD`` elements and one thread below. Results do not depend on
  the thread count.

Below, ``g`` is the gradient after the sign flip (``-grad`` if ``maximize``) and, where
noted, the L2 term; ``p`` is ``param``; all operations are elementwise.
"""

from __future__ import annotations

from fastloss.optim._registry import *  # noqa: F401,F403  (every rule's update and class)
from fastloss.optim._registry import UPDATES
from fastloss.optim._update import MAX_STEP as MAX_STEP  # the largest step count

#: one functional update per registry row
__all__ = list(UPDATES)
