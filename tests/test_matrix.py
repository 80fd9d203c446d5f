"""Every estimator x every likelihood it accepts x every output: each cell works, or is absent by design.

The estimators are those of ``skvae.__all__`` and the likelihoods those
their ``likelihood`` parameter accepts, read from the estimators themselves,
so a new estimator or likelihood enters the matrix by being registered. A
frame of mixed dtypes with holes stands for ``likelihood="auto"``. The
outputs: ``transform``, ``inverse_transform``, ``sample``,
``score_samples``, ``save``/``load``, ``to_torch`` and ``to_onnx``.

A cell checks what the output promises: shapes and finite values; the
input's dtypes (every column of a DataFrame) in what comes back; save and
load bitwise; exported graphs within 1e-5 of the estimator's own method,
fed X as the documentation describes it (numbers as they are, a date in
nanoseconds, a category as its index in ``column_categories_``, NaN for a
hole). Two kinds of cell are absent by design, and the test asserts that
they are, with the documented reason: ``VAEImputer`` has no
``inverse_transform`` (its output is X itself), and ``VAEOutlierDetector``
has only the outputs of a scikit-learn outlier detector (no transform,
inverse, sample or export). No cell is skipped, but the ONNX cells where
onnxruntime or onnxscript, optional extras that ``make install``
installs, is missing. With
``SKVAE_TEST_DEVICE=cuda`` every cell fits and runs on the GPU.
"""

import functools
import os
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import skvae
from skvae.nn import LIKELIHOODS

# SKVAE_TEST_DEVICE=cuda runs every cell on a GPU (benchmarks/gpu.sh does, where there is one).
SMALL = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0, device=os.environ.get("SKVAE_TEST_DEVICE", "cpu"))
N_ROWS = 60
OUTPUTS = ["transform", "inverse_transform", "sample", "score_samples", "save_load", "to_torch", "to_onnx"]

# Cells without the output, by design, and why (docs/api.md says so too).
ABSENT = {
    ("VAEImputer", "inverse_transform"): "an imputer's output is X itself, not codes",
    **{("VAEOutlierDetector", output): "an outlier detector offers fit, predict, decision_function and "
       "score_samples, as IsolationForest does"
       for output in ("transform", "inverse_transform", "sample", "to_torch", "to_onnx")},
}


def _estimators():
    return [getattr(skvae, name) for name in skvae.__all__ if isinstance(getattr(skvae, name), type)]


def _cases(cls):
    """The likelihoods ``cls`` accepts (its base estimator's, for the detector), and "mixed" for "auto"."""
    constraint = getattr(cls, "_parameter_constraints", {}).get("likelihood")
    if cls is skvae.VAEOutlierDetector:
        constraint = skvae.VAETransformer._parameter_constraints["likelihood"]
    options = constraint[0].options
    return sorted(option for option in options if option in LIKELIHOODS) + (["mixed"] if "auto" in options else [])


CELLS = [(cls.__name__, case, output) for cls in _estimators() for case in _cases(cls) for output in OUTPUTS]


def test_the_matrix_covers_every_estimator_and_likelihood():
    named = {(name, case) for name, case, _ in CELLS}
    assert {name for name, _ in named} == {cls.__name__ for cls in _estimators()}
    assert {case for _, case in named} == set(LIKELIHOODS) | {"mixed"}
    assert len(named) == len(_estimators()) * (len(LIKELIHOODS) + 1)  # every estimator takes every likelihood


# ----------------------------------------------------------------- data


