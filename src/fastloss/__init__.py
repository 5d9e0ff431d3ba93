"""fastloss: fast CPU loss functions, gradients and optimizer updates for NumPy arrays.

Fused C kernels (one pass for value and gradient, SIMD exp/log, optional threads) behind
the names and semantics of ``torch.nn.functional`` and ``torch.optim``
(:mod:`fastloss.optim`); :mod:`fastloss.reference` holds the same functions in plain NumPy,
the specification the kernels are tested against. Built on them: :mod:`fastloss.linear`
(whole SGD epochs in C), :mod:`fastloss.models` (scikit-learn-style estimators) and
:mod:`fastloss.datasets`.

>>> import numpy as np, fastloss
>>> value, grad = fastloss.mse_loss_value_and_grad(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
>>> float(value), grad.tolist()
(2.0, [0.0, 2.0])
"""

from fastloss._version import __version__
from fastloss._backend import get_backend, set_backend, use_backend
from fastloss._config import (
    THREADING_THRESHOLD,
    config,
    get_num_threads,
    set_num_threads,
    show_config,
)
from fastloss.losses import *  # noqa: F401,F403
from fastloss.losses import __all__ as _losses_all
from fastloss.linear import *  # noqa: F401,F403
from fastloss.linear import __all__ as _linear_all
from fastloss import linear, losses, reference
from fastloss import optim  # after the kernels it builds on
from fastloss import datasets, models  # built on the public API above

__all__ = [
    "__version__",
    "get_backend", "set_backend", "use_backend",
    "THREADING_THRESHOLD", "config", "get_num_threads", "set_num_threads", "show_config",
    "datasets", "linear", "losses", "models", "optim", "reference",
    *_losses_all,
    *_linear_all,
]
