"""fastloss.sgd_epoch's scaled epoch (csrc/linear_scaled_impl.h): scipy.sparse CSR X, the
L1 / elastic-net penalty, averaged SGD, learning_rate="optimal" and intercept_decay.

CSR against the same rows dense, the C kernel against the reference loop
(``reference.plain_sgd_epoch``), and both against scikit-learn's SGDRegressor /
SGDClassifier trajectories; bad CSR input rejected before any write."""

from __future__ import annotations

import itertools
import warnings
import zlib
from typing import Any, Dict, Tuple

import numpy as np
import pytest

import fastloss
from fastloss import _sparse
from fastloss.linear import PLAIN_SGD_LOSSES, EpochState
from fastloss.reference.linear import MARGIN_LOSSES
from _support import make_problem

sp = pytest.importorskip("scipy.sparse")

SINGLE_OUTPUT = ("squared_error", "absolute", "huber", "logistic") + PLAIN_SGD_LOSSES


def sparse_problem(rng: np.random.Generator, loss: str, n: int, d: int, dtype: Any,
                   density: float = 0.3) -> Tuple[np.ndarray, np.ndarray]:
    """A dense X with most entries zero (a row or two entirely), and its targets (in
    {-1, 1} for the margin losses)."""
    margin = loss in MARGIN_LOSSES
    X, y, _ = make_problem(rng, "logistic" if margin else loss, n, d, dtype)
    if margin:
        y = 2 * y - 1
    X[rng.random(X.shape) > density] = 0
    X[1] = 0  # an empty row
    return X, y


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a64 - b64).max() / max(np.abs(b64).max(), 1e-300))


def run(X: Any, y: np.ndarray, dtype: Any, backend: str = "c", **kw: Any
        ) -> Tuple[np.ndarray, np.ndarray, EpochState, float]:
    d = X.shape[1]
    coef, b = np.zeros(d, dtype), np.zeros(1, dtype)
    with fastloss.use_backend(backend):
        mean, st = fastloss.sgd_epoch(X, y, coef, b, **kw)
    return coef, b, st, mean


