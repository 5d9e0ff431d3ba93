"""The optional peers (torch, scikit-learn, SciPy): lazy loading, versions, and the adapters that
turn a peer's API into the zero-argument callables a :class:`~fastloss.bench.cases.Case`
returns.

Setups ask for a peer through :func:`torch`, :func:`sklearn_loss`,
:func:`sklearn_sgd_regressor`, :func:`sklearn_linear_model_loss` or :func:`scipy_optimize`:
each returns None when the peer is not installed or when the run leaves it out (``fastloss
bench --peers``, :func:`allowed`), so a run without a peer never imports it.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Sequence, Tuple

import numpy as np

PEERS = ("torch", "sklearn", "scipy", "dask-ml")
#: what to install for each peer
PEER_PACKAGES = {"torch": "torch==2.13.0", "sklearn": "scikit-learn", "scipy": "scipy",
                 "dask-ml": "dask-ml"}

#: the peers the current run may use (:func:`allowed`)
_allowed_peers = frozenset(PEERS)


@contextlib.contextmanager
def allowed(peers: Iterable[str]) -> Iterator[None]:
    """Within the block, :func:`torch` and the scikit-learn loaders return None for a peer
    not in ``peers``; the previous set is restored on exit."""
    global _allowed_peers
    saved, _allowed_peers = _allowed_peers, frozenset(peers)
    try:
        yield
    finally:
        _allowed_peers = saved


def is_allowed(peer: str) -> bool:
    """Whether the current run may use ``peer``."""
    return peer in _allowed_peers


def torch() -> Any:
    """The torch module, or None when it is not installed or not wanted in this run."""
    if "torch" not in _allowed_peers:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def sklearn_loss() -> Any:
    """``sklearn._loss.loss``, or None when not installed or not wanted in this run."""
    if "sklearn" not in _allowed_peers:
        return None
    try:
        from sklearn._loss import loss
    except ImportError:
        return None
    return loss


def sklearn_sgd_regressor() -> Any:
    """``sklearn.linear_model.SGDRegressor``, or None when not installed or not wanted."""
    if "sklearn" not in _allowed_peers:
        return None
    try:
        from sklearn.linear_model import SGDRegressor
    except ImportError:
        return None
    return SGDRegressor


def scipy_sparse() -> Any:
    """``scipy.sparse`` (the CSR input of the linear family), or None when not installed."""
    try:
        import scipy.sparse
    except ImportError:
        return None
    return scipy.sparse


def sklearn_linear_model_loss() -> Any:
    """``sklearn.linear_model._linear_loss.LinearModelLoss`` (scikit-learn's objective of
    its linear models, private), or None when not installed or not wanted."""
    if "sklearn" not in _allowed_peers:
        return None
    try:
        from sklearn.linear_model._linear_loss import LinearModelLoss
    except ImportError:
        return None
    return LinearModelLoss


def sklearn_linear_models() -> Any:
    """``sklearn.linear_model`` (its estimators: the model-fit peers), or None when not
    installed or not wanted."""
    if "sklearn" not in _allowed_peers:
        return None
    try:
        from sklearn import linear_model
    except ImportError:
        return None
    return linear_model


def dask_ml_linear_model() -> Any:
    """``dask_ml.linear_model`` (the ``dask`` family's peer), or None when not installed or
    not wanted in this run."""
    if "dask-ml" not in _allowed_peers:
        return None
    try:
        from dask_ml import linear_model
    except ImportError:
        return None
    return linear_model


def scipy_optimize() -> Any:
    """``scipy.optimize``, or None when not installed or not wanted in this run."""
    if "scipy" not in _allowed_peers:
        return None
    try:
        from scipy import optimize
    except ImportError:
        return None
    return optimize


def missing_peers(peers: Iterable[str]) -> List[str]:
    """The peers among ``peers`` that cannot be imported."""
    with allowed(PEERS):
        found = {"torch": torch, "sklearn": sklearn_loss, "scipy": scipy_optimize,
                 "dask-ml": dask_ml_linear_model}
        return [p for p in peers if found[p]() is None]


def peer_versions() -> Dict[str, str]:
    """Versions of the peers this run may use that are installed."""
    versions = {}
    module = torch()
    if module is not None:
        versions["torch"] = str(module.__version__)
    if sklearn_loss() is not None:
        import sklearn

        versions["sklearn"] = str(sklearn.__version__)
    if scipy_optimize() is not None:
        import scipy

        versions["scipy"] = str(scipy.__version__)
    if dask_ml_linear_model() is not None:
        import dask_ml

        versions["dask-ml"] = str(dask_ml.__version__)
    return versions


# ---- adapters ---------------------------------------------------------------------------

def torch_value_and_grad(fn: Callable[..., Any], x: np.ndarray, y: np.ndarray,
                         **kwargs: Any) -> Callable[[], Any]:
    """One training step's worth of a torch loss: forward ``fn(x, y, **kwargs)`` and
    backward on tensors sharing ``x``'s and ``y``'s memory; returns (value, gradient)."""
    module = torch()
    xt = module.from_numpy(x).requires_grad_(True)
    yt = module.from_numpy(y)

    def run() -> Tuple[float, Any]:
        xt.grad = None  # what optimizer.zero_grad() does: a fresh gradient per step
        loss = fn(xt, yt, **kwargs)
        loss.backward()
        return loss.item(), xt.grad

    return run


def torch_value_and_grads(fn: Callable[..., Any], arrays: Tuple[np.ndarray, ...],
                          differentiated: Sequence[int], **kwargs: Any) -> Callable[[], Any]:
    """:func:`torch_value_and_grad` for a loss of several inputs: ``fn(*arrays, **kwargs)``,
    backward to the arrays at the positions ``differentiated``; returns (value, their
    gradients)."""
    module = torch()
    tensors = [module.from_numpy(a) for a in arrays]
    leaves = [tensors[j] for j in differentiated]
    for t in leaves:
        t.requires_grad_(True)

    def run() -> Tuple[float, Any]:
        for t in leaves:
            t.grad = None
        loss = fn(*tensors, **kwargs)
        loss.backward()
        return loss.item(), tuple(t.grad for t in leaves)

    return run


def sklearn_value_and_grad(cls_name: str, factor: float, x: np.ndarray, y: np.ndarray,
                           rows: int, **kwargs: Any) -> Callable[[], Any]:
    """scikit-learn's half-losses (``sklearn._loss.loss.<cls_name>(**kwargs)``, one
    thread), scaled by ``factor`` to ours, with their mean over ``rows`` and its
    gradient."""
    sk = getattr(sklearn_loss(), cls_name)(**kwargs)
    loss_out = np.empty(rows, x.dtype)
    grad_out = np.empty_like(x)
    scale = factor / rows

    def run() -> Tuple[float, Any]:
        loss, grad = sk.loss_gradient(y, x, loss_out=loss_out, gradient_out=grad_out,
                                      n_threads=1)
        return factor * loss.mean(), grad * scale

    return run
