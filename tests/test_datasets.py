"""benchmarks/datasets.py: every data set loads offline, with honest types and true tags.

Each registered data set whose package is installed is loaded once per
session (the readers cache the parsed files); a data set whose package is
missing is skipped.
"""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import datasets  # benchmarks/, put on sys.path by conftest.py

DOCS = Path(__file__).resolve().parents[1] / "docs" / "datasets.md"
NAMES = datasets.names()


@pytest.fixture(scope="session")
def loaded():
    """``name -> Dataset``, each loaded in full at most once."""
    cache = {}

    def get(name):
        if not datasets.available(name):
            pytest.skip(f"{name}: its package is not installed")
        if name not in cache:
            cache[name] = datasets.load(name)
        return cache[name]

    return get


def _is_categorical(dtype):
    return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)


def _is_integer(dtype):
    return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_float(dtype):
    return pd.api.types.is_float_dtype(dtype)


# ------------------------------------------------------------------ the registry as a whole


def _with(*tags):
    return [name for name in NAMES if set(tags) <= datasets._REGISTRY[name].tags]


def test_registry_covers_the_benchmarks():
    # Issue 19 (representation), 20 (anomalies) and 21 (synthesis) rely on these.
    assert len(NAMES) >= 20
    assert len(_with("mixed", "missing")) >= 3
    assert len(_with("counts")) >= 3
    assert len(_with("wide")) >= 2
    assert len(_with("large")) >= 2
    assert "mnist" in _with("images", "wide")
    assert datasets._REGISTRY["mnist"].image_shape == (28, 28)
    assert len(_with("synthesis")) >= 4
    assert _with("synthesis", "large")
    assert {"breast_cancer", "digits", "fair", "randhie", "anes96"} <= set(NAMES)


def test_names_filters_by_tag_and_rejects_unknown_tags():
    assert set(datasets.names("wide")) == set(_with("wide"))
    assert datasets.names() == sorted(datasets.names())
    with pytest.raises(ValueError, match="unknown tag"):
        datasets.names("tiny")


def test_unknown_name_raises_key_error():
    with pytest.raises(KeyError, match="no data set"):
        datasets.load("no_such_data")


def test_missing_package_is_reported_not_raised(monkeypatch):
    absent = dataclasses.replace(datasets._REGISTRY["wine"], module="no_such_package_skvae")
    monkeypatch.setitem(datasets._REGISTRY, "wine", absent)
    assert datasets.available("wine") is False
    with pytest.raises(ImportError, match="pip install"):
        datasets.load("wine")


# ------------------------------------------------------------------ each data set


@pytest.mark.parametrize("name", NAMES)
def test_shape_types_and_metadata(loaded, name):
    data = loaded(name)
    X, y = data.X, data.y
    assert data.name == name
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert len(X) > 0 and X.shape[1] > 0
    assert X.index.equals(y.index)
    assert X.columns.is_unique
    assert data.source.startswith(datasets._REGISTRY[name].module) and "(" in data.source
    assert data.description
    assert data.tags <= set(datasets.TAGS)

    assert isinstance(y.dtype, pd.CategoricalDtype)
    assert y.notna().all()
    assert y.nunique() >= 2

    for column, dtype in X.dtypes.items():
        assert (
            _is_categorical(dtype) or pd.api.types.is_bool_dtype(dtype)
            or _is_integer(dtype) or _is_float(dtype)
        ), f"{column}: {dtype}"
    if "images" not in data.tags:
        # Whole numbers belong in an integer column ("Int64" where there are holes).
        floats = X.select_dtypes("float").to_numpy()
        whole = np.isnan(floats) | (floats == np.round(floats))
        integers = X.select_dtypes("float").columns[whole.all(axis=0)]
        assert integers.empty, f"float columns that hold integers: {list(integers)}"


@pytest.mark.parametrize("name", NAMES)
def test_tags_are_true(loaded, name):
    data = loaded(name)
    X, tags = data.X, data.tags
    dtypes = list(X.dtypes)
    categorical = [d for d in dtypes if _is_categorical(d) or pd.api.types.is_bool_dtype(d)]
    numeric = [d for d in dtypes if _is_integer(d) or _is_float(d)]

    assert ("missing" in tags) == bool(X.isna().any().any())
    assert ("wide" in tags) == (X.shape[1] >= 100)
    assert ("large" in tags) == (len(X) >= 10_000)
    assert ("images" in tags) == (data.image_shape is not None)
    if "mixed" in tags:
        assert categorical and numeric
    if "counts" in tags:
        counts = [c for c in X.columns if _is_integer(X[c].dtype) and X[c].min() >= 0]
        assert counts
    if "images" in tags:
        assert int(np.prod(data.image_shape)) == X.shape[1]
        pixels = X.to_numpy()
        assert pixels.dtype.kind == "f" and pixels.min() >= 0 and pixels.max() <= 1
    if "synthesis" in tags:
        assert any(_is_categorical(d) for d in dtypes)
        assert any(_is_integer(d) for d in dtypes)
        assert any(_is_float(d) for d in dtypes)
        assert X.isna().any().any()