#: features of the scaled epoch; each is run with its CSR and dense forms compared
FEATURES: Dict[str, Dict[str, Any]] = {
    "l2": dict(alpha=0.01),
    "l2_invscaling_weights": dict(alpha=0.01, learning_rate="invscaling", lr=0.05,
                                  weights=True),
    "average": dict(alpha=0.001, average=True),
    "average_from_40": dict(alpha=0.001, average=40, shuffle=True, seed=3),
    "optimal_decay": dict(alpha=0.01, learning_rate="optimal", intercept_decay=0.1),
}


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("loss", SINGLE_OUTPUT)
def test_csr_equals_dense(loss: str, feature: str, dtype: Any) -> None:
    """The same rows as CSR (O(nnz) per sample, scaled weights, lazy average and L1) and
    dense give the same coef, intercept, average and loss: 1e-12 (float64), 2e-5 (float32).
    With only L2 the dense run is the plain dense kernel (no scaled vector at all). (An L1
    part is applied lazily on CSR: test_l1_is_lazy_on_csr.)"""
    rng = np.random.default_rng(zlib.crc32(f"{loss}-{feature}".encode()))
    X, y = sparse_problem(rng, loss, 80, 7, dtype)
    kw = dict(FEATURES[feature])
    if kw.pop("weights", False):
        kw["sample_weight"] = rng.uniform(0, 2, size=len(y))
    kw.setdefault("lr", 0.05)
    kw["n_epochs"] = 3
    tol = 1e-12 if np.dtype(dtype) == np.float64 else 2e-5
    cd, bd, sd, md = run(X, y, dtype, **kw)
    cs, bs, ss, ms = run(sp.csr_matrix(X), y, dtype, **kw)
    assert rel_err(cs, cd) < tol and rel_err(bs, bd) < tol
    assert ms == pytest.approx(md, rel=tol) and ss.t == sd.t == 3 * len(y)
    if kw.get("average"):
        assert rel_err(ss.average_coef, sd.average_coef) < tol
        assert rel_err(ss.average_intercept, sd.average_intercept) < tol


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_is_lazy_on_csr(penalty: str) -> None:
    """On CSR a feature's share of the L1 penalty is applied when a row next visits it,
    after that row's gradient step (as scikit-learn does on sparse input); on dense rows
    every feature is visited every sample. The truncation at 0 makes the two trajectories
    differ, a little, for both L1 and elastic net; each matches scikit-learn on its input
    form (test_matches_sklearn_sgdregressor)."""
    rng = np.random.default_rng(5)
    X, y = sparse_problem(rng, "squared_error", 80, 7, np.float64)
    kw = dict(lr=0.05, alpha=0.05, penalty=penalty, l1_ratio=0.5, n_epochs=3)
    cd = run(X, y, np.float64, **kw)[0]
    cs = run(sp.csr_matrix(X), y, np.float64, **kw)[0]
    assert 1e-6 < rel_err(cs, cd) < 0.1


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_kernel_matches_reference(penalty: str, dtype: Any) -> None:
    """The C scaled epoch equals reference.plain_sgd_epoch (plain per-sample arithmetic:
    the shrink applied to every weight, the average as the running mean of the iterates),
    dense and CSR, with averaging, weights, shuffling and two calls (the state resumed)."""
    rng = np.random.default_rng(11)
    X, y = sparse_problem(rng, "huber", 60, 6, dtype)
    sw = rng.uniform(0, 2, size=len(y))
    kw = dict(lr=0.05, alpha=0.02, penalty=penalty, l1_ratio=0.4, average=20,
              sample_weight=sw, shuffle=True, seed=2, epsilon=0.5, intercept_decay=0.5)
    tol = 1e-11 if np.dtype(dtype) == np.float64 else 1e-4
    for Xin in (X, sp.csr_matrix(X)):
        out = {}
        for backend in ("c", "numpy"):
            coef, b = np.zeros(6, dtype), np.zeros(1, dtype)
            with fastloss.use_backend(backend):
                _, st = fastloss.sgd_epoch(Xin, y, coef, b, loss="huber", **kw)
                mean, st = fastloss.sgd_epoch(Xin, y, coef, b, st, loss="huber", **kw)
            out[backend] = (coef, b, st, mean)
        (cc, bc, sc, mc), (cr, br, sr, mr) = out["c"], out["numpy"]
        assert rel_err(cc, cr) < tol and rel_err(bc, br) < tol
        assert rel_err(sc.average_coef, sr.average_coef) < tol
        assert rel_err(sc.average_intercept, sr.average_intercept) < tol
        assert mc == pytest.approx(mr, rel=tol) and sc.t == sr.t == 2 * len(y)
        if penalty != "l2":
            assert sc.l1_u == pytest.approx(sr.l1_u, rel=1e-12)
            assert rel_err(sc.l1_q, sr.l1_q) < tol


@pytest.mark.parametrize("loss", PLAIN_SGD_LOSSES)
def test_sklearn_losses_match_reference(loss: str, dtype: Any) -> None:
    """scikit-learn's SGD losses: the C epoch (loss1 in linear_rules.h) equals the reference
    loop (reference.linear.loss1), dense and CSR, with weights and an L1 part."""
    rng = np.random.default_rng(12)
    X, y = sparse_problem(rng, loss, 60, 6, dtype)
    kw = dict(loss=loss, lr=0.05, alpha=0.01, penalty="elasticnet", epsilon=0.2,
              sample_weight=rng.uniform(0, 2, size=len(y)), n_epochs=2)
    tol = 1e-11 if np.dtype(dtype) == np.float64 else 1e-4
    for Xin in (X, sp.csr_matrix(X)):
        c, b, st, mean = run(Xin, y, dtype, **kw)
        cr, br, sr, mr = run(Xin, y, dtype, backend="numpy", **kw)
        assert rel_err(c, cr) < tol and rel_err(b, br) < tol
        assert mean == pytest.approx(mr, rel=tol)


def test_margin_losses_need_plus_minus_one_targets() -> None:
    coef, b = np.zeros(2), np.zeros(1)
    with pytest.raises(ValueError, match=r"y must hold -1 or 1 for loss='hinge', found 0\.0 at"):
        fastloss.sgd_epoch(np.eye(2), np.array([1.0, 0.0]), coef, b, loss="hinge")
    with pytest.raises(ValueError, match="loss='modified_huber' needs per-sample plain SGD"):
        fastloss.sgd_epoch(np.eye(2), np.array([1.0, -1.0]), coef, b, loss="modified_huber",
                           optimizer="adam")
    assert (coef == 0).all() and (b == 0).all()


