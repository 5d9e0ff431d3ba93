"""The optimizer base class: torch.optim's param_groups, state, step and checkpoints.

The classes themselves (SGD, Adam, ...) are in their rules' modules (:mod:`fastloss.optim.sgd`,
``.adagrad``, ``.rmsprop``, ``.adam``, each beside its functional update, as in torch.optim),
collected in :mod:`fastloss.optim.optimizers`.

An optimizer holds a list of NumPy arrays (the parameters, updated in place) in
``param_groups`` -- a list of dicts, each with the key ``"params"`` (its arrays) and that
group's hyper-parameters (``"lr"`` and the rest), exactly the shape PyTorch uses, so code that
reads and writes ``group["lr"]`` for each group (learning-rate schedulers) works unchanged.
``opt.step(grads)`` takes the gradients as a list matching the parameters in group order
(``None`` skips a parameter, as a missing ``.grad`` does in PyTorch).

Differences from PyTorch, forced by NumPy: arrays are unhashable, so ``opt.state`` is keyed by
the parameter's position (0, 1, ... over all groups in order, the numbering PyTorch's
``state_dict`` uses) rather than by the array; ``state["step"]`` is a Python int, not a
tensor. Every argument of ``step`` (each gradient's shape and dtype, each group's
hyper-parameters, the state arrays) is checked before any array changes.

A step is all or nothing, also under Ctrl-C (a KeyboardInterrupt is raised once the step
it interrupted is applied and recorded) and on the NumPy backend under
``np.errstate(all="raise")`` (floating-point state never raises, as in the kernels). An
optimizer may be stepped from several threads: steps, ``add_param_group``, ``state_dict``
and ``load_state_dict`` take a lock, so they run one at a time and no step is lost (unlike
torch.optim, which is not thread-safe).
"""

from __future__ import annotations

import copy
import functools
import operator
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from fastloss import _atomic, _backend, _config, _optim
from fastloss._validation import NON_NEGATIVE, check_real, reject_masked
from fastloss.optim import _update as F
from fastloss.optim._rule import StateArray, UpdateRule
from fastloss.optim._update import Update, _check_array

__all__ = ["Optimizer"]

#: what an optimizer takes, as torch.optim does: arrays, (name, array) pairs (torch 2.x
#: ``named_parameters()``), or param-group dicts whose "params" is either of those
Params = Union[Iterable[np.ndarray], Iterable[Tuple[str, np.ndarray]],
               Iterable[Dict[str, Any]]]