@functools.cache
def data(case):
    rng = np.random.RandomState(0)
    z = rng.normal(size=(N_ROWS, 2))
    if case == "gaussian":
        return z @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(N_ROWS, 5))
    if case == "bernoulli":
        return 1 / (1 + np.exp(-(z @ rng.normal(size=(2, 5)))))
    if case == "lognormal":
        return np.exp(1 + 0.7 * z @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(N_ROWS, 5)))
    if case in ("poisson", "negative_binomial"):
        return rng.poisson(np.exp(1 + 0.5 * z @ rng.normal(size=(2, 5)))).astype(float)
    if case == "categorical":
        return pd.DataFrame({
            "colour": pd.Categorical(np.where(z[:, 0] > 0, "red", "blue")),
            "size": np.where(z[:, 1] > 0.5, "L", np.where(z[:, 1] < -0.5, "S", "M")).astype(object),
            "shape": pd.array(np.where(z[:, 0] + z[:, 1] > 0, "round", "square"), dtype="string"),
        })
    frame = pd.DataFrame({
        "height": 170 + 10 * z[:, 0],
        "weight": (60 + 5 * z[:, 1]).astype(np.float32),
        "visits": pd.array(rng.poisson(3, N_ROWS), dtype="Int64"),
        "income": np.exp(10 + 0.8 * z[:, 0] + 0.5 * rng.normal(size=N_ROWS)),
        # Piled at a bound, so censored there: a reading capped at 10, an amount often 0.
        "visibility": np.minimum(10.0, np.round(11 + 2 * z[:, 1], 1)),
        "rain": np.maximum(0.0, np.round(z[:, 0] - 0.3 + 0.5 * rng.normal(size=N_ROWS), 2)),
        "member": z[:, 0] > 0,
        "city": pd.Categorical(np.where(z[:, 1] > 0, "Lima", "Oslo")),
        "note": pd.array(np.where(z[:, 0] > 0.5, "x", "y"), dtype="string"),
        "joined": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.randint(0, 300, N_ROWS), unit="D"),
    })
    frame.loc[::7, "height"] = np.nan
    frame.loc[::9, "visits"] = pd.NA
    frame.loc[::11, "city"] = np.nan
    return frame


def labels():
    return np.arange(N_ROWS) % 2


@functools.cache
def fitted(name, case):
    cls = getattr(skvae, name)
    likelihood = "auto" if case == "mixed" else case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cls is skvae.VAEOutlierDetector:
            return cls(skvae.VAETransformer(likelihood=likelihood, **SMALL), random_state=0).fit(data(case))
        estimator = cls(**SMALL, likelihood=likelihood)
        return estimator.fit(data(case), labels()) if cls is skvae.ConditionalVAETransformer else estimator.fit(data(case))


def _y(estimator):
    return {"y": labels()} if isinstance(estimator, skvae.ConditionalVAETransformer) else {}


# ------------------------------------------------------ X as graphs read it


def as_values(X, estimator):
    """X as the exported graphs read it, built from the documentation (not from skvae's code)."""
    if not isinstance(X, pd.DataFrame):
        return np.asarray(X, dtype=np.float64)
    columns = []
    for name in X.columns:
        column = X[name]
        if name in estimator.column_categories_:
            index = pd.Categorical(column.astype(object), categories=estimator.column_categories_[name]).codes
            columns.append(np.where(index < 0, np.nan, index).astype(np.float64))
        elif pd.api.types.is_datetime64_any_dtype(column.dtype):
            ns = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
            columns.append(np.where(np.isnat(ns), np.nan, ns.view(np.int64).astype(np.float64)))
        else:
            columns.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns)


