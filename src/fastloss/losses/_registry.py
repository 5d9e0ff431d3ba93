"""The list of losses: one row per public loss, from which the rest is derived.

Everything that enumerates losses reads :data:`LOSSES`: ``__all__`` of
:mod:`fastloss.reference.losses` (each row ``name`` gives ``name``, ``name_grad`` and
``name_value_and_grad``; :mod:`fastloss.losses` spells its ``__all__`` out for type checkers),
the checks of the loss parameters, the elementwise kernels' codes (read from the binding,
``fastloss._losses.ELEMENTWISE_LOSSES``), the test matrices (``tests/test_losses*.py``
parametrize over the rows' ``variants``) and the benchmark cases (``fastloss bench``).
``tests/test_loss_registry.py`` and ``tests/test_kernel_registry.py`` check that the rows,
the C kernels' list, the public functions, their signatures and the reference agree.

Adding a loss: see CONTRIBUTING.md ("Add a loss").
"""

from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, Union

import numpy as np

from fastloss._validation import NON_NEGATIVE, POSITIVE, REAL, UNIT, Interval, Intervals

#: (x, y) = data(rng, shape, dtype): typical inputs and targets of a loss (kind "input_rows":
#: its inputs in argument order, e.g. (input1, input2, target))
DataGenerator = Callable[[np.random.Generator, Tuple[int, ...], Any], Tuple[np.ndarray, ...]]


class Choice(NamedTuple):
    """The constraint of a parameter that takes one of a few values (multi_margin_loss's
    ``p``: 1 or 2)."""

    values: Tuple[Any, ...]


class Param(NamedTuple):
    """A scalar parameter of a loss: its name, PyTorch's default and its constraint: an
    :class:`~fastloss._validation.Interval` for a real number, ``"flag"`` for a bool,
    ``"int64"`` for an integer, a :class:`Choice` of values."""

    name: str
    default: Any
    constraint: Union[Interval, Intervals, str, Choice]


class Loss(NamedTuple):
    """One loss. ``name`` is the public (``torch.nn.functional``) name."""

    name: str
    #: "elementwise" (input and target of one shape), "rows" (an (N, C) input and class
    #: labels), "target_rows" (an (..., C) input and a target of its shape, a loss per row)
    #: "label_rows" (an (N, C) input and rows of class indices of its shape, -1 padded),
    #: "input_rows" (several float inputs of one shape (N, D) or (D,), a loss per row; the
    #: gradient is a tuple, one per float input: see ``inputs``) or "elementwise_inputs"
    #: (arrays of one shape, ``arrays``, a loss per element, two of them differentiated,
    #: ``inputs``: the gradient is a tuple; its kernel's aux array is the second one)
    kind: str
    #: the C kernels (keys of ``_losses.ELEMENTWISE_LOSSES``, or of ``ROWWISE_LOSSES`` for
    #: kind "rows") this loss runs, each with the arguments that select it; the first is the
    #: default (kl_div: ``{"kl_div": {}, "kl_div_log": {"log_target": True}}``). Empty for
    #: cross_entropy, whose blocked softmax kernel is its own.
    kernels: Dict[str, Dict[str, Any]]
    params: Tuple[Param, ...]
    #: the array weights it takes ("weight", "pos_weight", "sample_weight"), which broadcast
    #: to the input (elementwise: sample_weight with as many dimensions; kind "rows": "weight"
    #: per class, "sample_weight" per row, of the target's shape)
    weights: Tuple[str, ...]
    #: what the weighted "mean" divides by: "weight_sum" (sum(w l) / sum(w)) or "count"
    #: (mean(w l)), as in PyTorch 2.13 for each loss
    weighted_mean: str
    #: the reductions it takes, its default first (PyTorch's: "mean", or torchvision's "none")
    reductions: Tuple[str, ...]
    data: DataGenerator
    #: the ranges of finite (input, target) values it is defined for (property tests)
    domain: Tuple[Tuple[float, float], Tuple[float, float]]
    #: keyword arguments the tests and benchmarks try; "full" / "bcast" / "rows" stand for
    #: weight arrays of the input's shape / of its last axis / of shape (N, 1, ...)
    variants: Tuple[Dict[str, Any], ...]
    #: scikit-learn's equivalent in ``sklearn._loss.loss`` and the factor from its
    #: (half-)loss to ours, or None
    sklearn: Optional[Tuple[str, float]] = None
    #: the closed range every input element must lie in (checked before the kernel runs;
    #: NaN passes), or None
    input_range: Optional[Interval] = None
    #: whether it has ``<name>_grad_hess`` (twice differentiable, a Hessian not 0 almost
    #: everywhere; the losses on rows: every one, nll_loss's Hessian is 0)
    hessian: bool = False
    #: kind "rows": whether it takes PyTorch's K-dimensional (N, C, d1, ..., dk) inputs (else
    #: (N, C) and unbatched (C,) only)
    spatial: bool = False
    #: whether ``torch.nn.functional`` has it under ``name`` (the peer tests and benchmarks
    #: compare with it); the others are tested against their formula on torch primitives
    in_torch: bool = True
    #: the two values every target element must take (hinge losses: -1 and 1), checked
    #: before the kernel runs (NaN passes), or None
    target_values: Optional[Tuple[float, float]] = None
    #: scikit-learn's SGD loss of the same definition (a class of
    #: ``sklearn.linear_model._sgd_fast``; its ``__init__`` takes the row's parameter), or None
    sklearn_sgd: Optional[str] = None
    #: kind "input_rows": the names of its float inputs, in argument order (their gradients'
    #: order), and whether a per-row target follows them; kind "elementwise_inputs": the
    #: names of the two arrays it is differentiated by, in argument order
    inputs: Tuple[str, ...] = ()
    row_target: bool = False
    #: kind "elementwise_inputs": the names of its array arguments, in order (``data``'s)
    arrays: Tuple[str, ...] = ()

    @property
    def functions(self) -> Tuple[str, ...]:
        """The public names: value, gradient, both, and (``hessian``) gradient and Hessian."""
        names = (self.name, self.name + "_grad", self.name + "_value_and_grad")
        return names + (self.name + "_grad_hess",) if self.hessian else names

    def defaults(self) -> Dict[str, Any]:
        return {p.name: p.default for p in self.params}


