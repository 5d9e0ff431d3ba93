# Type stubs for the compiled module fastloss._linear (see _linear.pyx).
from typing import Any, Dict, Optional, Tuple

import numpy as np

LOSSES: Dict[str, int]
OPTIMIZERS: Dict[str, int]
SCHEDULES: Dict[str, int]
PENALTIES: Dict[str, int]

def sgd_epoch(X: Optional[np.ndarray], y: Optional[np.ndarray], labels: Optional[np.ndarray],
              coef: np.ndarray, intercept: Optional[np.ndarray],
              s1_coef: Optional[np.ndarray], s1_intercept: Optional[np.ndarray],
              s2_coef: Optional[np.ndarray], s2_intercept: Optional[np.ndarray],
              order: Optional[np.ndarray], sample_weight: Optional[np.ndarray],
              work: np.ndarray, t: int, loss: str, optimizer: str, learning_rate: str,
              lr: float, power_t: float, alpha: float, epsilon: float, momentum: float,
              nesterov: bool, beta1: float, beta2: float, eps: float,
              rho: float, state: Any, weight_sum: float,
              batch_size: int = ..., scaled: bool = ...,
              csr: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]] = ...,
              penalty: str = ..., l1_ratio: float = ..., intercept_decay: float = ...,
              optimal_init: float = ..., average_start: int = ...,
              avg_coef: Optional[np.ndarray] = ..., avg_intercept: Optional[np.ndarray] = ...,
              l1_q: Optional[np.ndarray] = ...,
              row_index: Optional[np.ndarray] = ..., momentum_decay: float = ...,
              decoupled: bool = ...) -> Tuple[float, int]: ...

def objective(X: np.ndarray, y: Optional[np.ndarray], labels: Optional[np.ndarray],
              coef: np.ndarray, intercept: Optional[np.ndarray],
              vec_coef: Optional[np.ndarray], vec_intercept: Optional[np.ndarray],
              sample_weight: Optional[np.ndarray], loss: str, hessp: bool, scale: float,
              alpha: float, epsilon: float, out_coef: np.ndarray,
              out_intercept: Optional[np.ndarray], n_threads: int) -> Tuple[float, int]: ...
