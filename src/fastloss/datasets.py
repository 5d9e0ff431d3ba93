"""Small real data sets for examples, demos and benchmarks, as float64 NumPy arrays.

* :func:`load_iris` -- 150 flowers, 4 features, 3 classes (scikit-learn's bundled copy).
* :func:`load_housing` -- California housing, 20,640 districts, 13 features, the median
  house value as the regression target, read from the standard CSV.

scikit-learn is optional: it is imported only when a loader needs it, and a missing
install raises an :class:`ImportError` that says what to install.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
from numpy.typing import NDArray

__all__ = ["load_iris", "load_housing", "HOUSING_COLUMNS", "OCEAN_PROXIMITY", "HOUSING_ENV"]

#: The header of the standard California housing CSV, in order.
HOUSING_COLUMNS = (
    "longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
    "population", "households", "median_income", "median_house_value", "ocean_proximity",
)
#: The categories of ``ocean_proximity``, in the order of their one-hot columns.
OCEAN_PROXIMITY = ("<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN")
#: Environment variable naming the housing CSV when no ``path`` is given.
HOUSING_ENV = "FASTLOSS_HOUSING_CSV"

_TARGET = "median_house_value"
_IMPUTED = "total_bedrooms"
_NUMERIC_FEATURES = tuple(c for c in HOUSING_COLUMNS[:-1] if c != _TARGET)

PathLike = Union[str, "os.PathLike[str]"]


def _sklearn_datasets(what: str) -> Any:
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError(
            f"{what} needs scikit-learn, which is not installed: "
            "pip install scikit-learn") from None
    return sklearn.datasets


def load_iris(*, return_names: bool = False) -> Tuple[Any, ...]:
    """Fisher's iris data: ``X`` float64 ``(150, 4)``, ``y`` int64 ``(150,)`` in ``{0, 1, 2}``.

    Read from the copy bundled with scikit-learn (no network). With ``return_names=True``
    returns ``(X, y, feature_names, class_names)``: the 4 feature names (sepal length,
    sepal width, petal length, petal width, in cm) and the 3 species names, as lists of str.

    Raises :class:`ImportError` if scikit-learn is not installed.
    """
    data = _sklearn_datasets("load_iris").load_iris()
    X = np.ascontiguousarray(data.data, dtype=np.float64)
    y = np.ascontiguousarray(data.target, dtype=np.int64)
    if return_names:
        return X, y, [str(n) for n in data.feature_names], [str(n) for n in data.target_names]
    return X, y


def load_housing(path: Optional[PathLike] = None, *,
                 return_names: bool = False) -> Tuple[Any, ...]:
    """California housing (1990 census, one row per block group): features and house value.

    The data come from, in this order: the CSV at ``path``; else the CSV named by the
    environment variable ``FASTLOSS_HOUSING_CSV``; else scikit-learn's
    ``fetch_california_housing`` (downloads once into scikit-learn's cache).

    **From the CSV** (the standard file, header ``longitude, latitude, housing_median_age,
    total_rooms, total_bedrooms, population, households, median_income, median_house_value,
    ocean_proximity``; 20,640 rows) returns ``X`` float64 ``(n, 13)`` and ``y`` float64
    ``(n,)``:

    * ``X[:, 0:8]``: the 8 numeric columns other than the target, in file order, unscaled.
      ``total_bedrooms`` is missing (empty) on some rows (207 in the standard file); those
      get the median of the column's present values, computed on this file.
    * ``X[:, 8:13]``: ``ocean_proximity`` one-hot encoded, one column per category in the
      fixed order ``<1H OCEAN, INLAND, ISLAND, NEAR BAY, NEAR OCEAN`` (each row sums to 1,
      whatever categories the file happens to contain).
    * ``y``: ``median_house_value`` in dollars (capped at 500,001 in the census data).

    **From scikit-learn's fetcher** the columns differ: ``X`` is ``(20640, 8)`` with its
    derived features (``MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup,
    Latitude, Longitude``: averages per household instead of totals, no ``ocean_proximity``);
    ``y`` is converted from its units of $100,000 to dollars, as in the CSV.

    With ``return_names=True`` returns ``(X, y, feature_names)``; the one-hot columns are
    named ``ocean_proximity=<category>``.

    Raises :class:`FileNotFoundError` for a missing file; :class:`ValueError` naming the file,
    line and column for a wrong header, a row with the wrong number of fields, an unparsable,
    missing or non-finite number (other than a missing ``total_bedrooms``), or an unknown
    ``ocean_proximity``; :class:`ImportError` if no CSV is given and scikit-learn is not
    installed; :class:`OSError` if the download fails.
    """
    source = "path"
    if path is None and os.environ.get(HOUSING_ENV):
        path, source = os.environ[HOUSING_ENV], HOUSING_ENV
    if path is None:
        X, y, names = _fetch_housing()
    else:
        X, y, names = _read_housing_csv(Path(path), source)
    if return_names:
        return X, y, names
    return X, y


def _fetch_housing() -> Tuple[NDArray[np.float64], NDArray[np.float64], List[str]]:
    sk_datasets = _sklearn_datasets(f"load_housing() without a path (or ${HOUSING_ENV})")
    try:
        data = sk_datasets.fetch_california_housing()
    except OSError as exc:  # URLError, HTTPError and socket errors are all OSErrors
        raise OSError(
            f"could not download California housing through scikit-learn ({exc}); "
            f"pass the CSV's path to load_housing() or set {HOUSING_ENV}") from exc
    X = np.ascontiguousarray(data.data, dtype=np.float64)
    # scikit-learn stores the target in units of $100,000; the CSV (and so we) use dollars
    y = np.round(np.asarray(data.target, dtype=np.float64) * 100_000.0)
    return X, y, [str(n) for n in data.feature_names]


def _read_housing_csv(path: Path, source: str
                      ) -> Tuple[NDArray[np.float64], NDArray[np.float64], List[str]]:
    where = str(path) if source == "path" else f"{path} (from ${source})"
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "not found"
        raise FileNotFoundError(f"California housing CSV {what}: {where}")
    numeric_index = [HOUSING_COLUMNS.index(c) for c in _NUMERIC_FEATURES]
    target_index = HOUSING_COLUMNS.index(_TARGET)
    imputed_index = HOUSING_COLUMNS.index(_IMPUTED)
    category_index = {c: i for i, c in enumerate(OCEAN_PROXIMITY)}

    features: List[List[float]] = []
    targets: List[float] = []
    categories: List[int] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        try:
            _parse_rows(reader, where, numeric_index, target_index, imputed_index,
                        category_index, features, targets, categories)
        except csv.Error as exc:  # e.g. a NUL byte
            raise ValueError(f"{where}: line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:  # decoding runs ahead of the rows: no line number
            raise ValueError(f"{where}: not UTF-8 text ({exc})") from None

    numeric = np.array(features, dtype=np.float64).reshape(len(features), len(numeric_index))
    column = numeric[:, _NUMERIC_FEATURES.index(_IMPUTED)]
    missing = np.isnan(column)
    if missing.any():
        if missing.all():
            raise ValueError(f"{where}: column '{_IMPUTED}' has no values to impute from")
        column[missing] = np.median(column[~missing])
    onehot = np.zeros((len(categories), len(OCEAN_PROXIMITY)), dtype=np.float64)
    onehot[np.arange(len(categories)), categories] = 1.0
    X = np.ascontiguousarray(np.hstack([numeric, onehot]))
    y = np.array(targets, dtype=np.float64)
    names = [*_NUMERIC_FEATURES, *(f"ocean_proximity={c}" for c in OCEAN_PROXIMITY)]
    return X, y, names


def _parse_rows(reader: Any, where: str, numeric_index: List[int], target_index: int,
                imputed_index: int, category_index: Dict[str, int],
                features: List[List[float]], targets: List[float],
                categories: List[int]) -> None:
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HOUSING_COLUMNS:
        raise ValueError(
            f"{where}: line 1: expected the header {','.join(HOUSING_COLUMNS)}, "
            f"got {','.join(header) if header else 'an empty file'}")
    for row in reader:
        line = reader.line_num
        if not row:  # a blank line, e.g. at the end of the file
            continue
        if len(row) != len(HOUSING_COLUMNS):
            raise ValueError(f"{where}: line {line}: expected {len(HOUSING_COLUMNS)} "
                             f"fields, got {len(row)}")
        values = [_number(row[i], HOUSING_COLUMNS[i], i == imputed_index, where, line)
                  for i in range(len(HOUSING_COLUMNS) - 1)]
        category = row[-1].strip()
        if category not in category_index:
            raise ValueError(
                f"{where}: line {line}: column 'ocean_proximity': unknown category "
                f"{category!r} (expected one of {', '.join(OCEAN_PROXIMITY)})")
        features.append([values[i] for i in numeric_index])
        targets.append(values[target_index])
        categories.append(category_index[category])


def _number(text: str, column: str, may_be_missing: bool, where: str, line: int) -> float:
    text = text.strip()
    if not text and may_be_missing:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    else:
        if math.isnan(value) and may_be_missing:
            return value
        if math.isfinite(value):
            return value
    shown = repr(text) if text else "an empty field"
    raise ValueError(f"{where}: line {line}: column '{column}': expected a finite number, "
                     f"got {shown}")
