# Type stubs for the compiled module fastloss._optim (see _optim.pyx).
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

#: the update rules' names, indexed by their C code; their state-array counts
UPDATE_RULES: Tuple[str, ...]
UPDATE_RULE_STATES: Tuple[int, ...]
#: each rule's struct fields: (name, is a flag), in the struct's order
UPDATE_RULE_FIELDS: Tuple[Tuple[Tuple[str, bool], ...], ...]
#: each rule's state arrays' names, in the kernel's order
UPDATE_RULE_STATE_NAMES: Tuple[Tuple[str, ...], ...]
MAX_STEP: int

class Hyper:
    rule: int
    def __init__(self, rule: int, fields: Mapping[str, Any]) -> None: ...
    def fields(self) -> Dict[str, Any]: ...
    def state_used(self) -> Tuple[bool, ...]: ...
    def cross_check_ok(self) -> bool: ...

def update(hyper: Hyper, param: np.ndarray, grad: np.ndarray,
           state: Tuple[Optional[np.ndarray], ...], step: float, first_step: bool,
           n_threads: int) -> None: ...
def first_overlap(arrays: Tuple[np.ndarray, ...]) -> Optional[Tuple[int, int]]: ...

# Optimizer.step's fast path (see StepPlan in _optim.pyx)
RAN: int
RUN_CHECKED: int
REFRESH_HYPER: int

class StepLock:
    def __init__(self) -> None: ...
    def __enter__(self) -> "StepLock": ...
    def __exit__(self, *exc_info: Any) -> bool: ...

class StepPlan:
    def __init__(self, rule: int, counts_steps: bool) -> None: ...
    def run(self, lock: StepLock, groups: List[Dict[str, Any]], specs: List[Any], grads: Any,
            state: Dict[int, Dict[str, Any]], threshold: int, get_threads: Callable[[], int],
            fresh: bool = ...) -> int: ...

# The functional updates' fast path: update_fast returns True when the update ran, False
# (nothing changed) when the arguments need the checked path.
class FastUpdate:
    def __init__(self, rule: int, n_state: int, argument: str,
                 values: Tuple[Tuple[Tuple[str, ...], bool, float, float], ...],
                 fixed: Mapping[str, Any], threshold: int,
                 get_threads: Callable[[], int]) -> None: ...

def update_fast(plan: FastUpdate, param: Any, grad: Any, *args: Any) -> bool: ...  # <= 12 args

def lbfgs_direction(g: np.ndarray, S: np.ndarray, Y: np.ndarray, rho: np.ndarray,
                    rows: np.ndarray, k: int, gamma: float, out: np.ndarray,
                    alpha: np.ndarray) -> None: ...
class AdafactorHyper:
    def __init__(self, lr: float, beta2_decay: float, eps1: Optional[float], eps2: float,
                 d: float, weight_decay: float, maximize: bool) -> None: ...

def adafactor(hyper: AdafactorHyper, param: np.ndarray, grad: np.ndarray,
              row_var: Optional[np.ndarray], col_var: Optional[np.ndarray],
              variance: Optional[np.ndarray], step: float) -> None: ...

# Adafactor.step's fast path: StepPlan's run, on Adafactor's kernel
class AdafactorPlan:
    def __init__(self) -> None: ...
    def run(self, lock: StepLock, groups: List[Dict[str, Any]], specs: List[Any], grads: Any,
            state: Dict[int, Dict[str, Any]], threshold: int, get_threads: Callable[[], int],
            fresh: bool = ...) -> int: ...
# gradient clipping and parameter averaging (grad_utils.h): fused passes over tuples of arrays
NORM_ONE: int
NORM_TWO: int
NORM_POW: int
NORM_MAX: int
AVERAGE_LERP: int
AVERAGE_EMA: int
AVERAGE_MEAN: int

def runs_ok(arrays: Tuple[Optional[np.ndarray], ...], write: bool) -> bool: ...
def runs_norm(arrays: Tuple[Optional[np.ndarray], ...], kind: int, p: float) -> Optional[float]: ...
def runs_scale(arrays: Tuple[Optional[np.ndarray], ...], coef: float) -> bool: ...
def runs_clamp(arrays: Tuple[Optional[np.ndarray], ...], lo: float, hi: float) -> bool: ...
def runs_average(averages: Tuple[np.ndarray, ...], params: Tuple[np.ndarray, ...], kind: int,
                 w: float) -> bool: ...