def test_resume_equals_one_call() -> None:
    """Two calls of one epoch equal one call of two (average, L1 record, t all carried)."""
    rng = np.random.default_rng(4)
    X, y = sparse_problem(rng, "squared_error", 50, 5, np.float64)
    Xs = sp.csr_matrix(X)
    kw = dict(lr=0.05, alpha=0.02, penalty="elasticnet", average=True)
    c1, b1, s1, _ = run(Xs, y, np.float64, n_epochs=2, **kw)
    c2, b2 = np.zeros(5), np.zeros(1)
    _, s2 = fastloss.sgd_epoch(Xs, y, c2, b2, **kw)
    fastloss.sgd_epoch(Xs, y, c2, b2, s2, **kw)
    for a, e in [(c2, c1), (b2, b1), (s2.average_coef, s1.average_coef),
                 (s2.l1_q, s1.l1_q)]:
        assert rel_err(a, e) < 1e-13
    assert s2.t == s1.t and s2.l1_u == pytest.approx(s1.l1_u, rel=1e-14)


# ---- the CSR forms ------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("loss", SINGLE_OUTPUT)
def test_nan_or_inf_in_X_is_not_dropped(loss: str, bad: float) -> None:
    """A NaN in X makes the epoch's loss and the weights NaN (an inf: the loss and its
    feature's weight non-finite), on CSR and dense X, in the kernel and the reference, for
    every loss: the margin and epsilon-insensitive losses too (they once dropped such a
    sample, as if its loss were 0, and returned finite weights)."""
    rng = np.random.default_rng(12)
    X, y = sparse_problem(rng, loss, 12, 4, np.float64)
    X[5, 2] = bad
    for form in (X, sp.csr_matrix(X)):
        for backend in ("c", "numpy"):
            coef, b, _, mean = run(form, y, np.float64, backend, loss=loss, alpha=0.01)
            where = (loss, backend, type(form).__name__)
            assert not np.isfinite(mean) and not np.isfinite(coef[2]), where
            if np.isnan(bad):  # (an inf leaves b finite where dl/dz is bounded)
                assert np.isnan(mean) and np.isnan(coef[2]) and np.isnan(b).all(), where


def test_index_dtypes_unsorted_and_duplicates() -> None:
    """int32 and int64 indices (indptr of the same or another integer type), indices
    unsorted within rows, duplicate entries (which add
    up, as in scipy) and an already checked matrix (a CsrRows) all give the canonical
    matrix's trajectory."""
    rng = np.random.default_rng(8)
    X, y = sparse_problem(rng, "logistic", 70, 9, np.float64)
    kw = dict(loss="logistic", lr=0.1, alpha=0.01, average=True, n_epochs=2)
    ref = run(sp.csr_matrix(X), y, np.float64, **kw)
    A = sp.csr_matrix(X)
    forms = {}
    A64 = A.copy()
    A64.indices, A64.indptr = A.indices.astype(np.int64), A.indptr.astype(np.int64)
    forms["int64"] = A64
    for ind, ptr in [(np.int32, np.int64), (np.int64, np.int32), (np.uint16, np.int32)]:
        mixed = A.copy()  # index types scipy does not make: read as int64
        mixed.indices, mixed.indptr = A.indices.astype(ind), A.indptr.astype(ptr)
        forms[f"indices {np.dtype(ind)}, indptr {np.dtype(ptr)}"] = mixed
        rows = _sparse.csr_rows(mixed)
        assert rows.indices.dtype == rows.indptr.dtype == np.int64
    assert _sparse.csr_rows(A).indptr.dtype == np.int32  # scipy's own: read in place
    perm_data, perm_ind = A.data.copy(), A.indices.copy()
    for i in range(A.shape[0]):  # reverse each row's entries
        lo, hi = A.indptr[i], A.indptr[i + 1]
        perm_data[lo:hi], perm_ind[lo:hi] = A.data[lo:hi][::-1], A.indices[lo:hi][::-1]
    forms["unsorted"] = sp.csr_matrix((perm_data, perm_ind, A.indptr), shape=A.shape)
    # each entry split in two halves at the same column
    halves = [(np.r_[A.data[lo:hi], A.data[lo:hi]] / 2, np.r_[A.indices[lo:hi], A.indices[lo:hi]])
              for lo, hi in zip(A.indptr[:-1], A.indptr[1:])]
    dup = sp.csr_matrix((np.concatenate([h[0] for h in halves]),
                         np.concatenate([h[1] for h in halves]), 2 * A.indptr), shape=A.shape)
    assert not dup.has_canonical_format and dup.nnz == 2 * A.nnz
    forms["duplicates"] = dup
    forms["csr_array"] = sp.csr_array(X)
    # the models' form: checked once (csr_rows), then passed as it is
    forms["checked"] = _sparse.csr_rows(A)
    assert _sparse.csr_rows(forms["checked"]) is forms["checked"]
    for name, M in forms.items():
        got = run(M, y, np.float64, **kw)
        assert rel_err(got[0], ref[0]) < 1e-12, name
        assert rel_err(got[2].average_coef, ref[2].average_coef) < 1e-12, name


