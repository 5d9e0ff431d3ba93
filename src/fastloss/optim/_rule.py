"""What an update rule's row is: the vocabulary of :mod:`fastloss.optim._registry`.

A row (:class:`UpdateRule`) names everything about one update rule: its functional update
(``fastloss.optim.<name>_update``), its NumPy reference (``fastloss.reference.<name>_update``),
its optimizer class (``fastloss.optim.<torch_class>``, with ``torch.optim``'s name), the C
kernel it runs (looked up by name in the compiled rule table, ``_optim.UPDATE_RULES``, so a
row and the C enum cannot drift apart), the hyper-parameters with their constraints
(:mod:`fastloss._validation`) and ``torch.optim``'s defaults, and the state arrays in the
kernel's order with how they are created. Each rule's module declares its rows with
:func:`register` (``fastloss.optim.sgd``: ``RULES["sgd"]``), next to the functional update
and the class; :mod:`fastloss.optim._registry` imports the modules, in the public API's order.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, Interval

__all__ = ["Param", "StateArray", "BenchCase", "UpdateRule", "RULES", "register",
           "FLAG", "LR", "MAXIMIZE"]


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
    """One state array of a parameter's shape and dtype (or, ``scalar``, a 0-d array of its
    dtype), in the kernel's slot order."""

    #: the optimizer's state entry, ``opt.state[i][name]`` (torch.optim's name)
    name: str
    #: the functional update's argument
    argument: str
    #: how the optimizer creates it: "zeros"; "ones"; "first_grad" (allocated, then set to
    #: the gradient by the first step: SGD's momentum buffer, PyTorch's clone); or the name
    #: of the hyper-parameter it is filled with (Adagrad's initial_accumulator_value)
    init: str
    #: kept only when this holds of the checked hyper-parameters (None: always); then the
    #: functional update requires the argument "when <option>" (``option``)
    when: Optional[Callable[[Mapping[str, Any]], bool]] = None
    option: str = ""
    #: one value per parameter array, not per element: a 0-d array of the parameter's
    #: dtype that the kernel reads and writes once per call (C: FL_SCALAR). torch keeps
    #: such state (NAdam's mu_product, ASGD's eta and mu) in 0-d tensors of its default
    #: dtype: the parameter's dtype here is torch's with ``torch.set_default_dtype`` set
    #: to it (float32 parameters: torch's defaults exactly)
    scalar: bool = False

    def shape(self, param: Any) -> Tuple[int, ...]:
        """The array's shape for parameter ``param``."""
        return () if self.scalar else tuple(param.shape)


class BenchCase(NamedTuple):
    """One benchmark case of a rule (``fastloss bench``'s ``optim`` family): a step of the
    class and of ``torch.optim``'s with these hyper-parameters over n parameters."""

    #: the case's name in the reports
    name: str
    #: hyper-parameters besides the row's defaults
    hyper: Mapping[str, Any] = {}
    #: torch.optim-only options (which of its CPU implementations runs: its fastest)
    torch_options: Mapping[str, Any] = {}
    #: the n parameters as this many arrays of n / arrays each (a model's many small layers)
    arrays: int = 1


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
    #: its benchmark cases (none given: one, named after the rule, with the defaults)
    bench: Tuple[BenchCase, ...] = ()
    #: the hyper-parameter values the tests try, a grid per parameter (``lr``: the one rate
    #: they use), each from its plain value to its richest (an option on, a rate non-zero):
    #: the tests take every combination the row's checks accept (``check``), the last of
    #: them as the richest, and derive their torch.optim parity cases, functional calls and
    #: random draws from it (tests/_optim_cases.py); every flag needs both values
    variants: Mapping[str, Tuple[Any, ...]] = {}
    #: the hyper-parameters ``beta`` (a pair's first item) the kernel blends with at::lerp
    #: by weight ``1 - beta``: at a weight of 0.5 or more lerp takes its second formula, which
    #: rounds unlike the NumPy reference's textbook one, so the tests that compare with the
    #: reference bit for bit keep ``beta > 0.5``; ``variants`` tries both sides
    lerp_params: Tuple[str, ...] = ()
    #: torch.optim has ``torch_class`` (the torch parity tests and the benchmarks' torch
    #: peer run it); False for a rule from elsewhere (Lion: its peer is optax)
    in_torch: bool = True

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

#: every registered row by name, in registration order (the public API's order once
#: :mod:`fastloss.optim._registry` has imported the rule modules)
RULES: Dict[str, UpdateRule] = {}


def register(row: UpdateRule) -> UpdateRule:
    """Add ``row`` to :data:`RULES` (its module calls this once, at import) and return it."""
    if row.name in RULES:
        raise ValueError(f"update rule {row.name!r} is registered twice")
    if row.kernel not in _CODES:
        raise ValueError(f"update rule {row.name!r} names kernel {row.kernel!r}, which is not "
                         f"in the C table {_optim.UPDATE_RULES}")
    RULES[row.name] = row
    return row


#: a flag's constraint (a bool), and the parameters every rule spells the same way
FLAG = None
LR = Param("lr", NON_NEGATIVE, 1e-3)
MAXIMIZE = Param("maximize", FLAG, False)
