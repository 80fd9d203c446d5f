"""Property-based checks (hypothesis): any input gives finite results or a clear error, never NaN."""

import re

import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skvae import AutoencoderTransformer, VAETransformer  # noqa: E402

TINY = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw):
    """Rows of a few columns at any scale and offset, some constant, some duplicated."""
    n_rows = draw(st.integers(2, 40))
    n_columns = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.RandomState(seed)
    columns = []
    for _ in range(n_columns):
        kind = draw(st.sampled_from(["spread", "constant", "duplicate", "integer"]))
        scale = 10.0 ** draw(st.integers(-30, 30))
        offset = draw(st.sampled_from([0.0, 1.0, -1e3, 1.7e9, 1e12]))
        if kind == "constant" or (kind == "duplicate" and not columns):
            column = np.full(n_rows, offset)
        elif kind == "duplicate":
            column = columns[draw(st.integers(0, len(columns) - 1))].copy()
        elif kind == "integer":
            column = rng.randint(0, 5, n_rows).astype(float) + offset
        else:
            column = rng.normal(size=n_rows) * scale + offset
        columns.append(column)
    X = np.column_stack(columns)
    if draw(st.booleans()):
        X[n_rows // 2 :] = X[: n_rows - n_rows // 2]  # duplicated rows
    return X.astype(draw(st.sampled_from([np.float32, np.float64])))


# What a call may refuse rows of another scale with: values float32 cannot hold once encoded, or
# values outside a likelihood's support (a Bernoulli column's, when "auto" chose it).
CLEAR_REFUSALS = r"beyond float32's range|likelihood=\"\w+\" needs .* in \[|contains infinity or a value too large"


def _finite_or_clear_error(call):
    try:
        result = call()
    except ValueError as error:
        assert re.search(CLEAR_REFUSALS, str(error)), error
        return None
    assert np.all(np.isfinite(result)), result
    return result


def _weights(model):
    return [p.detach().clone() for p in model.network_.parameters()]


@SETTINGS
@given(X=tables(), vae=st.booleans())
def test_fitting_any_table_gives_finite_outputs_or_a_clear_error(X, vae):
    model = (VAETransformer if vae else AutoencoderTransformer)(**TINY)
    try:
        model.fit(X)
    except ValueError as error:
        assert "X" in str(error) or "diverged" in str(error) or "sample" in str(error), error
        return
    # A model that took X takes X in every method: no error, nothing but finite numbers.
    codes = model.transform(X)
    assert codes.dtype == X.dtype
    for result in (codes, model.score_samples(X), model.inverse_transform(codes), model.sample(3, random_state=0)):
        assert np.all(np.isfinite(result)), result


@SETTINGS
@given(X=tables(), factor=st.sampled_from([1e-30, 1e-3, 1e3, 1e30, 1e300, -1e300]))
def test_evaluating_other_scales_is_finite_or_a_clear_error(X, factor):
    model = VAETransformer(**TINY)
    try:
        model.fit(X)
    except ValueError:
        return
    with np.errstate(over="ignore"):
        scaled = X.astype(np.float64) * factor
    if not np.all(np.isfinite(scaled)):
        return
    _finite_or_clear_error(lambda: model.transform(scaled))
    _finite_or_clear_error(lambda: model.score_samples(scaled))


@SETTINGS
@given(X=tables(), bad=st.sampled_from(["inf", "columns", "huge"]))
def test_a_failed_call_never_changes_the_model(X, bad):
    model = AutoencoderTransformer(**TINY)
    try:
        model.fit(X)
    except ValueError:
        return
    before = _weights(model), list(model.loss_curve_)
    broken = X.astype(np.float64).copy()
    if bad == "inf":
        broken[-1, -1] = np.inf
    elif bad == "columns":
        broken = np.c_[broken, broken[:, :1]]
    else:
        broken[0, 0] = 1e300
    # A fresh fit may take other columns or scales; partial_fit continues the
    # fitted model, whose columns and scaling are fixed.
    methods = ["partial_fit"] if bad in ("columns", "huge") else ["fit", "partial_fit"]
    for method in methods:
        with pytest.raises(ValueError):
            getattr(model, method)(broken)
        after = _weights(model), list(model.loss_curve_)
        assert after[1] == before[1] and all(torch.equal(a, b) for a, b in zip(after[0], before[0]))
