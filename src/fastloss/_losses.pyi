# Type stubs for the compiled module fastloss._losses (see _losses.pyx).
from typing import Any, Dict, FrozenSet, Optional, Tuple

import numpy as np

WANT_SUM: int
WANT_GRAD: int
WANT_ELEMENTS: int
WANT_HESS: int
ELEMENTWISE_LOSSES: Dict[str, int]
ELEMENTWISE_AUX_INPUTS: FrozenSet[str]
ROWWISE_LOSSES: Dict[str, int]

def elementwise(loss: int, x: np.ndarray, y: np.ndarray, w: Optional[np.ndarray],
                aux: Optional[np.ndarray], param: float, grad_scale: float,
                grad: Optional[np.ndarray], hess: Optional[np.ndarray],
                elems: Optional[np.ndarray], want: int, n_threads: int,
                aux_grad: Optional[np.ndarray] = ..., aux_hess: Optional[np.ndarray] = ...
                ) -> float: ...
STRIDED_MAX_CLASSES: int
LABEL_ROW_MAX_CLASSES: int

def cross_entropy_index(logits: np.ndarray, labels: np.ndarray,
                        class_weight: Optional[np.ndarray], ignore_index: int,
                        label_smoothing: float, grad_scale: float, grad: Optional[np.ndarray],
                        elems: Optional[np.ndarray], want: int, n_threads: int,
                        sample_weight: Optional[np.ndarray] = ...,
                        hess: Optional[np.ndarray] = ...) -> Tuple[float, int]: ...
def cross_entropy_prob(logits: np.ndarray, target: np.ndarray,
                       class_weight: Optional[np.ndarray], label_smoothing: float,
                       grad_scale: float, grad: Optional[np.ndarray],
                       elems: Optional[np.ndarray], want: int, n_threads: int,
                       sample_weight: Optional[np.ndarray] = ...,
                       hess: Optional[np.ndarray] = ...) -> float: ...
def rowwise(loss: int, x: np.ndarray, labels: Optional[np.ndarray],
            class_weight: Optional[np.ndarray], ignore_index: int, param: float,
            grad_scale: float, grad: Optional[np.ndarray], elems: Optional[np.ndarray],
            want: int, n_threads: int, sample_weight: Optional[np.ndarray] = ...,
            hess: Optional[np.ndarray] = ...,
            target: Optional[np.ndarray] = ...) -> Tuple[float, int]: ...
ROWWISE_INPUTS: Dict[str, int]
def rowwise_inputs(loss: int, inputs: Tuple[np.ndarray, ...], codes: Optional[np.ndarray],
                   sample_weight: Optional[np.ndarray], param: float,
                   params: Tuple[float, ...], grad_scale: float,
                   grads: Optional[Tuple[np.ndarray, ...]], elems: Optional[np.ndarray],
                   want: int, n_threads: int) -> float: ...
def label_weight_total(labels: np.ndarray, n_classes: int, class_weight: Optional[np.ndarray],
                       ignore_index: int, dtype_is_f64: int,
                       sample_weight: Optional[np.ndarray] = ...) -> Tuple[float, int]: ...
def count_outside(x: np.ndarray, lo: float, hi: float) -> Tuple[int, int]: ...
def count_not_either(x: np.ndarray, a: float, b: float) -> Tuple[int, int]: ...
def ctc(log_probs: np.ndarray, targets: np.ndarray, target_offsets: np.ndarray,
        input_lengths: np.ndarray, target_lengths: np.ndarray, s_max: int, blank: int,
        zero_infinity: bool, grad_scale: Optional[np.ndarray], nll: np.ndarray,
        grad: Optional[np.ndarray], n_threads: int) -> int: ...
def build_facts() -> Dict[str, Any]: ...