def test_empty_matrix_and_empty_rows() -> None:
    X = sp.csr_matrix((5, 4))
    coef, b = np.ones(4), np.zeros(1)
    mean, st = fastloss.sgd_epoch(X, np.ones(5), coef, b, lr=0.1, alpha=0.1)
    # every row empty: z = b, coef only shrinks (scaled vector materialized at the end)
    expected = np.prod([1 - 0.1 * 0.1] * 5)
    np.testing.assert_allclose(coef, np.full(4, expected), rtol=1e-14)
    assert st.t == 5 and b[0] > 0
    coef, b = np.zeros(4), np.zeros(1)
    mean, st = fastloss.sgd_epoch(sp.csr_matrix((0, 4)), np.zeros(0), coef, b)
    assert np.isnan(mean) and st.t == 0


def _csr(data: Any, indices: Any, indptr: Any, shape: Tuple[int, int]) -> Any:
    """A CSR matrix holding exactly these arrays (scipy checks nothing on this path)."""
    M = sp.csr_matrix(shape)
    M.data, M.indices, M.indptr = (np.asarray(data), np.asarray(indices),
                                   np.asarray(indptr))
    return M


BAD_CSR = [
    (_csr([1.0, 2.0], [0, 5], [0, 1, 2], (2, 3)), ValueError, r"indices\[1\] = 5"),
    (_csr([1.0, 2.0], [0, -1], [0, 1, 2], (2, 3)), ValueError, r"indices\[1\] = -1"),
    (_csr([1.0, 2.0], [0, 1], [0, 2, 1, 2], (3, 3)), ValueError, "non-decreasing"),
    (_csr([1.0, 2.0], [0, 1], [0, 1], (2, 3)), ValueError, "3 entries"),
    (_csr([1.0, 2.0], [0, 1], [1, 1, 2], (2, 3)), ValueError, "start at 0"),
    (_csr([1.0, 2.0], [0, 1], [0, 1, 3], (2, 3)), ValueError, "end at nnz"),
    (_csr([1.0, 2.0], [0], [0, 1, 2], (2, 3)), ValueError, "indices has 1"),
    (_csr([1, 2], [0, 1], [0, 1, 2], (2, 3)), TypeError, "float32 or float64"),
    (_csr([1.0, 2.0], [0.0, 1.0], [0, 1, 2], (2, 3)), TypeError, "integer array"),
]


@pytest.mark.parametrize("X,error,match", BAD_CSR)
def test_bad_csr_rejected_before_any_write(X: Any, error: type, match: str) -> None:
    coef, b = np.ones(3), np.ones(1)
    with pytest.raises(error, match=match):
        fastloss.sgd_epoch(X, np.ones(2), coef, b, alpha=0.1, average=True)
    assert (coef == 1).all() and (b == 1).all()


def _long_csr(bad_row: int, bad_value: int, index_dtype: Any) -> Any:
    """60 rows of 3 features, 3 entries a row (the indices outweigh coef and the state,
    so sgd_epoch lets the kernel check them and undoes the epoch), one index replaced."""
    rng = np.random.default_rng(5)
    indices = np.tile(np.arange(3), 60).astype(index_dtype)
    indices[3 * bad_row + 1] = bad_value
    return _csr(rng.random(180), indices, np.arange(61) * 3, (60, 3)), 3 * bad_row + 1


