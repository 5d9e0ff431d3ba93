"""fastloss.optim.lr_scheduler against torch.optim.lr_scheduler: the sequence of rates (and
cycled momenta) over the configurations torch's own scheduler tests use, chaining several
schedulers on one optimizer, state_dict round trips mid-run, and bad arguments."""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from typing import Any, Callable, Dict, List, NamedTuple, Sequence

import numpy as np
import pytest

from fastloss.optim import SGD, Adam, lr_scheduler

torch = pytest.importorskip("torch")

LRS = (0.05, 0.5)


class Case(NamedTuple):
    """``make(module, optimizer)`` builds one scheduler or a list of schedulers stepped in
    turn (chaining by hand), with ``module`` either lr_scheduler; ``steps`` is the number of
    steps, or the list of arguments of each step (ReduceLROnPlateau's metrics, a
    CosineAnnealingWarmRestarts epoch)."""

    make: Callable[[Any, Any], Any]
    steps: Any = 40
    optimizer: str = "sgd"


def _plateau_metrics(n: int, seed: int) -> List[float]:
    rng = np.random.default_rng(seed)
    # falling, then flat with noise, then rising: improvements, plateaus and bad epochs
    return [float(v) for v in np.concatenate([np.linspace(10, 5, n // 3),
                                              5 + 0.01 * rng.standard_normal(n // 3),
                                              np.linspace(5, 8, n - 2 * (n // 3))])]


class Halve:
    """A callable object with state, which a state dict keeps (torch's rule for lambdas)."""

    def __init__(self) -> None:
        self.rate = 0.97

    def __call__(self, epoch: int) -> float:
        return self.rate ** epoch


def _exp_range(m: Any, o: Any) -> Any:
    return m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 1.0], step_size_up=5, mode="exp_range",
                      gamma=0.97)


CASES: Dict[str, Case] = {
    # closed forms (torch's test_lr_scheduler configurations)
    "StepLR": Case(lambda m, o: m.StepLR(o, step_size=3, gamma=0.1)),
    "MultiStepLR": Case(lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.1)),
    "MultiStepLR-repeated": Case(lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9])),
    "ConstantLR": Case(lambda m, o: m.ConstantLR(o, factor=1.0 / 2, total_iters=4)),
    "ConstantLR-default": Case(lambda m, o: m.ConstantLR(o)),
    "LinearLR": Case(lambda m, o: m.LinearLR(o, start_factor=1.0 / 2, total_iters=4)),
    "LinearLR-down": Case(lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                                  total_iters=7)),
    "ExponentialLR": Case(lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    "PolynomialLR": Case(lambda m, o: m.PolynomialLR(o, total_iters=4, power=1.0 / 0.9)),
    "PolynomialLR-square": Case(lambda m, o: m.PolynomialLR(o, total_iters=9, power=2.0)),
    "CosineAnnealingLR": Case(lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=1e-3)),
    "LambdaLR": Case(lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e)),
    "LambdaLR-per-group": Case(lambda m, o: m.LambdaLR(o, [lambda e: 0.95 ** e,
                                                          lambda e: 1 / (1 + e)])),
    "MultiplicativeLR": Case(lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95)),
    "MultiplicativeLR-per-group": Case(lambda m, o: m.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 1.0 if e < 5 else 0.8])),
    # several schedulers on one optimizer, stepped in turn (torch's recursive forms compose)
    "chain-Step-Exponential": Case(lambda m, o: [m.StepLR(o, 3, 0.1),
                                                 m.ExponentialLR(o, 0.9)]),
    "chain-MultiStep-Exponential": Case(lambda m, o: [m.MultiStepLR(o, [2, 5, 9]),
                                                      m.ExponentialLR(o, 0.9)]),
    "chain-Cosine-Exponential": Case(lambda m, o: [m.CosineAnnealingLR(o, 10, 1e-3),
                                                   m.ExponentialLR(o, 0.9)]),
    "chain-Constant-Linear-Poly": Case(lambda m, o: [m.ConstantLR(o, 0.5, 3),
                                                     m.LinearLR(o, 0.25, 1.0, 6),
                                                     m.PolynomialLR(o, 12, 0.8)]),
    "chain-Linear-Exponential": Case(lambda m, o: [m.LinearLR(o, 0.2, 1.0, 10),
                                                   m.ExponentialLR(o, 0.95)]),
    # ReduceLROnPlateau with others, built before or after them (torch's compound tests)
    "chain-Step-Plateau": Case(lambda m, o: [m.StepLR(o, 5, 0.5),
                                             m.ReduceLROnPlateau(o, patience=1)],
                               steps=_plateau_metrics(40, 4)),
    "chain-Plateau-Exponential-MultiStep": Case(
        lambda m, o: [m.ReduceLROnPlateau(o, factor=0.5, patience=2, threshold=0.05),
                      m.ExponentialLR(o, 0.97), m.MultiStepLR(o, [8, 20], 0.3)],
        steps=_plateau_metrics(45, 5)),
    "ChainedScheduler": Case(lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.1, 2),
                                                              m.ExponentialLR(o, 0.9)])),
    "ChainedScheduler-Multiplicative": Case(lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, 0.2, 1.0, 5), m.MultiplicativeLR(o, lambda e: 0.97),
         m.CosineAnnealingLR(o, 7, 0.01)])),
    "SequentialLR": Case(lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.1, 2), m.ExponentialLR(o, 0.9)], milestones=[2])),
    "SequentialLR-three": Case(lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, 1.0, 5), m.CosineAnnealingLR(o, 10, 0.01),
            m.StepLR(o, 4, 0.5)], milestones=[5, 15])),
    "SequentialLR-Multiplicative": Case(lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, 3), m.MultiplicativeLR(o, lambda e: 0.9 - 0.01 * e)],
        milestones=[4])),
    "SequentialLR-milestone-0": Case(lambda m, o: m.SequentialLR(
        o, [m.ExponentialLR(o, 0.5), m.StepLR(o, 3, 0.1)], milestones=[0])),
    # cycles, with the optimizer's momentum or Adam's betas[0]
    "CyclicLR-triangular": Case(lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                        step_size_up=4)),
    "CyclicLR-triangular2": Case(lambda m, o: m.CyclicLR(o, 0.01, [0.1, 1.0], 3, 5,
                                                         mode="triangular2")),
    "CyclicLR-exp_range": Case(_exp_range),
    "CyclicLR-exp_range-betas": Case(_exp_range, optimizer="adam"),
    "CyclicLR-scale_fn": Case(lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, 4, scale_fn=lambda x: 0.5 * (1 + math.sin(x)), scale_mode="iterations",
        base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95])),
    "CyclicLR-no-momentum": Case(lambda m, o: m.CyclicLR(o, 0.01, 0.1, 6, 2,
                                                         cycle_momentum=False)),
    "OneCycleLR-cos": Case(lambda m, o: m.OneCycleLR(o, max_lr=[0.1, 1.0], total_steps=25),
                           steps=24),
    "OneCycleLR-linear": Case(lambda m, o: m.OneCycleLR(o, 0.1, epochs=5, steps_per_epoch=5,
                                                        anneal_strategy="linear"), steps=25),
    "OneCycleLR-three-phase": Case(lambda m, o: m.OneCycleLR(
        o, 0.1, total_steps=30, pct_start=0.2, three_phase=True, div_factor=10.0,
        final_div_factor=100.0), steps=29),
    "OneCycleLR-betas": Case(lambda m, o: m.OneCycleLR(o, 0.1, total_steps=20, pct_start=0.4,
                                                       base_momentum=0.8, max_momentum=0.9),
                             steps=20, optimizer="adam"),
    "OneCycleLR-no-momentum": Case(lambda m, o: m.OneCycleLR(o, 0.1, total_steps=12,
                                                             cycle_momentum=False), steps=11),
    "WarmRestarts": Case(lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=1e-3)),
    "WarmRestarts-T_mult": Case(lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, T_mult=2)),
    "WarmRestarts-fractional": Case(lambda m, o: m.CosineAnnealingWarmRestarts(o, 4, 2, 0.01),
                                    steps=[i / 7 for i in range(140)]),
    "WarmRestarts-fractional-T_mult1": Case(
        lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, eta_min=0.02),
        steps=[0.5 * i + 0.1 for i in range(60)]),
    # on a metric
    "Plateau": Case(lambda m, o: m.ReduceLROnPlateau(o, patience=2),
                    steps=_plateau_metrics(60, 0)),
    "Plateau-max-abs-cooldown": Case(lambda m, o: m.ReduceLROnPlateau(
        o, mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs",
        cooldown=2), steps=[-v for v in _plateau_metrics(60, 1)]),
    "Plateau-min-abs-min_lr": Case(lambda m, o: m.ReduceLROnPlateau(
        o, factor=0.5, patience=0, threshold=0.5, threshold_mode="abs", min_lr=[0.01, 0.2]),
        steps=_plateau_metrics(45, 2)),
    "Plateau-max-rel-eps": Case(lambda m, o: m.ReduceLROnPlateau(
        o, mode="max", factor=0.9, patience=3, threshold=0.01, cooldown=1, min_lr=0.04,
        eps=1e-3), steps=_plateau_metrics(60, 3)),
    "Plateau-nan": Case(lambda m, o: m.ReduceLROnPlateau(o, patience=1),
                        steps=[3.0, 2.0, math.nan, math.nan, 1.0, math.inf, math.nan, 0.5]),
}