# ---- the inputs each kind of loss takes -----------------------------------------------------

def _regression(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                ) -> Tuple[np.ndarray, np.ndarray]:
    return (rng.normal(0.0, 2.0, shape).astype(dtype), rng.normal(0.0, 2.0, shape).astype(dtype))


def _soft_and_hard_targets(rng: np.random.Generator, shape: Tuple[int, ...]) -> np.ndarray:
    y = rng.uniform(0.0, 1.0, shape)
    y.flat[::3] = np.round(y.flat[::3])  # some hard 0/1 targets
    return y


def _probabilities(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                   ) -> Tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(0.02, 0.98, shape)
    return x.astype(dtype), _soft_and_hard_targets(rng, shape).astype(dtype)


def _logits(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
            ) -> Tuple[np.ndarray, np.ndarray]:
    x = rng.normal(0.0, 4.0, shape)
    return x.astype(dtype), _soft_and_hard_targets(rng, shape).astype(dtype)


def _log_probabilities(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                       ) -> Tuple[np.ndarray, np.ndarray]:
    x = np.log(rng.uniform(0.05, 1.0, shape))
    y = rng.uniform(0.0, 1.0, shape)
    y.flat[::4] = 0.0  # 0 log 0 = 0
    return x.astype(dtype), y.astype(dtype)


def _class_logits(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """(N, C) logits and int64 labels in [0, C)."""
    n, c = shape
    return (3.0 * rng.normal(size=shape)).astype(dtype), rng.integers(0, c, n)


def _class_log_probabilities(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                             ) -> Tuple[np.ndarray, np.ndarray]:
    x, labels = _class_logits(rng, shape, dtype)
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), labels