@pytest.mark.parametrize("bad_row,bad_value,index_dtype", [
    (59, 3, np.int32), (0, -1, np.int64), (30, 2**40, np.int64), (17, -2**31, np.int32)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_bad_index_found_by_the_kernel_undoes_the_epoch(bad_row: int, bad_value: int,
                                                        index_dtype: Any, shuffle: bool,
                                                        monkeypatch: Any) -> None:
    X, at = _long_csr(bad_row, bad_value, index_dtype)

    def no_scan(rows: Any, name: str = "X") -> Any:
        raise AssertionError("the indices were scanned before the epoch")

    monkeypatch.setattr(_sparse, "check_indices", no_scan)  # the kernel must find it
    kw = dict(alpha=0.01, penalty="elasticnet", average=10, shuffle=shuffle, seed=4,
              intercept_decay=0.01)
    good = X.copy()
    good.indices = np.tile(np.arange(3), 60).astype(index_dtype)
    coef, b = np.zeros(3), np.zeros(1)
    _, st = fastloss.sgd_epoch(good, np.ones(60), coef, b, **kw)  # a state with everything
    saved = (coef.copy(), b.copy(), st.t, st.epochs, list(st.losses), st.seed, st.l1_u,
             st.average_coef.copy(), st.average_intercept.copy(), st.l1_q.copy())
    with pytest.raises(ValueError, match=rf"X.indices\[{at}\] = {bad_value} is outside"):
        fastloss.sgd_epoch(X, np.ones(60), coef, b, st, n_epochs=2, **kw)
    after = (coef, b, st.t, st.epochs, st.losses, st.seed, st.l1_u, st.average_coef,
             st.average_intercept, st.l1_q)
    for was, now in zip(saved, after):
        np.testing.assert_array_equal(now, was)
    # a fresh state comes back to nothing either
    coef, b = np.ones(3), np.ones(1)
    with pytest.raises(ValueError, match=rf"X.indices\[{at}\]"):
        fastloss.sgd_epoch(X, np.ones(60), coef, b, **kw)
    assert (coef == 1).all() and (b == 1).all()


def test_state_fields_added_by_the_call_are_undone() -> None:
    """A state without the average or the L1 record gets them from the call; an undone
    epoch takes them away again."""
    X, _ = _long_csr(40, 7, np.int32)
    coef, b = np.zeros(3), np.zeros(1)
    _, st = fastloss.sgd_epoch(sp.csr_matrix(np.ones((2, 3))), np.ones(2), coef, b)
    with pytest.raises(ValueError, match="is outside"):
        fastloss.sgd_epoch(X, np.ones(60), coef, b, st, penalty="l1", alpha=0.1, average=50)
    assert st.average_coef is None and st.average_intercept is None and st.l1_q is None
    assert st.t == 2 and st.epochs == 1 and len(st.losses) == 1


@pytest.mark.parametrize("kw,error,match", [
    (dict(optimizer="adam"), ValueError, "scipy.sparse X needs per-sample plain SGD"),
    (dict(batch_size=4), ValueError, "batch_size=4"),
    (dict(fmt="csc"), TypeError, r"X.tocsr\(\)"),
    (dict(penalty="l1", optimizer="momentum", dense=True), ValueError,
     "penalty='l1' needs per-sample plain SGD"),
    (dict(average=True, batch_size=2, dense=True), ValueError, "average needs"),
    (dict(learning_rate="optimal", dense=True), ValueError, "needs alpha > 0"),
    (dict(average=-1), ValueError, "average must be an int in"),
    (dict(average=1.5), TypeError, "average must be a bool or an int"),
    (dict(penalty="l3"), ValueError, "penalty must be one of"),
    (dict(l1_ratio=1.5, penalty="elasticnet"), ValueError, "l1_ratio"),
    (dict(intercept_decay=0.0), ValueError, "intercept_decay"),
])
def test_unsupported_combinations(kw: Dict[str, Any], error: type, match: str) -> None:
    X = np.eye(3)
    fmt, dense = kw.pop("fmt", "csr"), kw.pop("dense", False)
    Xin = X if dense else sp.csr_matrix(X).asformat(fmt)
    coef, b = np.ones(3), np.ones(1)
    with pytest.raises(error, match=match):
        fastloss.sgd_epoch(Xin, np.ones(3), coef, b, **kw)
    assert (coef == 1).all() and (b == 1).all()


def test_softmax_epoch_refuses_sparse() -> None:
    Xs = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match="not loss='softmax'"):
        fastloss.sgd_epoch(Xs, np.arange(3), np.zeros((3, 3)), np.zeros(3), loss="softmax")


@pytest.mark.parametrize("loss", fastloss.linear.LOSSES)
def test_value_and_grad_csr_equals_dense(loss: str, dtype: Any) -> None:
    """linear_value_and_grad on CSR X (O(nnz) products over the stored entries) equals the
    fused dense kernel on the same rows, weighted, with L2 and empty rows; and on both
    backends."""
    rng = np.random.default_rng(zlib.crc32(loss.encode()))
    X, y, shape = make_problem(rng, loss, 40, 5, dtype)
    X[rng.random(X.shape) > 0.4] = 0
    X[3] = 0
    coef = rng.normal(size=shape).astype(dtype)
    b = rng.normal(size=shape[1] if len(shape) == 2 else 1).astype(dtype)
    kw = dict(loss=loss, alpha=0.1, epsilon=0.5, sample_weight=rng.uniform(0, 2, size=40))
    tol = 1e-13 if np.dtype(dtype) == np.float64 else 1e-5
    want = fastloss.linear_value_and_grad(X, y, coef, b, **kw)
    for backend in ("c", "numpy"):
        with fastloss.use_backend(backend):
            got = fastloss.linear_value_and_grad(sp.csr_matrix(X), y, coef, b, **kw)
        assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype
        assert float(got[0]) == pytest.approx(float(want[0]), rel=tol)
        assert rel_err(got[1], want[1]) < tol and rel_err(got[2], want[2]) < tol


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("loss", fastloss.linear.HESSP_LOSSES)
def test_hessp_csr_equals_dense(loss: str, intercept: bool, dtype: Any) -> None:
    """linear_hessp on CSR X (O(nnz) products, the loss kernels' second derivatives)
    equals the fused dense kernel on the same rows to rounding: weighted, with L2, an empty
    row and an all-zero column; and on both backends."""
    rng = np.random.default_rng(zlib.crc32(("hessp" + loss).encode()))
    X, y, shape = make_problem(rng, loss, 60, 6, dtype)
    X[rng.random(X.shape) > 0.4] = 0
    X[3] = 0
    X[:, 4] = 0
    coef = (0.5 * rng.normal(size=shape)).astype(dtype)
    b = rng.normal(size=shape[1] if len(shape) == 2 else 1).astype(dtype)
    v, vb = rng.normal(size=coef.shape).astype(dtype), rng.normal(size=b.shape).astype(dtype)
    b_, vb_ = (b, vb) if intercept else (None, None)
    kw = dict(loss=loss, alpha=0.1, power=1.7, sample_weight=rng.uniform(0, 2, size=60))
    tol = 1e-12 if np.dtype(dtype) == np.float64 else 2e-5
    want = fastloss.linear_hessp(X, y, coef, b_, v, vb_, **kw)
    for backend in ("c", "numpy"):
        for csr in (sp.csr_matrix(X), sp.csr_array(X)):
            with fastloss.use_backend(backend):
                got = fastloss.linear_hessp(csr, y, coef, b_, v, vb_, **kw)
            assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
            assert rel_err(got[0], want[0]) < tol
            if intercept:
                assert got[1] is not None and got[1].dtype == want[1].dtype
                assert got[1].shape == b.shape and rel_err(got[1], want[1]) < tol
            else:
                assert got[1] is None
    # the all-zero column gets only the penalty's share
    np.testing.assert_allclose(want[0][4], dtype.type(0.1) * v[4], rtol=1e-6)


def test_hessp_csr_empty_and_unweighted(dtype: Any) -> None:
    """No rows: the penalty alone; no stored entries: the intercept's curvature alone."""
    coef, b = np.ones(3, dtype), np.zeros(1, dtype)
    h, hb = fastloss.linear_hessp(sp.csr_matrix((0, 3), dtype=dtype), np.zeros(0), coef, b,
                                  coef, b, loss="poisson", alpha=2.0)
    np.testing.assert_array_equal(h, 2 * coef)
    np.testing.assert_array_equal(hb, np.zeros(1, dtype))
    # all-zero X: z = b = 0, poisson's l'' = exp(0) = 1, u = vb = 1: Hv_b = mean(1) = 1
    Xs = sp.csr_matrix((5, 3), dtype=dtype)
    h, hb = fastloss.linear_hessp(Xs, np.ones(5), coef, b, coef, np.ones(1, dtype),
                                  loss="poisson")
    np.testing.assert_array_equal(h, np.zeros(3, dtype))
    np.testing.assert_allclose(hb, [1.0])


def test_hessp_csr_bad_input_raises() -> None:
    Xs = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match="y must be >= 0"):
        fastloss.linear_hessp(Xs, -np.ones(3), np.zeros(3), np.zeros(1), np.zeros(3),
                              np.zeros(1), loss="poisson")
    with pytest.raises(TypeError, match="vec_coef"):
        fastloss.linear_hessp(Xs, np.ones(3), np.zeros(3), np.zeros(1),
                              np.zeros(3, np.float32), np.zeros(1), loss="squared_error")
    with pytest.raises(TypeError):
        fastloss.linear_hessp(Xs.tocoo(), np.ones(3), np.zeros(3), np.zeros(1),
                              np.zeros(3), np.zeros(1), loss="squared_error")