def _ours(kind: str) -> Any:
    groups = [{"params": [np.zeros(2)], "lr": LRS[0]}, {"params": [np.zeros(3)], "lr": LRS[1]}]
    if kind == "adam":
        return Adam(groups, lr=LRS[0], betas=(0.9, 0.999))
    return SGD(groups, lr=LRS[0], momentum=0.9)


def _torch(kind: str) -> Any:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": LRS[0]},
              {"params": [torch.nn.Parameter(torch.zeros(3))], "lr": LRS[1]}]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=LRS[0], betas=(0.9, 0.999))
    return torch.optim.SGD(groups, lr=LRS[0], momentum=0.9)


def _snapshot(optimizer: Any) -> List[List[float]]:
    """Each group's lr and momentum (or betas[0]), the values a schedule writes."""
    return [[g["lr"], g["betas"][0] if "betas" in g else g["momentum"]]
            for g in optimizer.param_groups]


#: the schedulers whose step takes the case's argument (a metric, an epoch)
STEP_ARGUMENT = ("ReduceLROnPlateau", "CosineAnnealingWarmRestarts")


def _step_all(schedulers: Any, arg: Any) -> None:
    for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
        if arg is None or type(scheduler).__name__ not in STEP_ARGUMENT:
            scheduler.step()
        else:
            scheduler.step(arg)


