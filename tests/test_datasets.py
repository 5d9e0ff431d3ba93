"""fastloss.datasets: shapes, dtypes, the CSV's defects (missing values, categories), errors."""

import builtins
import sys

import numpy as np
import pytest

import _support
from _support import find_housing_csv, housing_csv
from fastloss import datasets
from fastloss.datasets import HOUSING_COLUMNS, HOUSING_ENV, OCEAN_PROXIMITY, load_housing


HEADER = ",".join(HOUSING_COLUMNS)
GOOD_ROWS = [
    "-122.23,37.88,41.0,880.0,129.0,322.0,126.0,8.3252,452600.0,NEAR BAY",
    "-121.00,36.00,20.0,1000.0,,500.0,200.0,3.0,100000.0,INLAND",
    "-120.00,35.00,30.0,2000.0,300.0,900.0,250.0,4.5,200000.0,<1H OCEAN",
    "-119.00,34.00,10.0,3000.0,200.0,700.0,300.0,5.0,300000.0,ISLAND",
]


def write_csv(tmp_path, rows, header=HEADER, name="housing.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(HOUSING_ENV, raising=False)


# ---- iris ----------------------------------------------------------------------------

def test_iris_shapes_and_dtypes():
    pytest.importorskip("sklearn")
    X, y = datasets.load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (150,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [50, 50, 50])


def test_iris_names():
    pytest.importorskip("sklearn")
    X, y, features, classes = datasets.load_iris(return_names=True)
    assert len(features) == 4 and all(isinstance(n, str) for n in features)
    assert classes == ["setosa", "versicolor", "virginica"]


def _hide_sklearn(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_iris_without_sklearn_says_what_to_install(monkeypatch):
    _hide_sklearn(monkeypatch)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.load_iris()


# ---- housing: the real file ----------------------------------------------------------

@pytest.fixture(scope="module")
def real_csv():
    """Module-scoped, so resolved before _no_env clears the variable for each test."""
    return housing_csv()


@pytest.fixture(scope="module")
def housing(real_csv):
    return load_housing(real_csv, return_names=True)


def test_housing_real_file(housing):
    X, y, names = housing
    assert X.shape == (20640, 13) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (20640,) and y.dtype == np.float64
    assert len(names) == 13 and names[4] == "total_bedrooms"
    assert names[8:] == [f"ocean_proximity={c}" for c in OCEAN_PROXIMITY]
    assert np.isfinite(X).all() and np.isfinite(y).all()
    onehot = X[:, 8:]
    assert set(np.unique(onehot)) == {0.0, 1.0}
    assert np.array_equal(onehot.sum(axis=1), np.ones(20640))
    # category counts of the standard file
    assert onehot.sum(axis=0).tolist() == [9136, 6551, 5, 2290, 2658]
    assert y.min() > 0 and y.max() == 500001.0


def test_housing_real_file_imputation(housing, real_csv):
    X = housing[0]
    raw = np.genfromtxt(real_csv, delimiter=",", skip_header=1, usecols=4)
    missing = np.isnan(raw)
    assert missing.sum() == 207
    median = np.median(raw[~missing])
    assert np.all(X[missing, 4] == median)
    assert np.array_equal(X[~missing, 4], raw[~missing])


def test_housing_from_env(monkeypatch, tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    monkeypatch.setenv(HOUSING_ENV, str(path))
    X, y = load_housing()
    assert X.shape == (4, 13)
    assert y.tolist() == [452600.0, 100000.0, 200000.0, 300000.0]


def test_housing_path_wins_over_env(monkeypatch, tmp_path):
    monkeypatch.setenv(HOUSING_ENV, str(tmp_path / "does-not-exist.csv"))
    X, _ = load_housing(write_csv(tmp_path, GOOD_ROWS[:2]))
    assert X.shape == (2, 13)


# ---- the CSV every housing test and benchmark reads (_support.find_housing_csv) --------

def test_tests_read_the_csv_named_by_the_variable(monkeypatch, tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    monkeypatch.setattr(_support, "SIBLING_HOUSING_CSV", write_csv(tmp_path, [], name="s.csv"))
    monkeypatch.setenv(HOUSING_ENV, str(path))
    assert find_housing_csv() == path and housing_csv() == path
    assert load_housing(housing_csv())[0].shape == (4, 13)


def test_tests_take_a_relative_variable_from_where_pytest_started(monkeypatch, tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    (tmp_path / "start").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.setattr(_support, "_START_DIR", tmp_path / "start")
    monkeypatch.chdir(tmp_path / "a" / "b")  # not from the current directory: tests may chdir
    monkeypatch.setenv(HOUSING_ENV, "../housing.csv")
    assert find_housing_csv().resolve() == path.resolve()


def test_tests_fail_when_the_variable_names_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv(HOUSING_ENV, str(tmp_path / "nope.csv"))
    with pytest.raises(FileNotFoundError, match=rf"\${HOUSING_ENV}=.*nope.csv"):
        find_housing_csv()


def test_tests_fall_back_to_the_sibling_shared_copy(monkeypatch, tmp_path):
    sibling = write_csv(tmp_path, GOOD_ROWS[:1])
    monkeypatch.setattr(_support, "SIBLING_HOUSING_CSV", sibling)
    assert find_housing_csv() == sibling
    monkeypatch.setattr(_support, "SIBLING_HOUSING_CSV", tmp_path / "absent.csv")
    assert find_housing_csv() is None
    with pytest.raises(pytest.skip.Exception, match=HOUSING_ENV):
        housing_csv()


# ---- housing: small files ------------------------------------------------------------

def test_housing_small_file_values(tmp_path):
    X, y, names = load_housing(str(write_csv(tmp_path, GOOD_ROWS)), return_names=True)
    assert X[0, :8].tolist() == [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252]
    # the missing total_bedrooms gets the median of 129, 300, 200
    assert X[1, 4] == 200.0
    # categories go to fixed columns whatever the file contains (NEAR OCEAN is absent)
    expected = np.zeros((4, 5))
    expected[[0, 1, 2, 3], [3, 1, 0, 2]] = 1.0
    assert np.array_equal(X[:, 8:], expected)


def test_housing_nan_text_counts_as_missing_bedrooms(tmp_path):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1].replace(",,", ",nan,")]
    X, _ = load_housing(write_csv(tmp_path, rows))
    assert X[1, 4] == 129.0


def test_housing_trailing_blank_lines_and_crlf(tmp_path):
    path = tmp_path / "crlf.csv"
    path.write_bytes(("\r\n".join([HEADER, *GOOD_ROWS]) + "\r\n\r\n").encode())
    X, _ = load_housing(path)
    assert X.shape == (4, 13)


def test_housing_header_only(tmp_path):
    X, y = load_housing(write_csv(tmp_path, []))
    assert X.shape == (0, 13) and y.shape == (0,)


def test_housing_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_housing(path)


def test_housing_missing_file_from_env_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(HOUSING_ENV, str(tmp_path / "nope.csv"))
    with pytest.raises(FileNotFoundError, match=rf"nope.csv.*{HOUSING_ENV}"):
        load_housing()


def test_housing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="is a directory"):
        load_housing(tmp_path)


def test_housing_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "\n").encode() + b"\xff\xfe,1\n")
    with pytest.raises(ValueError, match="latin.csv: not UTF-8 text"):
        load_housing(path)


