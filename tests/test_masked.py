"""Masked arrays are refused wherever an array argument enters, with one message.

``np.asarray`` drops the mask, so a masked array accepted anywhere has its masked-out
values used as data. Every (function, argument) pair below passes a masked array (whose
masked-out element holds garbage) and expects the same TypeError, before any array changed.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest

import fastloss
from fastloss import linear, models, optim

Arrays = Dict[str, Any]
#: builds fresh arrays, replaces arrays[name] by a masked copy, and returns the call
Case = Tuple[str, str, Callable[[Arrays], Callable[[], Any]], Callable[[], Arrays]]


def message(name: str) -> str:
    return re.escape(f"{name} must not be a masked array (its mask would be ignored); "
                     f"fill it first: {name}.filled(value)")


def masked(a: Any) -> np.ma.MaskedArray:
    """``a`` as a masked array whose first element is masked out and holds garbage."""
    m = np.ma.masked_array(np.array(a, copy=True))
    m.flat[0] = np.ma.masked
    m.data.flat[0] = 7 if m.dtype.kind in "iu" else np.nan
    return m


def snapshot(arrays: Arrays) -> Dict[str, Tuple[bytes, bytes]]:
    out = {}
    for key, a in arrays.items():
        if isinstance(a, np.ndarray):
            mask = np.ma.getmaskarray(a).tobytes() if isinstance(a, np.ma.MaskedArray) else b""
            out[key] = (np.asarray(a).tobytes(), mask)
    return out


CASES: List[Any] = []


def add(func_id: str, names: List[str], build: Callable[[], Arrays],
        call: Callable[[Arrays], Any], label: Callable[[str], str] = lambda n: n) -> None:
    """One case per argument in ``names``; ``label`` maps it to the name in the message."""
    for name in names:
        CASES.append(pytest.param(func_id, name, label(name), build, call,
                                  id=f"{func_id}-{name}"))


# ---- losses ---------------------------------------------------------------------------

def _elementwise_arrays(probabilities: bool) -> Callable[[], Arrays]:
    def build() -> Arrays:
        rng = np.random.default_rng(0)
        x = rng.uniform(0.1, 0.9, (4, 3)) if probabilities else rng.normal(size=(4, 3))
        return {"input": x, "target": rng.uniform(0, 1, (4, 3)),
                "weight": rng.uniform(0.5, 2, (4, 3)), "pos_weight": rng.uniform(0.5, 2, 3),
                "out": np.full((4, 3), -5.0)}
    return build


ELEMENTWISE = {"mse_loss": ["weight"], "l1_loss": ["weight"], "huber_loss": ["weight"],
               "smooth_l1_loss": ["weight"], "binary_cross_entropy": ["weight"],
               "binary_cross_entropy_with_logits": ["weight", "pos_weight"], "kl_div": []}
for _fn, _extras in ELEMENTWISE.items():
    for _form in ("", "_grad", "_value_and_grad"):
        def _call(a: Arrays, fn: str = _fn, form: str = _form,
                  extras: List[str] = _extras) -> Any:
            kwargs = {k: a[k] for k in extras + (["out"] if form else [])}
            return getattr(fastloss, fn + form)(a["input"], a["target"], **kwargs)
        add(_fn + _form, ["input", "target"] + _extras + (["out"] if _form else []),
            _elementwise_arrays(_fn == "binary_cross_entropy"), _call)


def _rows_arrays(probability_target: bool) -> Callable[[], Arrays]:
    def build() -> Arrays:
        rng = np.random.default_rng(1)
        target = rng.dirichlet(np.ones(3), 4) if probability_target else np.array([0, 2, 1, 0])
        return {"input": rng.normal(size=(4, 3)), "target": target,
                "weight": rng.uniform(0.5, 2, 3), "out": np.full((4, 3), -5.0)}
    return build


for _fn, _prob in [("cross_entropy", False), ("cross_entropy", True), ("nll_loss", False)]:
    for _form in ("", "_grad", "_value_and_grad"):
        def _call(a: Arrays, fn: str = _fn + _form, form: str = _form) -> Any:
            kwargs = {"out": a["out"]} if form else {}
            return getattr(fastloss, fn)(a["input"], a["target"], a["weight"], **kwargs)
        add(_fn + _form + ("-probabilities" if _prob else ""),
            ["input", "target", "weight"] + (["out"] if _form else []), _rows_arrays(_prob),
            _call)


# ---- linear ---------------------------------------------------------------------------

def _linear_arrays(loss: str) -> Callable[[], Arrays]:
    def build() -> Arrays:
        rng = np.random.default_rng(2)
        X = rng.normal(size=(6, 3))
        c = 3 if loss == "softmax" else 1
        y = rng.integers(0, c, 6) if loss == "softmax" else rng.normal(size=6)
        coef = np.zeros((3, c)) if loss == "softmax" else np.zeros(3)
        intercept = np.zeros(c)
        sw = rng.uniform(0.5, 2, 6)
        _, state = linear.sgd_epoch(X, y, coef.copy(), intercept.copy(), loss=loss,
                                    optimizer="momentum")
        return {"X": X, "y": y, "coef": coef, "intercept": intercept, "sample_weight": sw,
                "state": state, "state.coef_state[0]": state.coef_state[0],
                "state.intercept_state[0]": state.intercept_state[0]}
    return build


def _sgd_epoch(loss: str) -> Callable[[Arrays], Any]:
    def call(a: Arrays) -> Any:
        st = a["state"]
        st.coef_state = (a["state.coef_state[0]"],)
        st.intercept_state = (a["state.intercept_state[0]"],)
        return linear.sgd_epoch(a["X"], a["y"], a["coef"], a["intercept"], st, loss=loss,
                                optimizer="momentum", sample_weight=a["sample_weight"])
    return call


_LINEAR_ARGS = ["X", "y", "coef", "intercept", "sample_weight"]
for _loss in ("squared_error", "softmax"):
    add(f"sgd_epoch[{_loss}]", _LINEAR_ARGS + ["state.coef_state[0]",
                                               "state.intercept_state[0]"],
        _linear_arrays(_loss), _sgd_epoch(_loss))
    add(f"linear_value_and_grad[{_loss}]", _LINEAR_ARGS, _linear_arrays(_loss),
        lambda a, loss=_loss: linear.linear_value_and_grad(
            a["X"], a["y"], a["coef"], a["intercept"], loss=loss,
            sample_weight=a["sample_weight"]))
add("minibatch_step", ["X", "y"], _linear_arrays("squared_error"),
    lambda a: linear.minibatch_step(optim.SGD([a["coef"], a["intercept"]], lr=0.1), a["X"],
                                    a["y"], a["coef"], a["intercept"]))


# ---- models ---------------------------------------------------------------------------

def _model_arrays(classifier: bool) -> Callable[[], Arrays]:
    def build() -> Arrays:
        rng = np.random.default_rng(3)
        X = rng.normal(size=(20, 3))
        y = rng.integers(0, 3, 20) if classifier else X @ np.array([1.0, -1.0, 0.5])
        cls = models.SoftmaxRegression if classifier else models.LinearRegression
        fitted = cls(optimizer="sgd", max_iter=2, random_state=0).fit(X, y)
        return {"X": X, "y": y, "classes": np.arange(3), "model": fitted,
                "coef_": fitted.coef_, "intercept_": np.atleast_1d(fitted.intercept_)}
    return build


for _classifier in (False, True):
    _name = "SoftmaxRegression" if _classifier else "LinearRegression"
    _build = _model_arrays(_classifier)
    _cls = models.SoftmaxRegression if _classifier else models.LinearRegression
    add(f"{_name}.fit", ["X", "y"], _build,
        lambda a, cls=_cls: cls(optimizer="sgd", max_iter=2).fit(a["X"], a["y"]))
    add(f"{_name}.partial_fit", ["X", "y"], _build,
        lambda a: a["model"].partial_fit(a["X"], a["y"]))
    add(f"{_name}.score", ["X", "y"], _build, lambda a: a["model"].score(a["X"], a["y"]))
    _predictors = ["predict"] + (["predict_proba", "decision_function"] if _classifier else [])
    for _method in _predictors:
        add(f"{_name}.{_method}", ["X"], _build,
            lambda a, m=_method: getattr(a["model"], m)(a["X"]))
add("SoftmaxRegression.partial_fit(classes)", ["classes"], _model_arrays(True),
    lambda a: models.SoftmaxRegression(optimizer="sgd").partial_fit(a["X"], a["y"],
                                                                      classes=a["classes"]))


# ---- optimizers -----------------------------------------------------------------------

def _optim_arrays() -> Arrays:
    rng = np.random.default_rng(4)
    return {k: rng.uniform(0.1, 1, 5) for k in
            ("param", "grad", "momentum_buffer", "state_sum", "square_avg", "grad_avg",
             "exp_avg", "exp_avg_sq", "max_exp_avg_sq")}


add("sgd_update", ["param", "grad", "momentum_buffer"], _optim_arrays,
    lambda a: optim.sgd_update(a["param"], a["grad"], momentum_buffer=a["momentum_buffer"],
                               momentum=0.9))
add("adagrad_update", ["param", "grad", "state_sum"], _optim_arrays,
    lambda a: optim.adagrad_update(a["param"], a["grad"], a["state_sum"], 1))
add("rmsprop_update", ["param", "grad", "square_avg", "grad_avg", "momentum_buffer"],
    _optim_arrays,
    lambda a: optim.rmsprop_update(a["param"], a["grad"], a["square_avg"],
                                   grad_avg=a["grad_avg"], momentum_buffer=a["momentum_buffer"],
                                   centered=True, momentum=0.9))
for _fn in ("adam_update", "adamw_update"):
    add(_fn, ["param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"], _optim_arrays,
        lambda a, fn=_fn: getattr(optim, fn)(a["param"], a["grad"], a["exp_avg"],
                                             a["exp_avg_sq"], 1, amsgrad=True,
                                             max_exp_avg_sq=a["max_exp_avg_sq"]))
add("SGD(params)", ["param"], _optim_arrays, lambda a: optim.SGD([a["param"]]),
    label=lambda n: "params[0]")
add("SGD.step", ["grad"], _optim_arrays,
    lambda a: optim.SGD([a["param"]], lr=0.1).step([a["grad"]]))
add("Adam.step", ["grad"], _optim_arrays,
    lambda a: optim.Adam([a["param"]]).step([a["grad"]]))


def _load_masked_state(a: Arrays) -> None:
    opt = optim.SGD([a["param"].copy()], lr=0.1, momentum=0.9)  # a state to load into
    opt.step([np.ones(5)])
    sd = opt.state_dict()
    sd["state"][0]["momentum_buffer"] = a["momentum_buffer"]
    opt.load_state_dict(sd)


add("SGD.load_state_dict", ["momentum_buffer"], _optim_arrays, _load_masked_state,
    label=lambda n: "state_dict['state'][0]['momentum_buffer']")
add("minimize_cg", ["x0"], lambda: {"x0": np.array([3.0, -1.0])},
    lambda a: optim.minimize_cg(lambda x: (float(x @ x), 2 * x), a["x0"]))


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("func_id, name, label, build, call", CASES)
def test_masked_array_is_rejected(func_id: str, name: str, label: str,
                                  build: Callable[[], Arrays], call: Callable[[Arrays], Any],
                                  backend: str) -> None:
    arrays = build()
    call(arrays)  # the same call with plain arrays is valid
    arrays = build()
    arrays[name] = masked(arrays[name])
    before = snapshot(arrays)
    with fastloss.use_backend(backend):
        with pytest.raises(TypeError, match=message(label)):
            call(arrays)
    assert snapshot(arrays) == before


def test_every_argument_is_covered() -> None:
    # the loss cases cover each loss's three forms and every array argument it takes
    ids = {c.id for c in CASES}
    for fn in list(ELEMENTWISE) + ["cross_entropy", "nll_loss"]:
        for form in ("", "_grad", "_value_and_grad"):
            assert f"{fn}{form}-input" in ids and f"{fn}{form}-target" in ids
            assert (f"{fn}{form}-out" in ids) == bool(form)