def decoded_values(means, X, estimator):
    """Decoded means (what the inverse graph returns) rounded as inverse_transform rounds them, per dtype.

    Integers to 1, dates to the unit every training value was a whole number of (``Column.step``).
    """
    if not isinstance(X, pd.DataFrame):
        return means
    out = means.copy()
    for j, name in enumerate(X.columns):
        dtype = X[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            out[:, j] = means[:, j] >= 0.5
        elif pd.api.types.is_integer_dtype(dtype):
            out[:, j] = np.rint(means[:, j])
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            step = max(estimator._schema.columns[j].step, 1)
            out[:, j] = np.rint(means[:, j] / step) * step
    return out


# ---------------------------------------------------------------- cells


def _same(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)


def _like_X(out, X, n_rows, complete=False):
    """``out`` in X's form; ``complete``: without holes (decoded means; draws take holes at X's rates)."""
    if isinstance(X, pd.DataFrame):
        assert isinstance(out, pd.DataFrame) and list(out.columns) == list(X.columns)
        assert dict(out.dtypes) == dict(X.dtypes), (dict(out.dtypes), dict(X.dtypes))
        assert len(out) == n_rows
        assert not (complete and out.isna().any().any()), out.isna().sum().to_dict()
    else:
        assert out.shape == (n_rows, X.shape[1]) and out.dtype == np.float64
        assert np.isfinite(out).all()


def _graph(estimator, method, inputs, onnx, tmp_path):
    if onnx:
        # Optional extras ("make install" installs them), as tests/test_export.py skips without them.
        onnxruntime = pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
        path = estimator.to_onnx(tmp_path / f"{method}.onnx", method=method, dtype=np.float64)
        session = onnxruntime.InferenceSession(str(path))
        (out,) = session.run(None, {session.get_inputs()[0].name: inputs})
        return out
    with torch.inference_mode():
        return estimator.to_torch(method)(torch.from_numpy(inputs)).numpy()


def check_export(estimator, X, onnx, tmp_path):
    values = as_values(X, estimator)
    if isinstance(estimator, skvae.VAEImputer):
        filled = _graph(estimator, "transform", values, onnx, tmp_path)
        expected = as_values(estimator.transform(X), estimator)
        np.testing.assert_allclose(decoded_values(filled, X, estimator), expected, rtol=1e-5, atol=1e-5)
        return
    codes = _graph(estimator, "transform", values, onnx, tmp_path)
    np.testing.assert_allclose(codes, estimator.transform(X), rtol=1e-5, atol=1e-5)
    Z = estimator.transform(X)
    means = _graph(estimator, "inverse_transform", Z, onnx, tmp_path)
    expected = as_values(estimator.inverse_transform(Z), estimator)
    np.testing.assert_allclose(decoded_values(means, X, estimator), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, case, output", CELLS, ids=["-".join(cell) for cell in CELLS])
def test_cell(name, case, output, tmp_path, request):
    estimator, X = fitted(name, case), data(case)
    if (name, output) in ABSENT:
        method = {"save_load": "save"}.get(output, output)
        assert not hasattr(estimator, method), ABSENT[name, output]
        return
    y = _y(estimator)
    if output == "transform":
        out = estimator.transform(X)
        if isinstance(estimator, skvae.VAEImputer):
            _like_X(out, X, N_ROWS)
            assert not out.isna().any().any() if isinstance(out, pd.DataFrame) else np.isfinite(out).all()
        else:
            assert out.shape == (N_ROWS, estimator._n_features_out) and out.dtype == np.float64
            assert np.isfinite(out).all()
            # Any row's output is its own, whatever rows come with it.
            np.testing.assert_array_equal(estimator.transform(X[7:12] if not hasattr(X, "iloc") else X.iloc[7:12]),
                                          out[7:12])
    elif output == "inverse_transform":
        Z = estimator.transform(X)
        _like_X(estimator.inverse_transform(Z, **y), X, N_ROWS, complete=True)
        if y:  # without y: the mixture over the classes, in the same dtypes
            _like_X(estimator.inverse_transform(Z), X, N_ROWS, complete=True)
    elif output == "sample":
        _like_X(estimator.sample(5, random_state=0), X, 5)
        _like_X(estimator.sample(5, random_state=0, from_likelihood=False), X, 5, complete=True)
        drawn = estimator.sample(5, random_state=0, from_likelihood=True)  # x drawn from p(x | z)
        _like_X(drawn, X, 5)
        _same(drawn, estimator.sample(5, random_state=0, from_likelihood=True))
    elif output == "score_samples":
        scores = estimator.score_samples(X, **y)
        assert scores.shape == (N_ROWS,) and np.isfinite(scores).all()
    elif output == "save_load":
        estimator.save(tmp_path / "model.skvae")
        loaded = skvae.load(tmp_path / "model.skvae")
        assert type(loaded) is type(estimator)
        _same(loaded.score_samples(X, **y), estimator.score_samples(X, **y))
        if isinstance(estimator, skvae.VAEOutlierDetector):
            _same(loaded.predict(X), estimator.predict(X))
            return
        _same(loaded.transform(X), estimator.transform(X))
        _same(loaded.sample(4, random_state=0), estimator.sample(4, random_state=0))
    elif output == "to_torch":
        check_export(estimator, X, onnx=False, tmp_path=tmp_path)
    elif output == "to_onnx":
        request.getfixturevalue("one_onnx_operator_table")
        check_export(estimator, X, onnx=True, tmp_path=tmp_path)
