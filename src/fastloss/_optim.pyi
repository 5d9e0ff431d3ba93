# Type stubs for the compiled module fastloss._optim (see _optim.pyx).
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

#: the update rules' names, indexed by their C code; their state-array counts
UPDATE_RULES: Tuple[str, ...]
UPDATE_RULE_STATES: Tuple[int, ...]
#: each rule's struct fields: (name, is a flag), in the struct's order
UPDATE_RULE_FIELDS: Tuple[Tuple[Tuple[str, bool], ...], ...]
MAX_STEP: int

class Hyper:
    rule: int
    def __init__(self, rule: int, fields: Mapping[str, Any]) -> None: ...
    def fields(self) -> Dict[str, Any]: ...

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

# The functional updates' fast path: True when the update ran, False (nothing changed) when
# the arguments need the checked path.
def sgd_fast(param: Any, grad: Any, momentum_buffer: Any, first_step: Any, lr: Any,
             momentum: Any, dampening: Any, weight_decay: Any, nesterov: Any, maximize: Any,
             threshold: int, get_threads: Callable[[], int]) -> bool: ...
def adagrad_fast(param: Any, grad: Any, state_sum: Any, step: Any, lr: Any, lr_decay: Any,
                 weight_decay: Any, eps: Any, maximize: Any, threshold: int,
                 get_threads: Callable[[], int]) -> bool: ...
def rmsprop_fast(param: Any, grad: Any, square_avg: Any, grad_avg: Any, momentum_buffer: Any,
                 lr: Any, alpha: Any, eps: Any, weight_decay: Any, momentum: Any,
                 centered: Any, maximize: Any, threshold: int,
                 get_threads: Callable[[], int]) -> bool: ...
def adam_fast(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any,
              step: Any, lr: Any, betas: Any, eps: Any, weight_decay: Any, amsgrad: Any,
              maximize: Any, decoupled: bool, threshold: int,
              get_threads: Callable[[], int]) -> bool: ...