def _separates_classes(values, codes, n_classes):
    """Per column of ``values``: whether thresholds alone split the classes perfectly."""
    order = np.argsort(values, axis=0, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=0)
    sorted_codes = codes[order]
    change = sorted_codes[1:] != sorted_codes[:-1]
    tied = sorted_values[1:] == sorted_values[:-1]
    runs = change.sum(axis=0) + 1
    return (runs == n_classes) & ~(change & tied).any(axis=0)


@pytest.mark.parametrize("name", NAMES)
def test_no_target_leakage(loaded, name):
    data = loaded(name)
    _check_leaks(name, data.X, data.y)


def _check_leaks(name, X, y):
    assert y.name not in X.columns
    # A subsample keeps this cheap on the big tables; separation found on
    # 2,000 rows would be a leak all the same.
    keep = np.random.default_rng(0).permutation(len(X))[:2_000]
    X, y = X.iloc[keep], y.iloc[keep]
    codes = y.cat.codes.to_numpy()
    n_classes = len(np.unique(codes))

    numeric = X.columns[[_is_integer(d) or _is_float(d) for d in X.dtypes]]
    complete = numeric[X[numeric].notna().all().to_numpy()]
    if len(complete):
        values = X[complete].to_numpy(dtype=np.float64)
        separating = np.asarray(complete)[_separates_classes(values, codes, n_classes)]
        assert not len(separating), f"{name}: {list(separating)} split the classes alone"

    for column in X.columns.difference(complete):
        # Categories, flags and columns with holes: does the column decide the class?
        frame = pd.DataFrame({"x": X[column].astype(object), "y": codes}).dropna()
        if frame["x"].nunique() < len(frame) / 2:
            assert frame.groupby("x")["y"].nunique().max() > 1, f"{name}: {column} decides y"


# ------------------------------------------------------------------ subsamples and copies


@pytest.mark.parametrize("name", ["penguins", "flights", "nci60", "khan"])
def test_max_rows_is_a_reproducible_subsample(loaded, name):
    full = loaded(name)
    # khan: 3 rows for 4 classes cannot be stratified, so this takes the random path.
    n_rows = 3 if name == "khan" else min(300, len(full.X) // 2)
    first = datasets.load(name, max_rows=n_rows, random_state=1)
    again = datasets.load(name, max_rows=n_rows, random_state=1)
    other = datasets.load(name, max_rows=n_rows, random_state=2)
    assert len(first.X) == len(first.y) == n_rows
    assert first.X.index.is_monotonic_increasing
    assert first.X.index.isin(full.X.index).all()
    # Compared as whole arrays: frame by frame, nci60's 6,830 columns take a second.
    assert first.X.columns.equals(full.X.columns)
    assert first.X.equals(full.X.loc[first.X.index])
    assert first.X.equals(again.X) and first.y.equals(again.y)
    assert not first.X.index.equals(other.X.index)
    assert list(first.X.dtypes) == list(full.X.dtypes)
    if name in {"penguins", "flights"}:
        # Stratified: each class's share within a row of the full data's.
        share = first.y.value_counts(normalize=True)
        expected = full.y.value_counts(normalize=True)
        assert (share - expected).abs().max() <= 1 / n_rows + 1e-12


def test_max_rows_at_least_the_rows_keeps_everything(loaded):
    full = loaded("wine")
    assert len(datasets.load("wine", max_rows=10_000).X) == len(full.X)


def test_load_returns_copies(loaded):
    first = loaded("penguins")
    changed = datasets.load("penguins")
    changed.X.iloc[:, 0] = np.nan
    changed.y.iloc[0] = changed.y.iloc[-1]
    again = datasets.load("penguins")
    assert again.X.equals(first.X) and again.y.equals(first.y)


# ------------------------------------------------------------------ docs/datasets.md


def _table_rows(text):
    """``name -> cells`` of the table's rows, the package column left out."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 9 and re.fullmatch(r"[a-z0-9_]+", cells[0]) and cells[0] != "name":
            rows[cells[0]] = cells[:-1]
    return rows


def test_docs_table_matches_the_data():
    documented = _table_rows(DOCS.read_text())
    assert set(documented) == set(NAMES)
    measured = _table_rows(datasets.markdown_table())
    for name in filter(datasets.available, NAMES):
        assert documented[name] == measured[name], f"docs/datasets.md is stale for {name}"


def test_leak_checks_find_planted_leaks(loaded):
    # The leakage test above is only as good as its checks: plant a copy of the
    # target, as a number and as a category, and both must be caught.
    data = loaded("penguins")
    codes = data.y.cat.codes.to_numpy()
    noise = np.random.default_rng(0).uniform(0, 0.5, size=len(codes))
    planted = np.column_stack([codes + noise, data.X["bill_length_mm"].fillna(0)])
    assert _separates_classes(planted, codes, 3).tolist() == [True, False]
    leaky = data.X.assign(species_again=data.y.astype(str).astype("category"))
    with pytest.raises(AssertionError, match="species_again decides y"):
        _check_leaks("penguins", leaky, data.y)