def _step_args(steps: Any) -> Sequence[Any]:
    return [None] * steps if isinstance(steps, int) else steps


def _trajectory(case: Case, module: Any, optimizer: Any) -> List[List[List[float]]]:
    schedulers = case.make(module, optimizer)
    history = [_snapshot(optimizer)]
    for arg in _step_args(case.steps):
        if module is torch.optim.lr_scheduler:
            optimizer.step()  # torch warns when a scheduler steps first
        _step_all(schedulers, arg)
        history.append(_snapshot(optimizer))
    return history


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name: str) -> None:
    case = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation of step(epoch)
        expected = _trajectory(case, torch.optim.lr_scheduler, _torch(case.optimizer))
    got = _trajectory(case, lr_scheduler, _ours(case.optimizer))
    assert len(got) == len(expected)
    for epoch, (ours, theirs) in enumerate(zip(got, expected)):
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15), (epoch, ours, theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip_mid_run(name: str) -> None:
    """Saved after some steps and loaded into fresh schedulers on a copy of the optimizer,
    the schedule continues exactly as the uninterrupted one."""
    case = CASES[name]
    args = _step_args(case.steps)
    half = len(args) // 2
    optimizer = _ours(case.optimizer)
    schedulers = case.make(lr_scheduler, optimizer)
    for arg in args[:half]:
        _step_all(schedulers, arg)
    saved = pickle.loads(pickle.dumps(
        [s.state_dict() for s in (schedulers if isinstance(schedulers, list) else [schedulers])]))
    groups = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                            for g in optimizer.param_groups])
    copy_ = _ours(case.optimizer)
    # a fresh run up to its construction, then the checkpoint: the optimizer's groups and
    # every scheduler's state
    restored = case.make(lr_scheduler, copy_)
    for group, values in zip(copy_.param_groups, groups):
        group.update(values)
    for scheduler, state in zip(restored if isinstance(restored, list) else [restored], saved):
        scheduler.load_state_dict(state)
    for arg in args[half:]:
        _step_all(schedulers, arg)
        _step_all(restored, arg)
        assert _snapshot(copy_) == _snapshot(optimizer)
    last = restored[-1] if isinstance(restored, list) else restored
    first = schedulers[-1] if isinstance(schedulers, list) else schedulers
    assert last.get_last_lr() == first.get_last_lr()