def _signed_targets(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Scores and targets of -1 and 1."""
    return (rng.normal(0.0, 2.0, shape).astype(dtype),
            np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0).astype(dtype))


def _rates_and_counts(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """Positive inputs (rates, or log-rates) and Poisson counts, some above 1."""
    return (rng.uniform(0.1, 3.0, shape).astype(dtype),
            rng.poisson(2.0, shape).astype(dtype))


def _means_and_positive_targets(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                                ) -> Tuple[np.ndarray, np.ndarray]:
    """Positive inputs (means, or log-means) and gamma-distributed targets."""
    return (rng.uniform(0.2, 3.0, shape).astype(dtype),
            rng.gamma(2.0, 1.0, shape).astype(dtype))


_REDUCTIONS = ("mean", "sum", "none")
_REGRESSION_DOMAIN = ((-1e3, 1e3), (-1e3, 1e3))
_WEIGHTED: Tuple[Dict[str, Any], ...] = ({}, {"weight": "full"}, {"weight": "bcast"},
                                         {"sample_weight": "rows"},
                                         {"weight": "bcast", "sample_weight": "full"})
#: the weights of an elementwise loss with torch's ``weight``, and of one without
_W_SW = ("weight", "sample_weight")
_SW = ("sample_weight",)
_SW_VARIANTS: Tuple[Dict[str, Any], ...] = ({}, {"sample_weight": "rows"})
_SIGNED_DOMAIN = ((-60.0, 60.0), (-1.0, 1.0))
_SIGNS = (-1.0, 1.0)
#: the exclusive quantile range of the pinball loss (scikit-learn's)
_QUANTILE = Interval(0.0, 1.0, lo_closed=False, hi_closed=False)
#: Tweedie powers: <= 0 (0: the squared error of the mean; on the log link only: see
#: tweedie_loss) or 1 (Poisson) and above (2: gamma), as scikit-learn's TweedieRegressor
_POWER = Intervals((Interval(-float("inf"), 0.0, False, True),
                    Interval(1.0, float("inf"), hi_closed=False)))
#: positive inputs and targets (Poisson, gamma, Tweedie)
_POSITIVE_DOMAIN = ((0.0625, 4.0), (0.0, 16.0))  # exact in float32 (hypothesis)

_ROWS: Tuple[Loss, ...] = (
    Loss("mse_loss", "elementwise", {"mse": {}}, (), _W_SW, "weight_sum", _REDUCTIONS,
         _regression, _REGRESSION_DOMAIN, _WEIGHTED, sklearn=("HalfSquaredError", 2.0),
         hessian=True),
    Loss("l1_loss", "elementwise", {"l1": {}}, (), _W_SW, "weight_sum", _REDUCTIONS,
         _regression, _REGRESSION_DOMAIN, _WEIGHTED, sklearn=("AbsoluteError", 1.0)),
    Loss("huber_loss", "elementwise", {"huber": {}}, (Param("delta", 1.0, POSITIVE),),
         _W_SW, "count", _REDUCTIONS, _regression, _REGRESSION_DOMAIN,
         ({"delta": 1.0}, {"delta": 0.5, "weight": "full"}, {"delta": 2.0, "weight": "bcast"},
          {"delta": 0.5, "sample_weight": "rows"},
          {"delta": 1.0, "weight": "full", "sample_weight": "full"}), hessian=True),
    # beta == 0 is exactly l1_loss (PyTorch): it runs the l1 kernel
    Loss("smooth_l1_loss", "elementwise", {"smooth_l1": {}, "l1": {"beta": 0.0}},
         (Param("beta", 1.0, NON_NEGATIVE),), _W_SW, "weight_sum", _REDUCTIONS,
         _regression, _REGRESSION_DOMAIN,
         ({"beta": 1.0}, {"beta": 0.5, "weight": "full"}, {"beta": 0.0},
          {"beta": 0.0, "weight": "bcast"}, {"beta": 0.5, "sample_weight": "rows"},
          {"beta": 1.0, "weight": "bcast", "sample_weight": "full"}), hessian=True),
    Loss("binary_cross_entropy", "elementwise", {"bce": {}}, (), _W_SW, "count",
         _REDUCTIONS, _probabilities, ((0.0, 1.0), (0.0, 1.0)), _WEIGHTED, input_range=UNIT,
         hessian=True),
    Loss("binary_cross_entropy_with_logits", "elementwise", {"bce_logits": {}}, (),
         ("weight", "pos_weight", "sample_weight"), "count", _REDUCTIONS, _logits,
         ((-60.0, 60.0), (0.0, 1.0)),
         ({}, {"weight": "full"}, {"pos_weight": "full"}, {"pos_weight": "bcast"},
          {"weight": "bcast", "pos_weight": "bcast"}, {"sample_weight": "rows"},
          {"weight": "full", "pos_weight": "bcast", "sample_weight": "full"}),
         sklearn=("HalfBinomialLoss", 1.0), hessian=True),
    Loss("cross_entropy", "rows", {}, (Param("ignore_index", -100, "int64"),
                                       Param("label_smoothing", 0.0, UNIT)),
         ("weight", "sample_weight"), "weight_sum", _REDUCTIONS, _class_logits,
         ((-60.0, 60.0), (0.0, 1.0)),
         ({}, {"weight": "full"}, {"label_smoothing": 0.1}),
         sklearn=("HalfMultinomialLoss", 1.0), hessian=True, spatial=True),
    Loss("nll_loss", "rows", {"nll": {}}, (Param("ignore_index", -100, "int64"),),
         ("weight", "sample_weight"), "weight_sum", _REDUCTIONS, _class_log_probabilities,
         ((-60.0, 0.0), (0.0, 1.0)),
         ({}, {"weight": "full"}), hessian=True, spatial=True),
    Loss("kl_div", "elementwise", {"kl_div": {}, "kl_div_log": {"log_target": True}},
         (Param("log_target", False, "flag"),), _SW, "count", _REDUCTIONS + ("batchmean",),
         _log_probabilities, ((-30.0, 0.0), (0.0, 1.0)),
         ({"log_target": False}, {"log_target": True},
          {"log_target": False, "sample_weight": "rows"},
          {"log_target": True, "sample_weight": "full"}), hessian=True),
    Loss("soft_margin_loss", "elementwise", {"soft_margin": {}}, (), _SW, "count",
         _REDUCTIONS, _signed_targets, _SIGNED_DOMAIN, _SW_VARIANTS, hessian=True),
    Loss("poisson_nll_loss", "elementwise",
         {"poisson_log": {}, "poisson": {"log_input": False},
          "poisson_log_full": {"full": True}, "poisson_full": {"log_input": False, "full": True}},
         (Param("log_input", True, "flag"), Param("full", False, "flag"),
          Param("eps", 1e-8, POSITIVE)), _SW, "count", _REDUCTIONS, _rates_and_counts,
         _POSITIVE_DOMAIN,
         ({}, {"log_input": False}, {"full": True}, {"log_input": False, "full": True},
          {"sample_weight": "rows"}, {"log_input": False, "eps": 0.5, "sample_weight": "full"}),
         sklearn=("HalfPoissonLoss", 1.0), hessian=True),
    Loss("hinge_embedding_loss", "elementwise", {"hinge_embedding": {}},
         (Param("margin", 1.0, REAL),), _SW, "count", _REDUCTIONS, _signed_targets,
         _SIGNED_DOMAIN, ({"margin": 1.0}, {"margin": 0.5, "sample_weight": "rows"})),
    Loss("log_cosh_loss", "elementwise", {"log_cosh": {}}, (), _SW, "count", _REDUCTIONS,
         _regression, _REGRESSION_DOMAIN, _SW_VARIANTS, hessian=True, in_torch=False),
    Loss("hinge_loss", "elementwise", {"hinge": {}}, (), _SW, "count", _REDUCTIONS,
         _signed_targets, _SIGNED_DOMAIN, _SW_VARIANTS, in_torch=False, target_values=_SIGNS,
         sklearn_sgd="Hinge"),
    Loss("squared_hinge_loss", "elementwise", {"squared_hinge": {}}, (), _SW, "count",
         _REDUCTIONS, _signed_targets, _SIGNED_DOMAIN, _SW_VARIANTS, hessian=True,
         in_torch=False, target_values=_SIGNS, sklearn_sgd="SquaredHinge"),
    Loss("modified_huber_loss", "elementwise", {"modified_huber": {}}, (), _SW, "count",
         _REDUCTIONS, _signed_targets, _SIGNED_DOMAIN, _SW_VARIANTS, hessian=True,
         in_torch=False, target_values=_SIGNS, sklearn_sgd="ModifiedHuber"),
    Loss("epsilon_insensitive_loss", "elementwise", {"epsilon_insensitive": {}},
         (Param("epsilon", 0.1, NON_NEGATIVE),), _SW, "count", _REDUCTIONS, _regression,
         _REGRESSION_DOMAIN, ({"epsilon": 0.1}, {"epsilon": 1.0, "sample_weight": "rows"}),
         in_torch=False, sklearn_sgd="EpsilonInsensitive"),
    Loss("pinball_loss", "elementwise", {"pinball": {}}, (Param("quantile", 0.5, _QUANTILE),),
         _SW, "count", _REDUCTIONS, _regression, _REGRESSION_DOMAIN,
         ({"quantile": 0.5}, {"quantile": 0.9, "sample_weight": "rows"}), in_torch=False,
         sklearn=("PinballLoss", 1.0)),
    Loss("gamma_nll_loss", "elementwise", {"gamma_log": {}, "gamma": {"log_input": False}},
         (Param("log_input", True, "flag"),), _SW, "count", _REDUCTIONS,
         _means_and_positive_targets, _POSITIVE_DOMAIN,
         ({}, {"log_input": False}, {"sample_weight": "rows"}), in_torch=False,
         sklearn=("HalfGammaLoss", 1.0), hessian=True),
    Loss("tweedie_loss", "elementwise", {"tweedie_log": {}, "tweedie": {"log_input": False}},
         (Param("power", 1.5, _POWER), Param("log_input", True, "flag")), _SW, "count",
         _REDUCTIONS, _means_and_positive_targets, _POSITIVE_DOMAIN,
         ({}, {"power": 1.0}, {"power": 2.0}, {"power": 0.0}, {"power": -1.5},
          {"power": 3.0, "log_input": False},
          {"power": 1.0, "log_input": False}, {"power": 2.0, "log_input": False},
          {"power": 1.5, "log_input": False, "sample_weight": "rows"}), in_torch=False,
         sklearn=("HalfTweedieLoss", 1.0), hessian=True),
)

# the row-wise losses of torch.nn.functional beyond cross_entropy and nll_loss
_ROWS += (
    # p = 2 runs its own kernel (the squared hinge); the kernels' parameter is the margin
    Loss("multi_margin_loss", "rows", {"multi_margin": {}, "multi_margin_sq": {"p": 2}},
         (Param("p", 1, Choice((1, 2))), Param("margin", 1.0, REAL)),
         ("weight", "sample_weight"), "count", _REDUCTIONS, _class_logits,
         ((-60.0, 60.0), (0.0, 1.0)),
         ({}, {"weight": "full"}, {"p": 2, "margin": 0.5}), hessian=True),
    Loss("multilabel_soft_margin_loss", "target_rows",
         {"multilabel_soft_margin": {}}, (), ("weight", "sample_weight"), "count",
         _REDUCTIONS, _logits, ((-60.0, 60.0), (0.0, 1.0)), ({}, {"weight": "full"}),
         hessian=True),
)


def _class_index_rows(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """(N, C) logits and rows of class indices, PyTorch's multilabel_margin_loss target:
    each row lists 0 to 3 distinct classes (at most C - 1, so a row has non-targets), then -1
    and, past it, indices that do not count."""
    x, _ = _class_logits(rng, shape, dtype)
    n, c = shape
    y = rng.integers(-1, c, shape)
    lengths = rng.integers(0, min(3, c - 1) + 1, n)
    for i, k in enumerate(lengths):
        y[i, :k] = rng.permutation(c)[:k]
        if k < c:
            y[i, k] = -1
    return x, y


# the losses of rows whose target is a row of class indices
_ROWS += (
    Loss("multilabel_margin_loss", "label_rows", {"multilabel_margin": {}}, (),
         ("sample_weight",), "count", _REDUCTIONS, _class_index_rows,
         ((-60.0, 60.0), (0.0, 1.0)), ({},), hessian=True),
)


def _embedding_pairs(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                     ) -> Tuple[np.ndarray, ...]:
    """Two (N, D) embeddings and targets 1 / -1 (int64): cosine_embedding_loss's inputs; some
    second rows near the first, so that both signs of the hinge occur."""
    a = rng.normal(0.0, 1.0, shape)
    b = np.where(rng.uniform(size=shape[:-1] + (1,)) < 0.5, a, 0.0) + rng.normal(0.0, 1.0, shape)
    y = np.where(rng.uniform(size=shape[:-1]) < 0.5, 1, -1)
    return a.astype(dtype), b.astype(dtype), y


def _triplets(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
              ) -> Tuple[np.ndarray, ...]:
    """Anchors, positives near them and negatives, (N, D) each: triplet_margin_loss's
    inputs, the hinge active on part of the rows."""
    a = rng.normal(0.0, 1.0, shape)
    scale = 1.0 / np.sqrt(max(shape[-1], 1))
    return (a.astype(dtype), (a + rng.normal(0.0, scale, shape)).astype(dtype),
            (a + rng.normal(0.0, 1.5 * scale, shape)).astype(dtype))


# the losses of rows of several float inputs (the gradient: one per float input)
_ROWS += (
    Loss("cosine_embedding_loss", "input_rows", {"cosine_embedding": {}},
         (Param("margin", 0.0, REAL),), ("sample_weight",), "count", _REDUCTIONS,
         _embedding_pairs, ((-1e3, 1e3), (-1.0, 1.0)), ({}, {"margin": 0.3}),
         inputs=("input1", "input2"), row_target=True),
    Loss("triplet_margin_loss", "input_rows", {"triplet_margin": {}},
         (Param("margin", 1.0, POSITIVE), Param("p", 2.0, Interval(1.0, float("inf"))),
          Param("eps", 1e-6, REAL), Param("swap", False, "flag")),
         ("sample_weight",), "count", _REDUCTIONS, _triplets, ((-1e3, 1e3), (-1e3, 1e3)),
         ({}, {"p": 1.0, "swap": True}, {"p": 3.0, "margin": 0.5}),
         inputs=("anchor", "positive", "negative")),
)

def _ranked_pairs(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                  ) -> Tuple[np.ndarray, ...]:
    """Two scores and targets of -1 and 1: margin_ranking_loss's inputs, some pairs tied
    (the hinge at its kink with margin 0)."""
    x1 = rng.normal(0.0, 1.0, shape)
    x2 = np.where(rng.uniform(size=shape) < 0.1, x1, rng.normal(0.0, 1.0, shape))
    y = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    return x1.astype(dtype), x2.astype(dtype), y.astype(dtype)


def _gaussian_samples(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any
                      ) -> Tuple[np.ndarray, ...]:
    """Means, samples near them and positive variances of one shape: gaussian_nll_loss's
    inputs."""
    mean = rng.normal(0.0, 2.0, shape)
    var = rng.uniform(0.05, 3.0, shape)
    return (mean.astype(dtype), (mean + rng.normal(0.0, 1.0, shape)).astype(dtype),
            var.astype(dtype))


# the elementwise losses of two differentiated inputs (the gradient: a tuple of both);
# gaussian_nll_loss's variants "var": the shape var takes ("full": the input's; "last": the
# input's without its last axis; "keep": with a last axis of 1; "scalar": a Python float)
_ROWS += (
    Loss("margin_ranking_loss", "elementwise_inputs", {"margin_ranking": {}},
         (Param("margin", 0.0, REAL),), _SW, "count", _REDUCTIONS, _ranked_pairs,
         ((-1e3, 1e3), (-1.0, 1.0)),
         ({}, {"margin": 0.5}, {"margin": -0.3, "sample_weight": "rows"}),
         inputs=("input1", "input2"), arrays=("input1", "input2", "target")),
    Loss("gaussian_nll_loss", "elementwise_inputs", {"gaussian_nll": {}},
         (Param("full", False, "flag"), Param("eps", 1e-6, POSITIVE)), _SW, "count",
         _REDUCTIONS, _gaussian_samples, ((-1e3, 1e3), (-1e3, 1e3)),
         ({}, {"full": True}, {"var": "last"}, {"var": "keep", "full": True},
          {"var": "scalar"}, {"eps": 0.5, "sample_weight": "rows"},
          {"var": "last", "sample_weight": "full"}),
         hessian=True, inputs=("input", "var"), arrays=("input", "target", "var")),
)

# torchvision's sigmoid_focal_loss: its default reduction is "none"; its alpha weighting
# (off for alpha < 0) is a weight of each element the Python layer passes the kernel
_ROWS += (
    Loss("sigmoid_focal_loss", "elementwise", {"sigmoid_focal": {}},
         (Param("alpha", 0.25, REAL), Param("gamma", 2.0, NON_NEGATIVE)), _SW, "count",
         ("none", "mean", "sum"), _logits, ((-60.0, 60.0), (0.0, 1.0)),
         ({}, {"alpha": -1.0}, {"gamma": 0.0}, {"alpha": 0.5, "gamma": 0.5},
          {"gamma": 1.0, "sample_weight": "rows"}, {"alpha": 0.75, "sample_weight": "full"}),
         hessian=True, in_torch=False),
)

#: every loss, by its public name, in the order of the documentation
LOSSES: Dict[str, Loss] = {row.name: row for row in _ROWS}

#: the public functions of fastloss.losses (and of fastloss.reference.losses)
PUBLIC_NAMES = [f for row in _ROWS for f in row.functions]