State = Dict[str, Any]
#: a group's hyper-parameters as StepPlan takes them: (the kernel's struct, the state entry
#: names of the kernel's state arrays in its order, None where the kernel takes NULL)
FastSpec = Tuple[_optim.Hyper, Tuple[Optional[str], ...]]


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    """The method, run holding the optimizer's lock (see Optimizer.step)."""
    @functools.wraps(method)
    def locked(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


def _immutable(value: Any) -> bool:
    """Whether ``value`` cannot change without being replaced (so identity means equality)."""
    if value is None or type(value) in (float, int, bool) or isinstance(value, np.generic):
        return True
    return type(value) is tuple and all(_immutable(v) for v in value)


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``, ``state_dict``.

    Subclasses define ``_hyper(group)`` (check a group's hyper-parameters, return them
    normalized) and ``_prepare(param, grad, state, hyper)`` (check one update and return it
    unrun, with the parameter's state as it will be after the step): the checked path.
    The built-in optimizers set ``_rule`` instead, their row in
    :mod:`fastloss.optim._registry`, from which these methods, the state's names and
    ``_fast_spec(hyper)`` are derived; the last lets ``step`` run the common case (state
    already created, arrays as the kernels want them, hyper-parameters unchanged since they
    were last checked) in one compiled call, ``_optim.StepPlan``, which declines anything
    else to the checked path. A subclass that overrides any of these methods gets the
    checked path only.
    """

    #: names of the state entries that are arrays of the parameter's shape and dtype
    #: (derived from ``_rule`` when a class sets it), and of those that are 0-d arrays of
    #: its dtype (``StateArray.scalar``)
    _state_arrays: Tuple[str, ...] = ()
    _state_scalars: Tuple[str, ...] = ()
    #: the update rule of this class's steps (None: a subclass defining its own methods)
    _rule: Optional[UpdateRule] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        rule = vars(cls).get("_rule")
        if rule is not None and "_state_arrays" not in vars(cls):
            cls._state_arrays = tuple(spec.name for spec in rule.state if not spec.scalar)
            cls._state_scalars = tuple(spec.name for spec in rule.state if spec.scalar)

    def __init__(self, params: Params, defaults: Dict[str, Any]) -> None:
        """``params``: as ``torch.optim``'s -- an iterable of arrays, of ``(name, array)``
        pairs (``named_parameters()``), or of param-group dicts (see ``add_param_group``)."""
        self._lock = _optim.StepLock()  # one step (or checkpoint) at a time
        self.defaults: Dict[str, Any] = dict(defaults)
        self.param_groups: List[Dict[str, Any]] = []
        self.state: Dict[int, State] = {}
        self._specs: List[Any] = []
        self._plan = self._make_plan()
        if isinstance(params, np.ndarray):
            raise TypeError("params must be a list of arrays or of dicts (param groups), "
                            "got one ndarray; pass [param]")
        _reject_dict_of_params(params, "params")
        try:
            items: List[Any] = list(params)
        except TypeError:
            raise TypeError("params must be a list of arrays, of (name, array) pairs or of "
                            f"dicts (param groups), got {type(params).__name__}") from None
        if not items:
            raise ValueError("optimizer got an empty parameter list")
        if all(isinstance(p, dict) for p in items):
            groups = items
        elif any(isinstance(p, dict) for p in items):
            raise TypeError("params must be all arrays or all dicts (param groups), not a mix")
        else:
            groups = [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    # ---- groups and parameters ----------------------------------------------------------

    @_serialized
    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a group: a dict with ``"params"`` and hyper-parameters overriding the defaults.

        ``"params"`` is an array or an iterable of arrays or of ``(name, array)`` pairs, as
        in ``torch.optim``: with names the group gets ``"param_names"`` (the names, in
        order, also saved by ``state_dict``). Every parameter of every group has a name or
        none has (ValueError otherwise, as PyTorch). Stricter than PyTorch: a name must be a
        ``str`` and a pair exactly two items (PyTorch takes any tuple's first item as the
        name, so ``[(w, b)]`` would silently optimize ``b`` alone); a dict as ``"params"``
        is a TypeError saying what to pass instead (PyTorch fails on its first key).
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        _reject_dict_of_params(params, "param_group['params']")
        if (isinstance(params, tuple) and len(params) == 2 and isinstance(params[0], str)
                and isinstance(params[1], np.ndarray)):
            raise TypeError("param_group['params'] is one (name, array) pair: pass "
                            "[(name, array)]")
        try:
            params = [params] if isinstance(params, np.ndarray) else list(params)
        except TypeError:
            raise TypeError("param_group['params'] must be an array or a list of arrays or of "
                            f"(name, array) pairs, got {type(params).__name__}") from None
        if not params:
            raise ValueError("param_group has an empty 'params' list")
        names = _split_names(params)
        if names is None and "param_names" in param_group:
            # unnamed arrays with the names beside them: kept, as PyTorch keeps them
            names = _checked_names(param_group["param_names"], len(params),
                                   "param_group['param_names']")
        for i, p in enumerate(params):
            self._check_param(p, f"params[{i}]")
        if self.param_groups and ("param_names" in self.param_groups[0]) != (names is not None):
            raise ValueError("all optimizer param groups should be with/without names: cannot "
                             f"add a param group {'with' if names else 'without'} names to an "
                             f"optimizer whose groups have {'none' if names else 'them'}")
        known = {id(p) for group in self.param_groups for p in group["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or known.intersection(ids):
            raise ValueError("some parameters appear more than once (in one or several groups)")
        group = {k: v for k, v in param_group.items() if k not in ("params", "param_names")}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._hyper(group)
        start = sum(len(g["params"]) for g in self.param_groups)
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        self.param_groups.append(group)
        for i, p in enumerate(params):
            self._init_state(start + i, p, group)

    def _check_param(self, param: Any, name: str) -> None:
        """A parameter this optimizer can update in place (Muon's are also 2-D), or an error,
        before its group is added."""
        _check_array(param, name)

    def _init_state(self, index: int, param: np.ndarray, group: Dict[str, Any]) -> None:
        """State created with the parameter (PyTorch creates most state lazily, at step 1)."""

    def _params(self) -> List[np.ndarray]:
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The learning rate of every group (an error if the groups differ); settable."""
        lrs = {float(group["lr"]) for group in self.param_groups}
        if len(lrs) != 1:
            raise ValueError(f"the parameter groups have different learning rates {sorted(lrs)};"
                             " read them from param_groups")
        return lrs.pop()

    @lr.setter
    def lr(self, value: float) -> None:
        lr = check_real(value, "lr", NON_NEGATIVE)
        for group in self.param_groups:
            group["lr"] = lr

    # ---- the step -------------------------------------------------------------------------

    def step(self, grads: Sequence[Optional[np.ndarray]]) -> None:
        """Update every parameter in place from its gradient (``None`` skips one).

        ``grads`` matches the parameters over all groups in order. Everything is checked
        first; on an error no array and no state has changed. A step is applied whole:
        every parameter and its state, or (on an error, or a Ctrl-C before it starts)
        nothing; a KeyboardInterrupt arriving during a step is raised once it is done.
        Steps from several threads are serialized (each sees the state the previous one
        left), as are ``state_dict``, ``load_state_dict`` and ``add_param_group``; calling
        one of them from inside a step (a signal handler run mid-step) raises
        ``RuntimeError``.
        """
        # The common case (same hyper-parameters as last step, every array as the kernels
        # want it) runs in one compiled call that takes the lock, checks the arrays itself
        # and records the state in the same call; a group's hyper-parameters are checked
        # again only when one of its values is replaced. Anything else, and every error,
        # goes through the checked path, under the lock; a Ctrl-C meanwhile is raised once
        # the lock is released, so that its handler may save a checkpoint.
        plan = self._plan
        if plan is not None and _backend.get_backend() == "c":
            ran = plan.run(self._lock, self.param_groups, self._specs, grads, self.state,
                           _config.THREADING_THRESHOLD, _config.large_call_threads)
            if ran == _optim.REFRESH_HYPER and self._refresh_specs():
                ran = plan.run(self._lock, self.param_groups, self._specs, grads, self.state,
                               _config.THREADING_THRESHOLD, _config.large_call_threads, True)
            if ran == _optim.RAN:
                return
        with _atomic.deferred_interrupt(), self._lock:
            self._checked_step(grads)

    def _checked_step(self, grads: Sequence[Optional[np.ndarray]]) -> None:
        params = self._params()
        if isinstance(grads, (np.ndarray, str, bytes)):
            raise TypeError("grads must be a list of arrays, one per parameter")
        try:
            grads = list(grads)
        except TypeError:
            raise TypeError("grads must be a list of arrays, one per parameter, got "
                            f"{type(grads).__name__}") from None
        if len(grads) != len(params):
            raise ValueError(f"grads has {len(grads)} entries, expected {len(params)} "
                             "(one per parameter, None to skip one)")
        plans: List[Tuple[int, Update, State]] = []
        index = 0
        for number, group in enumerate(self.param_groups):
            try:
                hyper = self._hyper(group)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"param_groups[{number}]: {exc}") from None
            for p in group["params"]:
                g = grads[index]
                if g is not None:
                    try:
                        run, new_state = self._prepare(p, g, self.state.get(index), hyper)
                    except (TypeError, ValueError) as exc:
                        raise type(exc)(f"parameter {index}: {exc}") from None
                    plans.append((index, run, new_state))
                index += 1
        # every parameter and its state, or none (step defers Ctrl-C); floating-point state
        # never raises (the kernels' semantics, on the NumPy backend too)
        with np.errstate(all="ignore"):
            for _, run, _ in plans:
                run()
            for index, _, new_state in plans:
                self.state[index] = new_state

    def _hyper(self, group: Dict[str, Any]) -> Any:
        """The group's hyper-parameters checked against the row (``_update._check``)."""
        if self._rule is None:
            raise NotImplementedError
        return F._check(self._rule, group, for_class=True)

    def _fast_spec(self, hyper: Any) -> FastSpec:
        """``_hyper``'s result as ``StepPlan`` takes it: the kernel's struct, filled by
        field name, and the state arrays the kernel uses."""
        rule = self._rule
        assert rule is not None
        return (_optim.Hyper(rule.code, hyper),
                tuple(spec.name if spec.when is None or spec.when(hyper) else None
                      for spec in rule.state))

    def _new_plan(self) -> Optional[Any]:
        """The compiled fast path of this class's steps: a StepPlan of its row (a class
        with its own kernel, Adafactor, overrides this, ``_hyper``, ``_prepare`` and
        ``_fast_spec`` together), None without one."""
        rule = self._rule
        return None if rule is None else _optim.StepPlan(rule.code, rule.counts_steps)

    def _make_plan(self) -> Optional[Any]:
        """``_new_plan()``, unless a subclass changed how steps are checked or prepared
        after the class that set ``_rule`` or ``_new_plan``."""
        cls = type(self)
        owner = next((c for c in cls.__mro__ if "_rule" in vars(c) or "_new_plan" in vars(c)),
                     Optimizer)
        if owner is Optimizer or any(
                getattr(cls, name) is not getattr(owner, name)
                for name in ("_hyper", "_prepare", "_fast_spec", "_checked_step", "_new_plan")):
            return None
        return self._new_plan()

    def _refresh_specs(self) -> bool:
        """Check every group's hyper-parameters for the fast path; False on any problem
        (the checked path then reports it)."""
        keys = tuple(self.defaults)
        specs = []
        for group in self.param_groups:
            if type(group) is not dict:
                return False
            try:
                values = tuple(group[key] for key in keys)
                spec = self._fast_spec(self._hyper(group))
            except (KeyError, TypeError, ValueError):
                return False
            # values None: an entry could change in place (a list), so check every step
            specs.append((group, keys, values if _immutable(values) else None) + spec)
        self._specs = specs
        return True

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        del state["_plan"], state["_specs"]  # compiled, and rebuilt on demand
        del state["_lock"]
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = _optim.StepLock()
        self._specs = []
        self._plan = self._make_plan()

    def _prepare(self, param: np.ndarray, grad: Any, state: Optional[State],
                 hyper: Any) -> Tuple[Update, State]:
        """The update of one parameter, checked and unrun, and its state after the step:
        the row's state arrays created where missing (PyTorch creates them lazily, at the
        parameter's first step), the step count advanced."""
        rule = self._rule
        if rule is None:
            raise NotImplementedError
        new = dict(state) if state else {}
        if rule.counts_steps:
            new["step"] = _next_step(new)
        first_step = False
        arrays = []
        for spec in rule.state:
            a = new.get(spec.name)
            if a is None and (spec.when is None or spec.when(hyper)):
                a = _new_state_array(spec, param, hyper)
                first_step = first_step or spec.init == "first_grad"
                new[spec.name] = a
            arrays.append(a)
        return F._prepare(rule, param, grad, tuple(arrays), hyper, None,
                          step=new.get("step", 0), first_step=first_step), new

    # ---- checkpoints ------------------------------------------------------------------------

    @_serialized
    def state_dict(self) -> Dict[str, Any]:
        """``{"state": {index: {name: array or number}}, "param_groups": [...]}``, deep copies.

        Groups hold their hyper-parameters, ``"params"`` as parameter indices (not the
        arrays: 0, 1, ... over all groups in order, the keys of ``"state"``) and, for named
        parameters, ``"param_names"``, as in PyTorch; the result is picklable and unaffected
        by later steps.
        """
        groups = []
        start = 0
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(saved)
        state = {index: {k: copy.deepcopy(v) for k, v in s.items()}
                 for index, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    @_serialized
    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by ``state_dict`` (copied, then checked).

        The optimizer must hold the same number of groups and parameters per group, with the
        saved state's shapes and dtypes; the parameters' values are not part of the state.
        Parameters are matched by position, never by name (as PyTorch): a group's saved
        ``"param_names"`` replace the optimizer's, and a group saved without names keeps the
        optimizer's. On an error nothing changes.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)):
            raise TypeError("state_dict['param_groups'] must be a list of dicts, got "
                            f"{type(saved_groups).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(saved_groups)} parameter groups, "
                             f"expected {len(self.param_groups)}")
        params = self._params()
        position: Dict[Any, int] = {}
        new_groups = []
        start = 0
        for i, (ours, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"param_groups[{i}] must be a dict with a 'params' entry")
            try:
                ids = list(saved["params"])
            except TypeError:
                raise TypeError(f"param_groups[{i}]['params'] must be a list of parameter "
                                f"indices, got {saved['params']!r}") from None
            if len(ids) != len(ours["params"]):
                raise ValueError(f"param_groups[{i}] has {len(ids)} parameters, "
                                 f"expected {len(ours['params'])}")
            for j, saved_id in enumerate(ids):
                position[saved_id] = start + j
            start += len(ids)
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if "param_names" in group:
                group["param_names"] = _checked_names(group["param_names"], len(ids),
                                                      f"param_groups[{i}]['param_names']")
            elif "param_names" in ours:
                group["param_names"] = ours["param_names"]
            for key, value in self.defaults.items():
                group.setdefault(key, value)
            try:
                self._hyper(group)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"param_groups[{i}]: {exc}") from None
            new_groups.append(group)
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise TypeError("state_dict['state'] must be a dict")
        new_state: Dict[int, State] = {}
        for key, entry in saved_state.items():
            if key not in position:
                raise ValueError(f"state_dict['state'] has an entry {key!r} for no parameter")
            index = position[key]
            new_state[index] = self._load_entry(index, params[index], entry)
        for ours, group in zip(self.param_groups, new_groups):
            group["params"] = ours["params"]
            ours.clear()  # in place: schedulers may hold the group dicts
            ours.update(group)
        self.state.clear()
        self.state.update(new_state)

    def _load_entry(self, index: int, param: np.ndarray, entry: Any) -> State:
        where = f"state_dict['state'][{index}]"
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a dict")
        out: State = {}
        for name, value in entry.items():
            if name == "step":
                try:
                    step = operator.index(value)
                except TypeError:
                    raise TypeError(f"{where}['step'] must be an int, got {value!r}") from None
                if not 0 <= step < F.MAX_STEP:
                    raise ValueError(f"{where}['step'] must be in [0, 2**63 - 2], got {step}")
                out[name] = step
            elif name in self._state_arrays:
                reject_masked(value, f"{where}[{name!r}]")
                if not isinstance(value, np.ndarray):
                    raise TypeError(f"{where}[{name!r}] must be a numpy.ndarray")
                if value.shape != param.shape or value.dtype != param.dtype:
                    raise ValueError(f"{where}[{name!r}] has shape {value.shape} and dtype "
                                     f"{value.dtype}; the parameter has {param.shape}, "
                                     f"{param.dtype}")
                out[name] = np.array(value, order="C", copy=True)
            elif name in self._state_scalars:
                # a 0-d array of the parameter's dtype, or a real (torch takes a float)
                if not isinstance(value, np.ndarray):
                    value = np.array(check_real(value, f"{where}[{name!r}]"), param.dtype)
                if value.shape != () or value.dtype != param.dtype:
                    raise ValueError(f"{where}[{name!r}] has shape {value.shape} and dtype "
                                     f"{value.dtype}; expected a 0-d array of the "
                                     f"parameter's dtype {param.dtype}")
                out[name] = np.array(value, copy=True)
            else:
                raise ValueError(f"{where} has an unknown entry {name!r}")
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _reject_dict_of_params(params: Any, name: str) -> None:
    """A dict is not a list of parameters: PyTorch iterates its keys and fails on the first
    one (``optimizer can only optimize Tensors, but one of the params is str``); say what
    to pass instead."""
    if not isinstance(params, dict):
        return
    if "params" in params:  # one param group, not in a list
        raise TypeError(f"{name} must be a list, got a dict with a 'params' entry: pass "
                        f"[{name}] for one param group")
    raise TypeError(f"{name} must be a list of arrays or of (name, array) pairs, got a dict: "
                    f"pass {name}.items() for named parameters or list({name}.values())")


def _split_names(params: List[Any]) -> Optional[List[str]]:
    """Replace ``(name, array)`` pairs in ``params`` by their arrays; return the names, or
    None when no item is a pair (all or none must be, as in PyTorch)."""
    named = [isinstance(p, tuple) for p in params]
    if not any(named):
        return None
    if not all(named):
        raise ValueError("all optimizer params should be with/without names: "
                         f"params[{named.index(False)}] has no name (pass (name, array) pairs "
                         "for all or for none)")
    names = []
    for i, pair in enumerate(params):
        if len(pair) != 2 or not isinstance(pair[0], str):
            got = type(pair[0]).__name__ if len(pair) == 2 else f"a tuple of {len(pair)} items"
            raise TypeError(f"params[{i}] must be an array or a (name, array) pair with a str "
                            f"name, got {got}")
        names.append(pair[0])
        params[i] = pair[1]
    return names


def _checked_names(names: Any, count: int, where: str) -> List[str]:
    """``param_names`` given beside the arrays: a list of ``count`` strs (PyTorch does not
    check them; a wrong one would only surface later, in a checkpoint)."""
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)) or not all(
            isinstance(n, str) for n in names):
        raise TypeError(f"{where} must be a list of str, got {names!r}")
    if len(names) != count:
        raise ValueError(f"{where} has {len(names)} names for {count} parameters")
    return list(names)


def _next_step(state: State) -> int:
    """The parameter's step count after this step (state["step"] may have been edited)."""
    step = state.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"state['step'] must be an int, got {step!r}")
    return F._check_step(int(step) + 1)


def _new_state_array(spec: StateArray, param: np.ndarray, hyper: Any) -> np.ndarray:
    """A state array as its row says it starts (``StateArray.init``)."""
    shape = spec.shape(param)
    if spec.init == "zeros":
        return np.zeros(shape, param.dtype)
    if spec.init == "ones":
        return np.ones(shape, param.dtype)
    if spec.init == "first_grad":  # written whole by the first step
        return np.empty(shape, param.dtype)
    return np.full(shape, hyper[spec.init], param.dtype)