def test_state_without_average_cannot_resume_averaging() -> None:
    X, y = np.eye(3), np.ones(3)
    coef, b = np.zeros(3), np.zeros(1)
    _, st = fastloss.sgd_epoch(X, y, coef, b)
    with pytest.raises(ValueError, match="state has no average"):
        fastloss.sgd_epoch(X, y, coef, b, st, average=True)
    # averaging from a later update starts fresh zero averages
    _, st = fastloss.sgd_epoch(X, y, coef, b, st, average=st.t + 1)
    assert st.average_coef is not None and st.t == 6


def test_weights_shrink_below_the_rescale_threshold() -> None:
    """eta alpha = 0.5: the scale halves every sample and is multiplied into the weights
    when it falls below 1e-9 (every ~30 samples), and at eta alpha >= 1 the weights are
    zeroed (the clamp): CSR, dense and the reference agree. To 1e-8: near the threshold the
    stored vectors are ~1e9 times the weights, and the lazy average's terms cancel."""
    rng = np.random.default_rng(9)
    X, y = sparse_problem(rng, "squared_error", 200, 6, np.float64, density=0.5)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    for lr, alpha in [(0.5, 1.0), (1.0, 2.0)]:
        kw = dict(lr=lr, alpha=alpha, average=True, n_epochs=2)
        ref = run(X, y, np.float64, backend="numpy", **kw)
        for Xin in (X, sp.csr_matrix(X)):
            got = run(Xin, y, np.float64, **kw)
            assert np.isfinite(got[0]).all()
            assert rel_err(got[0], ref[0]) < 1e-8
            assert rel_err(got[2].average_coef, ref[2].average_coef) < 1e-8