def test_lambda_object_state_is_saved() -> None:
    """Of a callable object the state dict keeps its attributes, of a function nothing."""
    fn = Halve()
    fn.rate = 0.5
    sched = lr_scheduler.LambdaLR(_ours("sgd"), [fn, lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    other = Halve()
    fresh = lr_scheduler.LambdaLR(_ours("sgd"), [other, lambda e: 1.0])
    fresh.load_state_dict(state)
    assert other.rate == 0.5 and len(fresh.lr_lambdas) == 2


def test_exports_are_torchs() -> None:
    assert set(lr_scheduler.__all__) == set(torch.optim.lr_scheduler.__all__)


def test_chaining_composes_with_a_manual_change() -> None:
    """A manual change of lr persists through later steps, as with torch's recursive form."""
    ours, theirs = _ours("sgd"), _torch("sgd")
    a = lr_scheduler.ExponentialLR(ours, 0.5)
    b = torch.optim.lr_scheduler.ExponentialLR(theirs, 0.5)
    for step in range(6):
        if step == 2:
            for opt in (ours, theirs):
                opt.param_groups[0]["lr"] = 1.0
        theirs.step()
        a.step()
        b.step()
        assert np.allclose(_snapshot(ours), _snapshot(theirs), rtol=1e-12)


def test_onecycle_past_total_steps_changes_nothing() -> None:
    optimizer = _ours("sgd")
    sched = lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    before = _snapshot(optimizer)
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()
    assert _snapshot(optimizer) == before and sched.last_epoch == 3


# ---- bad arguments: ValueError where torch raises ValueError --------------------------------

BAD: Dict[str, Callable[[Any, Any], Any]] = {
    "ConstantLR factor > 1": lambda m, o: m.ConstantLR(o, factor=1.5),
    "LinearLR start 0": lambda m, o: m.LinearLR(o, start_factor=0.0),
    "LinearLR start > 1": lambda m, o: m.LinearLR(o, start_factor=1.1),
    "LinearLR end > 1": lambda m, o: m.LinearLR(o, end_factor=1.5),
    "LinearLR end < 0": lambda m, o: m.LinearLR(o, end_factor=-0.1),
    "LambdaLR count": lambda m, o: m.LambdaLR(o, [lambda e: 1.0]),
    "MultiplicativeLR count": lambda m, o: m.MultiplicativeLR(o, [lambda e: 1.0] * 3),
    "Sequential empty": lambda m, o: m.SequentialLR(o, [], []),
    "Sequential milestones": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], [3]),
    "Sequential plateau": lambda m, o: m.SequentialLR(
        o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)], [3]),
    "Chained empty": lambda m, o: m.ChainedScheduler([]),
    "Chained plateau": lambda m, o: m.ChainedScheduler([m.ReduceLROnPlateau(o)]),
    "Plateau factor 1": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "Plateau mode": lambda m, o: m.ReduceLROnPlateau(o, mode="up"),
    "Plateau threshold_mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"),
    "Plateau min_lr count": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "Cyclic mode": lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="square"),
    "Cyclic base_lr count": lambda m, o: m.CyclicLR(o, [0.01], 0.1),
    "WarmRestarts T_0": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    "WarmRestarts T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, 2, T_mult=0),
    "OneCycle no length": lambda m, o: m.OneCycleLR(o, 0.1),
    "OneCycle total_steps": lambda m, o: m.OneCycleLR(o, 0.1, total_steps=0),
    "OneCycle epochs": lambda m, o: m.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=2),
    "OneCycle pct_start": lambda m, o: m.OneCycleLR(o, 0.1, 10, pct_start=1.5),
    "OneCycle anneal": lambda m, o: m.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"),
    "OneCycle max_lr count": lambda m, o: m.OneCycleLR(o, [0.1] * 3, 10),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_arguments_rejected_like_torch(name: str) -> None:
    make = BAD[name]
    with pytest.raises(ValueError):
        make(torch.optim.lr_scheduler, _torch("sgd"))
    optimizer = _ours("sgd")
    before = copy.deepcopy([{k: v for k, v in g.items() if k != "params"}
                            for g in optimizer.param_groups])
    with pytest.raises(ValueError):
        make(lr_scheduler, optimizer)
    after = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    if not name.startswith(("Sequential", "Chained")):  # the members' own construction writes
        assert after == before


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, "step_size_up"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, scale_fn=3), TypeError, "scale_fn"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, max_momentum=1.5), ValueError,
     "max_momentum"),
    (lambda o: lr_scheduler.OneCycleLR(o, -0.1, 10), ValueError, "max_lr"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, three_phase=1), TypeError, "three_phase"),
    # torch: ZeroDivisionError at the first step (pct_start * total_steps = 1) or the last
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, pct_start=0.1), ValueError, "no steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, pct_start=1.0), ValueError, "no steps"),
    (lambda o: lr_scheduler.MultiStepLR(o, [2, -1]), ValueError, r"milestones\[1\]"),
    (lambda o: lr_scheduler.MultiStepLR(o, 3), TypeError, "milestones"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=0), ValueError, "total_iters"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    (lambda o: lr_scheduler.ChainedScheduler([object()]), TypeError, "LRScheduler"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(_ours("sgd"), 2)], []),
     ValueError, "same optimizer"),
])
def test_bad_arguments_named(make: Callable[[Any], Any], exc: type, match: str) -> None:
    optimizer = _ours("sgd")
    with pytest.raises(exc, match=match):
        make(optimizer)
    assert all("initial_lr" not in g for g in optimizer.param_groups)


def test_cycle_momentum_needs_momentum() -> None:
    from types import SimpleNamespace
    optimizer = SimpleNamespace(param_groups=[{"lr": 0.1}])
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.CyclicLR(optimizer, 0.01, 0.1)
    lr_scheduler.CyclicLR(optimizer, 0.01, 0.1, cycle_momentum=False)  # fine without


def test_plateau_and_warm_restarts_check_step_arguments() -> None:
    optimizer = _ours("sgd")
    plateau = lr_scheduler.ReduceLROnPlateau(optimizer)
    with pytest.raises(TypeError, match="metrics must be a real number"):
        plateau.step("1.0")
    assert plateau.last_epoch == 0
    restarts = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, 3)
    with pytest.raises(ValueError, match="epoch must be finite and in"):
        restarts.step(-1.0)
    assert restarts.last_epoch == 0
