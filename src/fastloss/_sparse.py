"""scipy.sparse input without importing scipy: a CSR matrix checked into the arrays a
kernel reads.

A sparse matrix is recognized by duck typing (scipy.sparse's ``format`` attribute and
``tocsr`` method, on the matrix and the array classes alike), so fastloss keeps NumPy as its
only runtime dependency. Only CSR is read in place; other formats are refused with the
conversion to call.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Tuple

import numpy as np

__all__ = ["CsrRows", "is_sparse", "csr_rows", "check_indices"]


class CsrRows(NamedTuple):
    """The checked arrays of a CSR matrix: row ``i`` holds ``data[k]`` at column
    ``indices[k]`` for ``k`` in ``[indptr[i], indptr[i + 1])``."""

    data: np.ndarray      # (nnz,) float32 or float64, C-contiguous
    indices: np.ndarray   # (nnz,) int32 or int64, C-contiguous, each in [0, n_cols)
    indptr: np.ndarray    # (n_rows + 1,) indices' dtype, [0] = 0, non-decreasing, last = nnz
    shape: Tuple[int, int]
    max_row: int          # entries in the longest row
    # False: ``indices`` not yet checked against [0, n_cols) (csr_rows(check_indices=False));
    # a kernel still checks each index as it reads it
    indices_checked: bool = True

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    def arrays(self) -> Tuple[np.ndarray, ...]:
        """The arrays the kernel reads (for the no-overlap checks against written ones)."""
        return self.data, self.indices, self.indptr

    def row(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(column indices, values)`` of row ``i``."""
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[lo:hi], self.data[lo:hi]

    def _entry_rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def matmul(self, W: np.ndarray) -> np.ndarray:
        """``X @ W`` for ``W`` of shape ``(d,)`` or ``(d, c)``, in O(nnz c): each stored
        entry's product summed into its row in float64, returned in ``W``'s dtype."""
        rows, n = self._entry_rows(), self.shape[0]
        cols = W[self.indices]
        if W.ndim == 1:
            return np.bincount(rows, weights=self.data * cols, minlength=n).astype(W.dtype)
        return np.stack([np.bincount(rows, weights=self.data * cols[:, q], minlength=n)
                         for q in range(W.shape[1])], axis=1).astype(W.dtype)

    def rmatmul(self, G: np.ndarray) -> np.ndarray:
        """``X.T @ G`` for ``G`` of shape ``(n,)`` or ``(n, c)``, in O(nnz c) (float64 sums,
        returned in ``G``'s dtype)."""
        rows, d = self._entry_rows(), self.shape[1]
        if G.ndim == 1:
            return np.bincount(self.indices, weights=self.data * G[rows],
                               minlength=d).astype(G.dtype)
        return np.stack([np.bincount(self.indices, weights=self.data * G[rows, q],
                                     minlength=d) for q in range(G.shape[1])],
                        axis=1).astype(G.dtype)


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a scipy.sparse matrix or array (any format), or :class:`CsrRows`."""
    return isinstance(X, CsrRows) or (isinstance(getattr(X, "format", None), str)
                                      and callable(getattr(X, "tocsr", None)))


def _int_array(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D integer array, got dtype {arr.dtype} and shape "
                        f"{arr.shape}")
    return arr


def _check_index_range(indices: np.ndarray, d: int, name: str) -> None:
    # one pass: seen as unsigned, a negative index is larger than any valid one
    if indices.shape[0] and int(indices.view(indices.dtype.str.replace("i", "u")).max()) >= d:
        bad = int(np.argmax((indices < 0) | (indices >= d)))
        raise ValueError(f"{name}.indices[{bad}] = {int(indices[bad])} is outside [0, {d}) "
                         f"(n_features)")


def csr_rows(X: Any, name: str = "X", check_indices: bool = True) -> CsrRows:
    """``X`` (a scipy.sparse CSR matrix or array) checked whole: float32/float64 data, int32
    or int64 indices and indptr of one type (scipy's; otherwise both are converted to
    int64, as are other integer types), ``indptr`` starting at 0,
    non-decreasing and ending at ``nnz``, every index in ``[0, n_cols)``; sorted or not,
    duplicates allowed (they add up, as in scipy). Raises ``TypeError`` for another sparse
    format or dtype, ``ValueError`` for an inconsistent structure. No copy of the data.

    A :class:`CsrRows` comes back as it is, unchecked again: the models check X once per fit
    and pass it to every epoch (a scan of the indices, ~15% of a sparse epoch). The kernels
    still check each index as they read it, so a concurrent write cannot make them read out
    of bounds. ``check_indices=False`` leaves out the scan of the indices (then
    ``indices_checked`` is False): for a caller that lets the kernel find a bad index and
    undoes what the kernel wrote (:func:`fastloss.linear.sgd_epoch`), and then calls this
    again to raise the error."""
    if isinstance(X, CsrRows):
        return X
    if X.format != "csr":
        raise TypeError(f"{name} must be a dense array or a scipy.sparse CSR matrix, got the "
                        f"{X.format!r} format: convert it with {name}.tocsr()")
    shape = tuple(int(s) for s in X.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {shape}")
    n, d = shape
    data = np.asarray(X.data)
    if data.dtype.kind != "f" or data.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name} must hold float32 or float64 values, got dtype {data.dtype}")
    if data.ndim != 1:
        raise ValueError(f"{name}.data must be 1-D, got shape {data.shape}")
    data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("="))
    indices = _int_array(X.indices, f"{name}.indices")
    if indices.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        indices = indices.astype(np.int64)
    indptr = _int_array(X.indptr, f"{name}.indptr")
    if indptr.dtype != indices.dtype:  # the kernels read both in one type (scipy's way)
        indptr, indices = indptr.astype(np.int64), indices.astype(np.int64, copy=False)
    indices, indptr = np.ascontiguousarray(indices), np.ascontiguousarray(indptr)
    nnz = data.shape[0]
    if indices.shape[0] != nnz:
        raise ValueError(f"{name}.indices has {indices.shape[0]} entries, {name}.data {nnz}")
    if indptr.shape[0] != n + 1:
        raise ValueError(f"{name}.indptr must have {n + 1} entries (rows + 1), got "
                         f"{indptr.shape[0]}")
    if indptr[0] != 0 or indptr[-1] != nnz:
        raise ValueError(f"{name}.indptr must start at 0 and end at nnz = {nnz}, got "
                         f"{int(indptr[0])} and {int(indptr[-1])}")
    lengths = np.diff(indptr)
    if n and lengths.min() < 0:
        row = int(np.argmax(lengths < 0))
        raise ValueError(f"{name}.indptr must be non-decreasing, but indptr[{row + 1}] < "
                         f"indptr[{row}]")
    if check_indices:
        _check_index_range(indices, d, name)
    return CsrRows(data, indices, indptr, (n, d), int(lengths.max()) if n else 0,
                   check_indices)


def check_indices(rows: CsrRows, name: str = "X") -> CsrRows:
    """``rows`` with its indices checked against ``[0, n_cols)`` (``ValueError`` naming the
    first bad one): the scan :func:`csr_rows` leaves out with ``check_indices=False``."""
    if rows.indices_checked:
        return rows
    _check_index_range(rows.indices, rows.shape[1], name)
    return rows._replace(indices_checked=True)