# ---- against scikit-learn -----------------------------------------------------------------

def _sklearn_fit(model: Any, X: Any, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached on purpose
        return model.fit(X, y)


SK_SETTINGS = list(itertools.product(
    ["l2", "l1", "elasticnet"],
    [("constant", 0.02), ("invscaling", 0.05), ("optimal", None)],
    [False, True, 37]))


@pytest.mark.parametrize("penalty,schedule,average", SK_SETTINGS)
def test_matches_sklearn_sgdregressor(penalty: str, schedule: Tuple[str, Any],
                                      average: Any) -> None:
    """SGDRegressor(shuffle=False, tol=None, max_iter=3) with the same settings: the same
    trajectory to 1e-9, dense and CSR (with scikit-learn's intercept_decay 0.01 on sparse
    input, passed as intercept_decay=0.01). The average is scikit-learn's coef_ with
    average; with an L1 part it differs (see sgd_epoch: scikit-learn moves the whole
    average by each truncation), so there the SGD iterate is compared."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(6)
    X, y = sparse_problem(rng, "squared_error", 150, 8, np.float64)
    name, lr = schedule
    alpha = 0.01 if name != "optimal" else 0.1  # optimal's first step is 1/sqrt(alpha)-ish
    for Xin, decay in [(X, 1.0), (sp.csr_matrix(X), 0.01)]:
        model = _sklearn_fit(linear_model.SGDRegressor(
            penalty=penalty, alpha=alpha, l1_ratio=0.3, learning_rate=name,
            eta0=lr or 0.01, power_t=0.25, average=average, shuffle=False, tol=None,
            max_iter=3), Xin, y)
        coef, b, st, _ = run(Xin, y, np.float64, lr=lr or 0.01, learning_rate=name,
                             alpha=alpha, penalty=penalty, l1_ratio=0.3, average=average,
                             intercept_decay=decay, n_epochs=3)
        if average and penalty == "l2":
            got_c, got_b = st.average_coef, st.average_intercept
            want_c, want_b = model.coef_, model.intercept_
        else:
            got_c, got_b = coef, b
            want_c = model._standard_coef if average else model.coef_
            want_b = model._standard_intercept if average else model.intercept_
        assert rel_err(got_c, want_c) < 1e-9
        np.testing.assert_allclose(got_b, want_b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("schedule", ["optimal", "constant"])
def test_matches_sklearn_sgdclassifier_log_loss(penalty: str, schedule: str) -> None:
    """SGDClassifier(loss="log_loss") is loss="logistic" with y in {0, 1}, dense and CSR,
    with averaging for L2."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(7)
    X, y = sparse_problem(rng, "logistic", 150, 8, np.float64)
    average = penalty == "l2"
    for Xin, decay in [(X, 1.0), (sp.csr_matrix(X), 0.01)]:
        model = _sklearn_fit(linear_model.SGDClassifier(
            loss="log_loss", penalty=penalty, alpha=0.001, learning_rate=schedule, eta0=0.05,
            average=average, shuffle=False, tol=None, max_iter=4), Xin, y)
        coef, b, st, _ = run(Xin, y, np.float64, loss="logistic", lr=0.05,
                             learning_rate=schedule, alpha=0.001, penalty=penalty,
                             average=average, intercept_decay=decay, n_epochs=4)
        got_c, got_b = (st.average_coef, st.average_intercept) if average else (coef, b)
        assert rel_err(got_c, model.coef_[0]) < 1e-9
        np.testing.assert_allclose(got_b, model.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss,schedule", [
    ("hinge", "constant"), ("hinge", "optimal"), ("squared_hinge", "constant"),
    ("modified_huber", "invscaling")])