@pytest.mark.parametrize("header", [
    HEADER.replace("total_bedrooms", "bedrooms"),
    ",".join(HOUSING_COLUMNS[:-1]),
    ",".join(reversed(HOUSING_COLUMNS)),
])
def test_housing_wrong_header(tmp_path, header):
    path = write_csv(tmp_path, GOOD_ROWS, header=header)
    with pytest.raises(ValueError, match=r"housing.csv: line 1: expected the header"):
        load_housing(path)


def test_housing_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty.csv: line 1: .*empty file"):
        load_housing(path)


@pytest.mark.parametrize("row, line, column", [
    (GOOD_ROWS[0].replace("880.0", "abc"), 3, "total_rooms"),
    (GOOD_ROWS[0].replace("452600.0", ""), 3, "median_house_value"),
    (GOOD_ROWS[0].replace("-122.23", "inf"), 3, "longitude"),
    (GOOD_ROWS[0].replace("8.3252", "nan"), 3, "median_income"),
    (GOOD_ROWS[0].replace("129.0", "lots"), 3, "total_bedrooms"),
])
def test_housing_unparsable_number(tmp_path, row, line, column):
    path = write_csv(tmp_path, [GOOD_ROWS[0], row])
    with pytest.raises(ValueError, match=rf"housing.csv: line {line}: column '{column}'"):
        load_housing(path)


def test_housing_wrong_field_count(tmp_path):
    path = write_csv(tmp_path, [GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[2] + ",extra"])
    with pytest.raises(ValueError, match="housing.csv: line 4: expected 10 fields, got 11"):
        load_housing(path)


def test_housing_unknown_category(tmp_path):
    path = write_csv(tmp_path, [GOOD_ROWS[0], GOOD_ROWS[1].replace("INLAND", "DESERT")])
    with pytest.raises(ValueError,
                       match="housing.csv: line 3: column 'ocean_proximity': unknown category"):
        load_housing(path)


def test_housing_all_bedrooms_missing(tmp_path):
    path = write_csv(tmp_path, [GOOD_ROWS[1], GOOD_ROWS[1]])
    with pytest.raises(ValueError, match="total_bedrooms"):
        load_housing(path)


# ---- housing: scikit-learn's fetcher (no network in tests) ---------------------------

def test_housing_fetcher_fallback(monkeypatch):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")

    class Bunch:
        data = np.arange(16.0).reshape(2, 8)
        target = np.array([4.526, 5.00001])
        feature_names = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population",
                         "AveOccup", "Latitude", "Longitude"]

    monkeypatch.setattr(sklearn_datasets, "fetch_california_housing", lambda: Bunch())
    X, y, names = load_housing(return_names=True)
    assert X.shape == (2, 8) and X.dtype == np.float64
    assert y.tolist() == [452600.0, 500001.0]
    assert names == Bunch.feature_names


def test_housing_fetcher_offline(monkeypatch):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(sklearn_datasets, "fetch_california_housing", offline)
    with pytest.raises(OSError, match=rf"could not download.*{HOUSING_ENV}"):
        load_housing()


def test_housing_fetcher_without_sklearn(monkeypatch):
    _hide_sklearn(monkeypatch)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_housing()
