"""The update rules, one row each: what fastloss.optim's layers are derived from.

A row names everything about one update rule: its functional update
(``fastloss.optim.<name>_update``), its NumPy reference (``fastloss.reference.<name>_update``),
its optimizer class (``fastloss.optim.<torch_class>``, with ``torch.optim``'s name), the C
kernel it runs (looked up by name in the compiled rule table, ``_optim.UPDATE_RULES``, so a
row and the C enum cannot drift apart), the hyper-parameters with their constraints
(:mod:`fastloss._validation`) and ``torch.optim``'s defaults, and the state arrays in the
kernel's order with how they are created. From the rows come the hyper-parameter checks
(``functional._check``), the checked and fast paths' packing of the kernel's struct
(``fl_<kernel>_hyper`` in csrc/optim.h, filled by field name), the optimizers' state and
step plans, and the test matrices (tests/test_optim*.py).

AdamW is Adam's kernel with decoupled weight decay (``fixed={"decoupled": True}``), as in
torch.optim, where ``AdamW`` is ``Adam(decoupled_weight_decay=True)``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT_OPEN, Interval

__all__ = ["Param", "StateArray", "UpdateRule", "RULES"]


class Param(NamedTuple):
    """One hyper-parameter, as torch.optim names it."""

    name: str
    #: an Interval (a finite real in it; each of a pair's items with ``pair``), or None for
    #: a flag (a bool)
    constraint: Optional[Interval]
    #: torch.optim's default (the optimizer class's and the functional update's)
    default: Any
    #: the kernel struct's fields it fills: None for one field of its own name, two for a
    #: pair (betas: beta1, beta2), none for a value only the optimizer class uses
    fields: Optional[Tuple[str, ...]] = None
    #: a pair of reals (betas), each checked against ``constraint``
    pair: bool = False
    #: taken by the optimizer class only, not by the functional update
    class_only: bool = False

    @property
    def kernel_fields(self) -> Tuple[str, ...]:
        return (self.name,) if self.fields is None else self.fields


class StateArray(NamedTuple):
    """One state array of a parameter's shape and dtype, in the kernel's slot order."""

    #: the optimizer's state entry, ``opt.state[i][name]`` (torch.optim's name)
    name: str
    #: the functional update's argument
    argument: str
    #: how the optimizer creates it: "zeros"; "first_grad" (allocated, then set to the
    #: gradient by the first step: SGD's momentum buffer, PyTorch's clone); or the name of
    #: the hyper-parameter it is filled with (Adagrad's initial_accumulator_value)
    init: str
    #: kept only when this holds of the checked hyper-parameters (None: always); then the
    #: functional update requires the argument "when <option>" (``option``)
    when: Optional[Callable[[Mapping[str, Any]], bool]] = None
    option: str = ""


class UpdateRule(NamedTuple):
    """One update rule (see the module docstring)."""

    name: str
    #: the C rule (csrc/optim.h FL_UPDATE_RULES), by its name in ``_optim.UPDATE_RULES``
    kernel: str
    params: Tuple[Param, ...]
    state: Tuple[StateArray, ...]
    #: the optimizer class, as in torch.optim
    torch_class: str
    #: the functional update's arguments besides param, grad, the state and the
    #: hyper-parameters: "step" (the 1-based count after increment) or "first_step"
    arguments: Tuple[str, ...] = ()
    #: the parameters' optimizer state holds a "step" count
    counts_steps: bool = True
    #: kernel fields the rule sets itself (an optimizer-class parameter may override them)
    fixed: Mapping[str, Any] = {}
    #: a check across hyper-parameters, on the checked values (ValueError)
    check: Optional[Callable[[Mapping[str, Any]], None]] = None

    @property
    def code(self) -> int:
        """The kernel's code, ``fl_update_rule`` (its index in ``_optim.UPDATE_RULES``)."""
        return _CODES[self.kernel]

    @property
    def update(self) -> str:
        """The functional update's (and the NumPy reference's) name."""
        return f"{self.name}_update"

    @property
    def functional_params(self) -> Tuple[Param, ...]:
        return tuple(p for p in self.params if not p.class_only)


_CODES: Dict[str, int] = {name: code for code, name in enumerate(_optim.UPDATE_RULES)}


def _check_nesterov(h: Mapping[str, Any]) -> None:
    if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
        raise ValueError("nesterov momentum requires momentum > 0 and dampening == 0")


_FLAG = None
_LR = Param("lr", NON_NEGATIVE, 1e-3)
_MAXIMIZE = Param("maximize", _FLAG, False)
_ADAM_STATE = (
    StateArray("exp_avg", "exp_avg", "zeros"),
    StateArray("exp_avg_sq", "exp_avg_sq", "zeros"),
    StateArray("max_exp_avg_sq", "max_exp_avg_sq", "zeros", lambda h: h["amsgrad"],
               "amsgrad=True"),
)


def _adam_params(weight_decay: float) -> Tuple[Param, ...]:
    return (_LR, Param("betas", UNIT_OPEN, (0.9, 0.999), ("beta1", "beta2"), pair=True),
            Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, weight_decay),
            Param("amsgrad", _FLAG, False), _MAXIMIZE)


_ROWS = (
    UpdateRule(
        "sgd", "sgd",
        (_LR, Param("momentum", NON_NEGATIVE, 0.0), Param("dampening", NON_NEGATIVE, 0.0),
         Param("weight_decay", NON_NEGATIVE, 0.0), Param("nesterov", _FLAG, False), _MAXIMIZE),
        (StateArray("momentum_buffer", "momentum_buffer", "first_grad",
                    lambda h: h["momentum"] != 0, "momentum != 0"),),
        "SGD", arguments=("first_step",), counts_steps=False, check=_check_nesterov),
    UpdateRule(
        "adagrad", "adagrad",
        (Param("lr", NON_NEGATIVE, 1e-2), Param("lr_decay", NON_NEGATIVE, 0.0),
         Param("weight_decay", NON_NEGATIVE, 0.0),
         Param("initial_accumulator_value", NON_NEGATIVE, 0.0, (), class_only=True),
         Param("eps", NON_NEGATIVE, 1e-10), _MAXIMIZE),
        (StateArray("sum", "state_sum", "initial_accumulator_value"),),
        "Adagrad", arguments=("step",)),
    UpdateRule(
        "rmsprop", "rmsprop",
        (Param("lr", NON_NEGATIVE, 1e-2), Param("alpha", NON_NEGATIVE, 0.99),
         Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, 0.0),
         Param("momentum", NON_NEGATIVE, 0.0), Param("centered", _FLAG, False), _MAXIMIZE),
        (StateArray("square_avg", "square_avg", "zeros"),
         StateArray("grad_avg", "grad_avg", "zeros", lambda h: h["centered"], "centered=True"),
         StateArray("momentum_buffer", "momentum_buffer", "zeros", lambda h: h["momentum"] > 0,
                    "momentum > 0")),
        "RMSprop"),
    UpdateRule(
        "adam", "adam",
        _adam_params(0.0) + (Param("decoupled_weight_decay", _FLAG, False, ("decoupled",),
                                   class_only=True),),
        _ADAM_STATE, "Adam", arguments=("step",), fixed={"decoupled": False}),
    UpdateRule("adamw", "adam", _adam_params(1e-2), _ADAM_STATE, "AdamW", arguments=("step",),
               fixed={"decoupled": True}),
)

#: the rows by name, in the order of the public API
RULES: Dict[str, UpdateRule] = {row.name: row for row in _ROWS}