def test_matches_sklearn_sgdclassifier_margin_losses(loss: str, schedule: str) -> None:
    """SGDClassifier(loss=hinge | squared_hinge | modified_huber) on labels {-1, 1}: the
    same loss name in sgd_epoch, dense and CSR, to 1e-9."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(13)
    X, y = sparse_problem(rng, loss, 150, 8, np.float64)
    for Xin, decay in [(X, 1.0), (sp.csr_matrix(X), 0.01)]:
        model = _sklearn_fit(linear_model.SGDClassifier(
            loss=loss, alpha=0.001, learning_rate=schedule, eta0=0.01, power_t=0.25,
            shuffle=False, tol=None, max_iter=4), Xin, y)
        coef, b, _, _ = run(Xin, y, np.float64, loss=loss, lr=0.01, learning_rate=schedule,
                            alpha=0.001, intercept_decay=decay, n_epochs=4)
        assert rel_err(coef, model.coef_[0]) < 1e-9
        np.testing.assert_allclose(b, model.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "squared_epsilon_insensitive"])
def test_matches_sklearn_sgdregressor_insensitive_losses(loss: str) -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(14)
    X, y = sparse_problem(rng, loss, 150, 8, np.float64)
    for Xin, decay in [(X, 1.0), (sp.csr_matrix(X), 0.01)]:
        model = _sklearn_fit(linear_model.SGDRegressor(
            loss=loss, epsilon=0.1, alpha=0.001, eta0=0.01, shuffle=False, tol=None,
            max_iter=4, average=True), Xin, y)
        _, _, st, _ = run(Xin, y, np.float64, loss=loss, epsilon=0.1, lr=0.01,
                          learning_rate="invscaling", alpha=0.001, average=True,
                          intercept_decay=decay, n_epochs=4)
        assert rel_err(st.average_coef, model.coef_) < 1e-9
        np.testing.assert_allclose(st.average_intercept, model.intercept_, rtol=1e-9,
                                   atol=1e-12)
