"""fastloss.optim.lr_scheduler against the closed forms and against torch.optim.lr_scheduler."""

from __future__ import annotations

import copy
import math
import pickle
from types import SimpleNamespace
from typing import Any, Callable, Dict, List

import pytest

from fastloss.optim import lr_scheduler
from fastloss.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR

N_STEPS = 50
LRS = [0.1, 0.03]


def _optimizer(lrs: List[float] = LRS) -> SimpleNamespace:
    return SimpleNamespace(param_groups=[{"lr": lr, "momentum": 0.9} for lr in lrs])


# name -> (our constructor, torch kwargs, closed form lr(base_lr, epoch))
CASES: Dict[str, Any] = {
    "StepLR": (lambda o: StepLR(o, step_size=7, gamma=0.5), {"step_size": 7, "gamma": 0.5},
               lambda b, t: b * 0.5 ** (t // 7)),
    "StepLR-default-gamma": (lambda o: StepLR(o, 3), {"step_size": 3},
                             lambda b, t: b * 0.1 ** (t // 3)),
    "ExponentialLR": (lambda o: ExponentialLR(o, gamma=0.9), {"gamma": 0.9},
                      lambda b, t: b * 0.9 ** t),
    "CosineAnnealingLR": (lambda o: CosineAnnealingLR(o, T_max=20, eta_min=1e-3),
                          {"T_max": 20, "eta_min": 1e-3},
                          lambda b, t: 1e-3 + (b - 1e-3) * (1 + math.cos(math.pi * t / 20)) / 2),
    "CosineAnnealingLR-default-eta": (lambda o: CosineAnnealingLR(o, T_max=13), {"T_max": 13},
                                      lambda b, t: b * (1 + math.cos(math.pi * t / 13)) / 2),
}


def _torch_class(name: str) -> str:
    return name.split("-")[0]


def _run(make: Callable[[Any], LRScheduler], n: int = N_STEPS) -> List[List[float]]:
    opt = _optimizer()
    sched = make(opt)
    history = [[g["lr"] for g in opt.param_groups]]
    for _ in range(n):
        sched.step()
        history.append([g["lr"] for g in opt.param_groups])
        assert history[-1] == sched.get_last_lr()
    return history


@pytest.mark.parametrize("name", list(CASES))
def test_closed_form(name: str) -> None:
    make, _, closed = CASES[name]
    opt = _optimizer()
    sched = make(opt)
    # torch's initial step: epoch 0, rates untouched, initial_lr recorded
    assert sched.last_epoch == 0
    assert sched.base_lrs == LRS
    assert [g["initial_lr"] for g in opt.param_groups] == LRS
    assert sched.get_last_lr() == LRS
    for epoch in range(1, N_STEPS + 1):
        sched.step()
        assert sched.last_epoch == epoch
        expected = [closed(b, epoch) for b in LRS]
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(expected, rel=1e-15,
                                                                    abs=1e-18)
        assert all(g["momentum"] == 0.9 for g in opt.param_groups)


def _rates(make: Any, steps: int) -> List[float]:
    """The first group's lr before and after each of ``steps`` steps of ``make(optimizer)``."""
    opt = _optimizer([1.0])
    scheduler = make(opt)
    values = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        scheduler.step()
        values.append(opt.param_groups[0]["lr"])
    return values


def test_hand_values() -> None:
    assert _rates(lambda o: StepLR(o, step_size=2, gamma=0.5), 5) == [
        1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    # down to eta_min at T_max, then back up along the cosine
    assert _rates(lambda o: CosineAnnealingLR(o, T_max=2, eta_min=0.5), 4) == pytest.approx(
        [1.0, 0.75, 0.5, 0.75, 1.0], abs=1e-15)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    make, kwargs, _ = CASES[name]
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    opt = torch.optim.SGD([{"params": [params[0]], "lr": LRS[0]},
                           {"params": [params[1]], "lr": LRS[1]}], lr=LRS[0])
    ref = getattr(torch.optim.lr_scheduler, _torch_class(name))(opt, **kwargs)
    expected = [list(ref.get_last_lr())]
    for _ in range(N_STEPS):
        opt.step()
        ref.step()
        expected.append(list(ref.get_last_lr()))
    ours = _run(make)
    assert len(ours) == len(expected) == N_STEPS + 1
    for got, want in zip(ours, expected):
        # torch updates recursively, we evaluate the closed form: equal to rounding
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_drives_a_torch_optimizer() -> None:
    """Same contract as torch: our scheduler runs on a torch optimizer's param_groups."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    sched = ExponentialLR(opt, gamma=0.5)
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.25 and opt.param_groups[0]["initial_lr"] == 0.5


def test_state_dict_round_trip() -> None:
    opt = _optimizer()
    sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state["last_epoch"] == 4 and state["T_max"] == 10 and state["base_lrs"] == LRS
    state = pickle.loads(pickle.dumps(state))  # plain data
    # a fresh scheduler on a copy of the optimizer continues where the first one was
    opt2 = copy.deepcopy(opt)
    sched2 = CosineAnnealingLR(opt2, T_max=99)
    sched2.load_state_dict(state)
    assert sched2.T_max == 10 and sched2.last_epoch == 4
    for _ in range(6):
        sched.step()
        sched2.step()
        assert opt2.param_groups == opt.param_groups
        assert sched2.get_last_lr() == sched.get_last_lr()
    # the saved dict is a snapshot: stepping did not change it
    assert state["last_epoch"] == 4


def test_resume_with_last_epoch() -> None:
    opt = _optimizer()
    sched = StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(4):
        sched.step()
    lrs = [g["lr"] for g in opt.param_groups]
    resumed = StepLR(opt, step_size=3, gamma=0.5, last_epoch=sched.last_epoch)
    assert resumed.last_epoch == 5 and resumed.base_lrs == LRS
    # epoch 5 of StepLR(3, 0.5) has the rate of epoch 4
    assert [g["lr"] for g in opt.param_groups] == lrs == [b * 0.5 for b in LRS]
    resumed.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([b * 0.25 for b in LRS])


def test_existing_initial_lr_is_kept() -> None:
    opt = SimpleNamespace(param_groups=[{"lr": 0.05, "initial_lr": 0.2}])
    sched = ExponentialLR(opt, gamma=0.5)
    assert sched.base_lrs == [0.2] and opt.param_groups[0]["lr"] == 0.05
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.1


def test_get_last_lr_is_a_copy() -> None:
    sched = StepLR(_optimizer(), 2)
    sched.get_last_lr().append(1.0)
    assert sched.get_last_lr() == LRS


def test_base_class_needs_get_lr() -> None:
    sched = LRScheduler(_optimizer())
    assert sched.last_epoch == 0
    with pytest.raises(NotImplementedError):
        sched.step()


def test_custom_subclass() -> None:
    class Linear(LRScheduler):
        def get_lr(self) -> List[float]:
            return [b * (1 - self.last_epoch / 10) for b in self.base_lrs]

    opt = _optimizer([1.0])
    sched = Linear(opt)
    for _ in range(5):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)


def test_module_exports() -> None:
    # torch's names (test_lr_scheduler_torch.py holds them to torch's __all__)
    assert {"LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"} <= set(
        lr_scheduler.__all__)


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: StepLR(o, 0), ValueError, r"step_size must be an int in \[1, inf\)"),
    (lambda o: StepLR(o, 2.0), TypeError, "step_size must be an int"),
    (lambda o: StepLR(o, True), TypeError, "step_size must be an int"),
    (lambda o: StepLR(o, 2, gamma=0.0), ValueError, r"gamma must be finite and in \(0, inf\)"),
    (lambda o: StepLR(o, 2, gamma="0.1"), TypeError, "gamma must be a real number"),
    (lambda o: ExponentialLR(o, gamma=-0.5), ValueError, r"gamma must be finite and in \(0, inf\)"),
    (lambda o: ExponentialLR(o, gamma=math.inf), ValueError, "gamma must be finite"),
    (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, r"T_max must be an int in \[1, inf\)"),
    (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=math.nan), ValueError,
     "eta_min must be finite"),
    (lambda o: StepLR(o, 2, last_epoch=-2), ValueError,
     r"last_epoch must be an int in \[-1, inf\)"),
    (lambda o: StepLR(o, 2, last_epoch=3), KeyError, "initial_lr"),
    (lambda o: StepLR(SimpleNamespace(), 2), TypeError, "param_groups"),
    (lambda o: StepLR(SimpleNamespace(param_groups=[]), 2), TypeError, "param_groups"),
    (lambda o: StepLR(SimpleNamespace(param_groups=[{"lr": 0.1}, {}]), 2), TypeError,
     r"param_groups\[1\] must be a dict with key 'lr'"),
    (lambda o: StepLR(SimpleNamespace(param_groups=[{"lr": "x"}]), 2), TypeError,
     r"param_groups\[0\]\['lr'\] must be a real number"),
])
def test_bad_input(make: Callable[[Any], Any], exc: type, match: str) -> None:
    opt = _optimizer()
    before = copy.deepcopy(opt.param_groups)
    with pytest.raises(exc, match=match):
        make(opt)
    assert opt.param_groups == before  # nothing written before the error


def test_bad_initial_lr_leaves_groups_untouched() -> None:
    opt = SimpleNamespace(param_groups=[{"lr": 0.1}, {"lr": 0.2, "initial_lr": None}])
    with pytest.raises(TypeError, match=r"param_groups\[1\]\['initial_lr'\]"):
        StepLR(opt, 2)
    assert "initial_lr" not in opt.param_groups[0]


def test_load_state_dict_checks_type() -> None:
    sched = StepLR(_optimizer(), 2)
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        sched.load_state_dict([("last_epoch", 3)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must not contain 'optimizer'"):
        sched.load_state_dict({"optimizer": None})
    assert sched.last_epoch == 0


@pytest.mark.parametrize("name", list(CASES))
def test_resume_continues_the_schedule(name: str) -> None:
    """A scheduler rebuilt with last_epoch=k continues like one that never stopped."""
    make, _, closed = CASES[name]
    cls = type(make(_optimizer()))
    straight = _run(make, 12)
    opt = _optimizer()
    sched = make(opt)
    for _ in range(4):
        sched.step()
    kwargs = {k: v for k, v in vars(sched).items()
              if k in ("step_size", "gamma", "T_max", "eta_min")}
    opt.param_groups[0]["lr"] = 123.0  # whatever the checkpoint held: the schedule rules
    resumed = cls(opt, last_epoch=4, **kwargs)
    assert resumed.last_epoch == 5
    history = [[g["lr"] for g in opt.param_groups]]
    for _ in range(7):
        resumed.step()
        history.append([g["lr"] for g in opt.param_groups])
    assert history == straight[5:]
    assert history[-1] == pytest.approx([closed(b, 12) for b in LRS], rel=1e-15)
