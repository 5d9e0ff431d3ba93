"""The NumPy reference: every public kernel of fastloss written the obvious way in NumPy.

This package is the specification the compiled kernels are tested against, and the
``"numpy"`` backend (:func:`fastloss.use_backend`). One module per family, mirroring the
public API: :mod:`.losses` (:mod:`fastloss.losses`), :mod:`.optim`
(:mod:`fastloss.optim.functional`), :mod:`.linear` (:mod:`fastloss.linear`), :mod:`.lbfgs`
(the two-loop recursion of :func:`fastloss.optim.minimize_lbfgs`), :mod:`.adafactor`
(:func:`fastloss.optim.adafactor.adafactor_update`), :mod:`.muon`
(:func:`fastloss.optim.muon.muon_update`).
The functions trust their inputs; validation lives in the public modules, shared by both
backends.
"""

from fastloss.reference.losses import *  # noqa: F401,F403
from fastloss.reference.losses import __all__ as _losses_all
from fastloss.reference.optim import *  # noqa: F401,F403
from fastloss.reference.optim import __all__ as _optim_all
from fastloss.reference.linear import *  # noqa: F401,F403
from fastloss.reference.linear import __all__ as _linear_all
from fastloss.reference.lbfgs import *  # noqa: F401,F403
from fastloss.reference.lbfgs import __all__ as _lbfgs_all
from fastloss.reference.adafactor import *  # noqa: F401,F403
from fastloss.reference.adafactor import __all__ as _adafactor_all
from fastloss.reference.muon import *  # noqa: F401,F403
from fastloss.reference.muon import __all__ as _muon_all
from fastloss.reference.ctc import *  # noqa: F401,F403
from fastloss.reference.ctc import __all__ as _ctc_all

__all__ = [*_losses_all, *_optim_all, *_linear_all, *_lbfgs_all, *_adafactor_all, *_muon_all,
           *_ctc_all]
