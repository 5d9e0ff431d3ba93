# Type stubs for the compiled module fastloss._optim (see _optim.pyx).
from typing import Optional, Tuple

import numpy as np

def sgd(param: np.ndarray, grad: np.ndarray, momentum_buffer: Optional[np.ndarray], lr: float,
        momentum: float, dampening: float, weight_decay: float, nesterov: bool, maximize: bool,
        first_step: bool, n_threads: int) -> None: ...
def adagrad(param: np.ndarray, grad: np.ndarray, state_sum: np.ndarray, step: float, lr: float,
            lr_decay: float, weight_decay: float, eps: float, maximize: bool,
            n_threads: int) -> None: ...
def rmsprop(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
            grad_avg: Optional[np.ndarray], momentum_buffer: Optional[np.ndarray], lr: float,
            alpha: float, eps: float, weight_decay: float, momentum: float, maximize: bool,
            n_threads: int) -> None: ...
def adam(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
         max_exp_avg_sq: Optional[np.ndarray], step: float, lr: float, beta1: float,
         beta2: float, eps: float, weight_decay: float, decoupled: bool, maximize: bool,
         n_threads: int) -> None: ...
def first_overlap(arrays: Tuple[np.ndarray, ...]) -> Optional[Tuple[int, int]]: ...
