"""VAEImputer: holes filled, observed entries untouched, multiple imputation, mixed DataFrames."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skvae import VAEImputer

FAST = dict(hidden_layer_sizes=(32,), max_iter=40, random_state=0)


@pytest.fixture(scope="module")
def low_rank():
    """Rank-2 data in 6 columns with 20% of entries missing completely at random."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(400, 6))
    holes = rng.rand(*X.shape) < 0.2
    return X, np.where(holes, np.nan, X), holes


def test_holes_are_filled_and_observed_entries_untouched(low_rank):
    truth, X, holes = low_rank
    filled = VAEImputer(**FAST).fit_transform(X)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~holes], X[~holes])
    assert filled.dtype == X.dtype
    # Better than each column's mean: the model uses what the row does have.
    mean_error = np.sqrt(((SimpleImputer().fit_transform(X) - truth)[holes] ** 2).mean())
    vae_error = np.sqrt(((filled - truth)[holes] ** 2).mean())
    assert vae_error < 0.7 * mean_error, (vae_error, mean_error)


def test_multiple_imputation_draws_with_random_state(low_rank):
    _, X, holes = low_rank
    draws = [VAEImputer(**{**FAST, "random_state": seed}, sample_posterior=True).fit_transform(X) for seed in range(3)]
    assert not np.allclose(draws[0][holes], draws[1][holes])
    again = VAEImputer(**FAST, sample_posterior=True).fit_transform(X)
    np.testing.assert_array_equal(again, draws[0])
    for draw in draws:
        np.testing.assert_array_equal(draw[~holes], X[~holes])
    imputer = VAEImputer(**FAST).fit(X)
    np.testing.assert_array_equal(imputer.transform(X), imputer.transform(X))  # the mean imputation


def test_mixed_dataframes_get_categories_and_counts():
    rng = np.random.RandomState(1)
    n = 300
    z = rng.normal(size=n)
    frame = pd.DataFrame({
        "size": 3 * z + rng.normal(size=n),
        "kind": pd.Categorical(np.where(z > 0.3, "big", np.where(z < -0.3, "small", "mid"))),
        "count": rng.poisson(np.exp(1 + z / 2)),
        "flag": z > 0,
    })
    holes = frame.copy()
    holes.loc[rng.rand(n) < 0.2, "kind"] = np.nan
    holes["count"] = holes["count"].astype("Int64")
    holes.loc[rng.rand(n) < 0.2, "count"] = pd.NA
    holes.loc[rng.rand(n) < 0.2, "size"] = np.nan
    imputer = VAEImputer(likelihood={"count": "poisson"}, **FAST).fit(holes)
    filled = imputer.transform(holes)
    assert isinstance(filled, pd.DataFrame) and not filled.isna().any().any()
    assert filled["kind"].dtype == frame["kind"].dtype and str(filled["count"].dtype) == "Int64"
    observed = holes["kind"].notna()
    assert (filled.loc[observed, "kind"] == holes.loc[observed, "kind"]).all()
    # The category is read from the row: better than the most frequent one.
    missing = ~observed
    accuracy = (filled.loc[missing, "kind"] == frame.loc[missing, "kind"]).mean()
    majority = (frame.loc[missing, "kind"] == frame["kind"].mode()[0]).mean()
    assert accuracy > majority, (accuracy, majority)


def test_a_placeholder_marks_missing_values(low_rank):
    _, X, holes = low_rank
    placeholder = np.where(holes, -999.0, X)
    filled = VAEImputer(**FAST, missing_values=-999.0).fit_transform(placeholder)
    np.testing.assert_allclose(filled, VAEImputer(**FAST).fit_transform(X))


def test_the_imputer_keeps_its_columns(low_rank):
    _, X, _ = low_rank
    frame = pd.DataFrame(X, columns=list("abcdef"))
    imputer = VAEImputer(**FAST).set_output(transform="pandas").fit(frame)
    assert list(imputer.get_feature_names_out()) == list("abcdef")
    assert list(imputer.transform(frame).columns) == list("abcdef")
    assert not hasattr(imputer, "inverse_transform")
    pipe = make_pipeline(VAEImputer(**FAST), LogisticRegression()).fit(X, X[:, 0] > np.nanmean(X[:, 0]))
    assert pipe.predict(X).shape == (400,)


def test_holes_in_columns_complete_at_fit_are_filled_with_a_warning():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    holed = X.copy()
    holed[::4, 1] = np.nan
    imputer = VAEImputer(max_iter=3, random_state=0).fit(X)
    with pytest.warns(UserWarning, match=r"holes .* in columns that had none at fit \(\[1\]\)"):
        filled = imputer.transform(holed)  # filled silently, the score_samples of the same model warned
    assert not np.isnan(filled).any()
    trained_on_holes = VAEImputer(max_iter=3, random_state=0).fit(holed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        trained_on_holes.transform(holed)


def test_a_masking_fit_fills_new_holes_without_the_warning_and_the_graph_takes_integers():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    holed = X.copy()
    holed[::4, 1] = np.nan
    masked = VAEImputer(corruption="masking", max_iter=3, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # it advised corruption="masking" to a masking fit
        masked.transform(holed)
        # What the model learnt decides, not the parameter set since (it was read at each call).
        masked.set_params(corruption=None).transform(holed)
    plain = VAEImputer(max_iter=3, random_state=0).fit(X).set_params(corruption="masking")
    with pytest.warns(UserWarning, match="in columns that had none at fit"):
        plain.transform(holed)
    import torch

    counts = rng.randint(0, 9, size=(120, 3))
    counts[::6, 1] = -1
    imputer = VAEImputer(missing_values=-1, max_iter=3, random_state=0).fit(counts)
    with torch.inference_mode():
        filled = imputer.to_torch()(torch.from_numpy(counts)).numpy()  # an int64 tensor kept its -1s
    np.testing.assert_allclose(filled[::6, 1], imputer.transform(counts)[::6, 1], rtol=1e-5)


def test_a_frame_without_the_training_names_is_filled_by_position():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    frame.iloc[::9, 0] = np.nan
    imputer = VAEImputer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(frame)
    unnamed = pd.DataFrame(frame.iloc[:10].to_numpy())  # columns 0, 1, 2
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        filled = imputer.transform(unnamed)  # raised KeyError: 'a'
    pd.testing.assert_frame_equal(filled, imputer.transform(frame.iloc[:10]).reset_index(drop=True))


def test_a_frame_labelled_by_integers_in_another_order_is_refused_not_filled_under_the_wrong_labels():
    # Column 2's values came back labelled 0, and column 1's hole was filled on column 2's scale.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({0: rng.rand(60), 1: 10 * rng.rand(60), 2: 100 * rng.rand(60)})
    frame.iloc[::7, 1] = np.nan
    imputer = VAEImputer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(frame)
    with pytest.raises(ValueError, match=r"Pass X\[\[0, 1, 2\]\]"):
        imputer.transform(frame[[2, 0, 1]])
    pd.testing.assert_frame_equal(imputer.transform(frame[[0, 1, 2]]), imputer.transform(frame))


@pytest.mark.parametrize("start", ["2262-01-01", "1677-10-01"])
def test_dates_near_the_ends_of_what_nanoseconds_hold_fill_within_their_range(start):
    rng = np.random.RandomState(0)
    dates = pd.Timestamp(start) + pd.to_timedelta(rng.randint(0, 30, size=200), unit="D")
    X = pd.DataFrame({"x": rng.normal(size=200), "d": dates})
    holes = rng.rand(200) < 0.3
    X.loc[holes, "d"] = pd.NaT
    imputer = VAEImputer(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = imputer.fit_transform(X)["d"][holes]
        drawn = imputer.sample(20, from_likelihood=False, random_state=0)["d"]
    for dates in (filled, drawn):
        assert dates.between(X["d"].min(), X["d"].max()).all()


def test_a_numpy_scalar_placeholder_marks_float32_holes_as_save_load_and_the_export_read_it(tmp_path):
    from skvae import load

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    X[rng.rand(120, 4) < 0.1] = -99.9
    imputer = VAEImputer(missing_values=np.float64(-99.9), hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = imputer.fit(X).transform(X)
    assert not (filled == np.float32(-99.9)).any()
    imputer.save(tmp_path / "imputer.skvae")
    np.testing.assert_array_equal(load(tmp_path / "imputer.skvae").transform(X), filled)
    np.testing.assert_allclose(imputer.to_torch()(torch.from_numpy(X)).detach().numpy(), filled, rtol=1e-6, atol=1e-6)


def test_transform_holds_the_output_once_not_its_chunks_and_a_copy_besides():
    # map_rows concatenated its chunks (the output twice at once) and the cast to float32 clipped a
    # copy: 8x X's bytes at the peak; written in place, 5.3x (float64 fills and hole flags, 4x).
    import tracemalloc

    rng = np.random.RandomState(0)
    X = rng.rand(20_000, 64).astype(np.float32)
    X[rng.rand(*X.shape) < 0.05] = np.nan
    imputer = VAEImputer(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer.fit(X[:1000])
    tracemalloc.start()
    try:
        imputer.transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * X.nbytes


def test_a_frame_fitted_imputer_reads_an_object_array_by_columns_whatever_its_placeholder():
    # A category "01234" is not the number 1234: an array given to a frame-fitted model keeps its values.
    frame = pd.DataFrame({"x": np.linspace(0, 1, 80), "code": ["01234", "00077", "?", "01234"] * 20})
    for placeholder in ("?", -1, np.nan):
        imputer = VAEImputer(missing_values=placeholder, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imputer.fit(frame)
            filled = imputer.transform(frame.to_numpy())
        # "?" is a level unless it marks the holes, which then all take the observed levels.
        levels = {"01234", "00077"} | (set() if placeholder == "?" else {"?"})
        assert set(filled["code"]) == levels


@pytest.mark.parametrize("format", ["dia", "lil", "dok"])
def test_a_numeric_placeholder_is_found_in_every_sparse_format(format):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 4)
    X[rng.rand(60, 4) < 0.1] = -1.0
    imputer = VAEImputer(missing_values=-1.0, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = imputer.fit(X).transform(X)
        np.testing.assert_array_equal(imputer.transform(sp.csr_matrix(X).asformat(format)), expected)


def test_a_string_placeholder_marks_bytes_too():
    X = np.array([[b"1.5", b"?"], [b"2.0", b"3.0"], [b"0.5", b"1.0"]] * 20)
    expected = np.array([[1.5, np.nan], [2.0, 3.0], [0.5, 1.0]] * 20)
    imputer = VAEImputer(missing_values="?", hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    reference = VAEImputer(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(imputer.fit_transform(X), reference.fit_transform(expected))


def test_a_numeric_placeholder_leaves_a_frame_s_flags_observed():
    # missing_values=0 made every False of a bool column a hole (False == 0), each filled as True, silently.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"reading": rng.normal(size=150), "flag": rng.rand(150) < 0.5})
    frame.loc[rng.rand(150) < 0.2, "reading"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = VAEImputer(missing_values=0, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit_transform(frame)
    pd.testing.assert_series_equal(filled["flag"], frame["flag"])
    assert (filled["reading"] != 0).all()
    # And a bool placeholder marks flags alone: a reading of 0.0 is a value.
    flags = frame.assign(flag=frame["flag"].astype("boolean"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        filled = VAEImputer(missing_values=False, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit_transform(flags)
    assert (filled["reading"] == 0).sum() == (frame["reading"] == 0).sum()
    assert filled["flag"].dtype == "boolean" and not filled["flag"].isna().any()  # its False values, filled


def test_a_string_placeholder_s_advice_names_it():
    # An array of "?" marks was told to replace them with NaN, where missing_values="?" does it; a
    # frame's column of numbers as strings was told to convert with pd.to_numeric, which fails on "?".
    X = np.array([["1", "?", "3"], ["2", "5", "?"]] * 10)
    with pytest.raises(ValueError, match=r"VAEImputer\(missing_values='\?'\)"):
        VAEImputer(max_iter=2).fit(X)
    frame = pd.DataFrame({"age": ["1", "?", "3", "4"] * 10, "b": np.arange(40.0)})
    with pytest.warns(UserWarning, match=r"pd.to_numeric\(X\['age'\], errors='coerce'\)"):
        VAEImputer(missing_values="?", hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(frame)


def test_pd_na_in_a_list_of_bounds_leaves_that_column_unbounded():
    # Refused with float()'s "not 'NAType'", where None and a Float64 Series' NA left the column unbounded.
    X = np.random.RandomState(0).rand(60, 3)
    X[::4, 1] = np.nan
    settings = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(min_value=[0.9, pd.NA, 0.9], **settings).fit(X)
        filled = imputer.transform(X)
        np.testing.assert_array_equal(filled, imputer.set_params(min_value=[0.9, None, 0.9]).transform(X))
    # A bound that binds elsewhere leaves column 1 alone (pd.NA read as 0.9, or as 0, would not).
    assert filled[::4, 1].min() < 0.9


def test_a_bound_that_is_no_number_in_a_list_is_refused_by_name():
    # float()'s bare "argument must be a string or a real number, not 'Timestamp'".
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=60), "when": pd.date_range("2020-01-01", periods=60, freq="D")})
    X.loc[::5, "when"] = pd.NaT
    # A NumPy date was worse: read as its count of days, 18262, it bounded the column of numbers.
    for bound in (pd.Timestamp("2020-01-01"), "a", np.datetime64("2020-01-01"), np.timedelta64(3, "D")):
        with pytest.raises(ValueError, match=r"min_value bounds columns of numbers only, each by a number; got "
                                             + re.escape(repr(bound))):
            VAEImputer(min_value=[None, bound], hidden_layer_sizes=(8,), max_iter=1).fit(X)
        with pytest.raises(ValueError, match=r"min_value bounds columns of numbers only, each by a number; got "
                                             + re.escape(repr(bound))):
            VAEImputer(min_value=[bound, None], hidden_layer_sizes=(8,), max_iter=1).fit(X)


def test_add_indicator_appends_the_columns_of_filled_entries_as_iterative_imputer_does(tmp_path):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    from skvae import load

    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4)).astype(np.float32)
    X[rng.rand(150, 4) < 0.15] = -1
    X[:, 2] = rng.normal(size=150)  # no holes at fit: no indicator column
    options = {"missing_values": -1, "hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(add_indicator=True, **options).fit(X)
    peer = IterativeImputer(missing_values=-1, add_indicator=True, max_iter=2).fit(X)
    out = imputer.transform(X)
    assert out.dtype == np.float32 and out.shape == peer.transform(X).shape == (150, 7)
    np.testing.assert_array_equal(out[:, 4:], peer.transform(X)[:, 4:])
    np.testing.assert_array_equal(imputer.indicator_.features_, peer.indicator_.features_)
    # Used alone it reads the placeholder, as MissingIndicator(missing_values=-1) does (NaN alone: no hole).
    np.testing.assert_array_equal(imputer.indicator_.transform(X), X[:, [0, 1, 3]] == -1)
    np.testing.assert_array_equal(imputer.get_feature_names_out(), peer.get_feature_names_out())
    # The fills are the imputer's without the indicator, which is read at each call.
    plain = imputer.set_params(add_indicator=False).transform(X)
    assert imputer.indicator_ is None and plain.shape == (150, 4)
    np.testing.assert_array_equal(out[:, :4], plain)
    imputer.set_params(add_indicator=True)
    imputer.save(tmp_path / "imputer.skvae")
    np.testing.assert_array_equal(load(tmp_path / "imputer.skvae").transform(X), out)
    graph = imputer.to_torch()
    np.testing.assert_allclose(graph(torch.from_numpy(X)).detach().numpy(), out, rtol=1e-6, atol=1e-6)


def test_add_indicator_marks_a_frames_filled_entries_in_bool_columns_unknown_levels_too():
    rng = np.random.RandomState(1)
    frame = pd.DataFrame({"size": rng.normal(size=200), "kind": rng.choice(["a", "b", "c"], 200),
                          "whole": rng.normal(size=200)})
    frame.loc[rng.rand(200) < 0.2, "size"] = np.nan
    frame.loc[rng.rand(200) < 0.2, "kind"] = None
    imputer = VAEImputer(add_indicator=True, handle_unknown="ignore", hidden_layer_sizes=(8,), max_iter=3,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer.fit(frame)
        new = frame.head(4).assign(kind=["d", None, "a", "b"])
        out = imputer.transform(new)
    assert list(out.columns) == ["size", "kind", "whole", "missingindicator_size", "missingindicator_kind"]
    assert list(out.columns) == list(imputer.get_feature_names_out())
    assert out["missingindicator_kind"].dtype == bool
    # The unseen level "d" is filled, so it is marked; "a" and "b" are kept, unmarked.
    assert out["missingindicator_kind"].tolist() == [True, True, False, False]
    np.testing.assert_array_equal(out["missingindicator_size"], new["size"].isna())
    assert not out.iloc[:, :3].isna().any().any()


def test_add_indicator_keeps_a_frame_without_string_labels_readable_by_the_next_step():
    # pd.DataFrame(X) has integer labels: "missingindicator_0" beside them made scikit-learn refuse the
    # output's feature names, and a Pipeline's next step failed to fit.
    from sklearn.linear_model import LinearRegression

    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    y = X[:, 0].copy()
    X[rng.rand(80, 3) < 0.2] = np.nan
    imputer = VAEImputer(add_indicator=True, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = make_pipeline(imputer, LinearRegression()).fit(pd.DataFrame(X), y)
        out = imputer.transform(pd.DataFrame(X))
    assert list(out.columns) == [0, 1, 2, ("missingindicator", 0), ("missingindicator", 1), ("missingindicator", 2)]
    np.testing.assert_array_equal(out.iloc[:, 3:].to_numpy(), np.isnan(X))
    assert pipeline.predict(pd.DataFrame(X)).shape == (80,)


@pytest.mark.usefixtures("one_onnx_operator_table")
def test_onnxruntime_reproduces_the_imputation_with_its_indicator(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    X[rng.rand(120, 3) < 0.2] = np.nan
    imputer = VAEImputer(add_indicator=True, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer.fit(X)
    session = ort.InferenceSession(str(imputer.to_onnx(tmp_path / "imputer.onnx")))
    (graph_input,) = session.get_inputs()
    for rows in (1, 120):
        (out,) = session.run(None, {graph_input.name: X[:rows]})
        np.testing.assert_allclose(out, imputer.transform(X[:rows]), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------- columns without an observed value


def _with_an_empty_column(n_rows=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 2)) @ rng.normal(size=(2, 5))
    X[rng.rand(*X.shape) < 0.15] = np.nan
    X[:, 1] = np.nan
    return X


@pytest.mark.parametrize("add_indicator", [False, True])
@pytest.mark.parametrize("keep_empty_features", [False, True])
def test_a_column_without_an_observed_value_is_skipped_as_iterative_imputer_skips_it(add_indicator, keep_empty_features):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    X = _with_an_empty_column()
    params = {"add_indicator": add_indicator, "keep_empty_features": keep_empty_features}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imputer = VAEImputer(max_iter=3, random_state=0, **params).fit(X)  # refused before
    skipped = [str(w.message) for w in caught if "without any observed values" in str(w.message)]
    # Warned of where it leaves the column out, as SimpleImputer's "Skipping features without any observed values".
    assert len(skipped) == (0 if keep_empty_features else 1)
    reference = IterativeImputer(max_iter=3, random_state=0, **params).fit(X)
    out = imputer.transform(X)
    assert out.shape == reference.transform(X).shape
    np.testing.assert_array_equal(imputer.get_feature_names_out(), reference.get_feature_names_out())
    assert not np.isnan(out).any()
    if keep_empty_features:
        np.testing.assert_array_equal(out[:, 1], 0.0)  # IterativeImputer's fill for it
    if add_indicator:
        np.testing.assert_array_equal(imputer.indicator_.features_, reference.indicator_.features_)
        np.testing.assert_array_equal(out[:, -5:], np.isnan(X).astype(float))


def test_the_skipped_column_is_never_read_and_set_params_keeps_it():
    X = _with_an_empty_column()
    with pytest.warns(UserWarning, match=r"skipping features without any observed values: \[1\]"):
        imputer = VAEImputer(max_iter=3, random_state=0).fit(X)
    assert imputer.n_features_in_ == 5 and list(imputer.column_likelihoods_) == [0, 2, 3, 4]
    dropped = imputer.transform(X)
    given = X.copy()
    given[::2, 1] = 7.5  # values there later change no fill, score or draw
    np.testing.assert_array_equal(imputer.transform(given), dropped)
    np.testing.assert_array_equal(imputer.score_samples(given), imputer.score_samples(X))
    imputer.set_params(keep_empty_features=True)
    kept = imputer.transform(given)
    np.testing.assert_array_equal(kept[:, [0, 2, 3, 4]], dropped)
    np.testing.assert_array_equal(kept[:, 1], np.where(np.isnan(given[:, 1]), 0.0, given[:, 1]))
    # sample holds it as transform does: holes (as every training row had there), or the fill 0.
    assert sample_shape(imputer) == (4, 5)
    drawn = imputer.sample(4, random_state=0, from_likelihood=False)
    np.testing.assert_array_equal(drawn[:, 1], 0.0)
    assert np.isnan(imputer.sample(50, random_state=0)[:, 1]).all()
    imputer.set_params(keep_empty_features=False)
    assert imputer.sample(4, random_state=0).shape == (4, 4)


def sample_shape(imputer):
    return imputer.sample(4, random_state=0).shape


def test_a_frame_keeps_its_skipped_columns_in_place_and_names_them():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({
        "a": rng.normal(size=80), "empty": np.nan, "level": pd.Categorical(rng.choice(["x", "y"], 80)),
        "none": pd.Series([None] * 80, dtype=object), "b": rng.normal(size=80),
    })
    X.loc[rng.rand(80) < 0.2, "a"] = np.nan
    with pytest.warns(UserWarning, match=r"\['empty', 'none'\] \(2 of 5 columns"):
        imputer = VAEImputer(max_iter=3, random_state=0, add_indicator=True).fit(X)
    out = imputer.transform(X)
    assert list(out.columns) == ["a", "level", "b", "missingindicator_a", "missingindicator_empty",
                                 "missingindicator_none"]
    assert list(out.columns) == list(imputer.get_feature_names_out())
    imputer.set_params(keep_empty_features=True)
    out = imputer.transform(X.assign(empty=[1.5] + [np.nan] * 79))
    assert list(out.columns[:5]) == list(X.columns) and list(out.columns) == list(imputer.get_feature_names_out())
    assert out["empty"].dtype == np.float64 and out["empty"].tolist() == [1.5] + [0.0] * 79
    assert (out["none"] == 0).all() and out["level"].dtype == X["level"].dtype
    assert list(imputer.sample(3, random_state=0).columns) == list(X.columns)
    # A likelihood named for it has nothing to model, as in a fold whose rows lack its values: no error.
    with pytest.warns(UserWarning, match="without any observed values"):
        VAEImputer(max_iter=3, random_state=0, likelihood={"empty": "poisson"}).fit(X)


@pytest.mark.parametrize("keep_empty_features", [False, True])
def test_the_exported_imputation_leaves_out_or_keeps_the_skipped_column_as_transform_does(keep_empty_features):
    X = _with_an_empty_column()
    X[np.isnan(X)] = -1.0  # a numeric placeholder, which the graph reads in every column
    X[3, 1] = 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(max_iter=3, random_state=0, missing_values=-1.0, add_indicator=True,
                             keep_empty_features=keep_empty_features).fit(np.where(np.arange(5) == 1, -1.0, X))
    graph = imputer.to_torch()
    with torch.no_grad():
        exported = graph(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(exported, imputer.transform(X), rtol=1e-6, atol=1e-6)
    assert exported.shape[1] == imputer._n_features_out


@pytest.mark.usefixtures("one_onnx_operator_table")
def test_the_onnx_imputation_keeps_the_skipped_column_as_transform_does(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    X = _with_an_empty_column().astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(max_iter=3, random_state=0, add_indicator=True, keep_empty_features=True).fit(X)
    X[:4, 1] = 3.0  # read by no fill; kept as it is
    session = ort.InferenceSession(str(imputer.to_onnx(tmp_path / "imputer.onnx")))
    exported = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(exported, imputer.transform(X), rtol=1e-5, atol=1e-5)


def test_a_saved_imputer_keeps_its_skipped_columns(tmp_path):
    import pickle

    from skvae import load

    X = _with_an_empty_column()
    imputer = VAEImputer(max_iter=3, random_state=0, keep_empty_features=True).fit(X)
    imputer.save(tmp_path / "imputer.skvae")
    for copy in (load(tmp_path / "imputer.skvae"), pickle.loads(pickle.dumps(imputer))):
        np.testing.assert_array_equal(copy.transform(X), imputer.transform(X))
        assert copy._schema.unread == imputer._schema.unread


def test_partial_fit_says_its_first_block_decides_the_skipped_columns():
    X = _with_an_empty_column()
    with pytest.warns(UserWarning, match="partial_fit's first call decides this"):
        imputer = VAEImputer(random_state=0).partial_fit(X[:60])
    later = X[60:].copy()
    later[:, 1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # said once, at the first call
        imputer.partial_fit(later)
    assert imputer.transform(later).shape == (60, 4)


def test_bounds_per_column_count_the_skipped_columns():
    X = _with_an_empty_column()
    with pytest.warns(UserWarning, match="without any observed values"):
        imputer = VAEImputer(max_iter=3, random_state=0, min_value=[0, 99, 1, 2, 3]).fit(X)
    filled = imputer.transform(X)  # the empty column 1 left out: the others keep their own bounds
    for column, bound in zip([0, 2, 3, 4], [0, 1, 2, 3]):
        fills = filled[np.isnan(X[:, column]), [0, 2, 3, 4].index(column)]
        assert fills.min() >= bound and (fills == bound).any()  # each bound binds on its column
    with pytest.raises(ValueError, match=r"'max_value' should be of shape \(5,\)"):
        imputer.set_params(max_value=[1, 1, 1, 1]).transform(X)


def test_a_cross_validation_fold_without_a_columns_values_scores_as_iterative_imputer_fills():
    from sklearn.model_selection import KFold, cross_val_score

    X = _with_an_empty_column(n_rows=90)
    X[:, 1] = np.where(np.arange(90) >= 60, 1.0, np.nan)  # observed only in the last fold's rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(VAEImputer(max_iter=3, random_state=0), X, cv=KFold(3), error_score="raise")
    assert np.isfinite(scores).all()


def test_integer_labels_position_keys_and_a_warm_start_follow_the_skipped_columns():
    X = _with_an_empty_column()
    X = np.c_[np.full(len(X), np.nan), X]  # empty columns 0 and 2
    X[:, 5] = np.random.RandomState(1).poisson(3, len(X)) + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A frame of integer labels was refused at every call after fit ("labels [0, 1, ...] are not those").
        frame = pd.DataFrame(X)
        imputer = VAEImputer(max_iter=3, random_state=0, keep_empty_features=True).fit(frame)
        assert imputer.transform(frame).shape == (len(X), 6)
        # A likelihood keyed by X's position lands on that column, not on the one left in its place.
        imputer = VAEImputer(max_iter=3, random_state=0, likelihood={5: "poisson", 0: "poisson"}).fit(X)
    assert imputer.column_likelihoods_[5] == "poisson" and imputer.column_likelihoods_[4] == "gaussian"
    assert 0 not in imputer.column_likelihoods_
    warm = imputer.set_params(warm_start=True)
    X[:, 0] = 1.0
    with pytest.warns(UserWarning, match=r"holds values in \[0\], which had none then: the model does not read them"):
        warm.fit(X)


def test_every_column_empty_is_refused_as_such():
    with pytest.raises(ValueError, match="X holds no observed value in any of its 3 columns"):
        VAEImputer().fit(np.full((5, 3), np.nan))


def test_an_arrow_column_of_nan_values_is_skipped_and_kept_as_its_entries_read():
    pa = pytest.importorskip("pyarrow")
    rng = np.random.RandomState(0)
    nan_values = pd.arrays.ArrowExtensionArray(pa.array([np.nan] * 50, from_pandas=False))  # NaN, not null
    X = pd.DataFrame({"a": rng.rand(50), "b": pd.Series(nan_values), "c": rng.rand(50)})
    imputer = VAEImputer(max_iter=3, random_state=0, keep_empty_features=True, add_indicator=True).fit(X)  # refused
    out = imputer.transform(X)
    assert out["b"].tolist() == [0.0] * 50 and out["missingindicator_b"].all()


def test_a_likelihood_dict_is_checked_against_all_of_xs_columns():
    X = np.random.RandomState(0).rand(50, 3)
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match=r"does not have: \[3\]. X's columns: \[0, 1, 2\]"):
        VAEImputer(likelihood={3: "gaussian"}).fit(X)
    with pytest.raises(ValueError, match="unknown likelihoods {1: 'nonsense'}"):  # accepted silently
        VAEImputer(likelihood={1: "nonsense"}).fit(X)


def test_bounds_given_as_a_series_to_an_imputer_fitted_on_an_array_are_read_by_their_labels():
    # They were read by position: min_value=pd.Series({3: 0.9, 0: 0, 1: 0, 2: 0}) bounded feature 0 at 0.9
    # and left feature 3 unbounded.
    rng = np.random.RandomState(0)
    X = rng.rand(100, 4)
    holes = rng.rand(100, 4) < 0.2
    X[holes] = np.nan
    params = {"hidden_layer_sizes": (16,), "max_iter": 2, "random_state": 0}
    filled = VAEImputer(**params, min_value=pd.Series({3: 0.9, 0: 0.0, 1: 0.0, 2: 0.0})).fit_transform(X)
    assert filled[holes[:, 3], 3].min() >= 0.9 and filled[holes[:, 0], 0].min() < 0.9
    for labels in (list("abcd"), [0, 1, 2], [0, 1, 2, 2.5], [0, 1, 1, 2]):
        with pytest.raises(ValueError, match=r"min_value as a Series is read by its labels, which for an imputer fitted"):
            VAEImputer(**params, min_value=pd.Series(0.0, index=labels)).fit_transform(X)


def test_a_polars_frame_comes_back_in_its_own_polars_dtypes_under_polars_output():
    # scikit-learn's polars output converted the filled pandas frame: an Enum came back a Categorical
    # (sorting put "hi" first), a Date a Datetime, a Decimal(10, 2) a Decimal(5, 2).
    pl = pytest.importorskip("polars")
    import datetime
    import decimal

    rng = np.random.default_rng(0)
    n = 100
    frame = pl.DataFrame({
        "c": pl.Series(rng.choice(["lo", "mid", "hi"], n).tolist(), dtype=pl.Enum(["lo", "mid", "hi", "unused"])),
        "d": [None if k % 9 == 0 else datetime.date(2020, 1, 1 + k % 20) for k in range(n)],
        "x": pl.Series([None if k % 7 == 0 else decimal.Decimal(f"{k}.25") for k in range(n)], dtype=pl.Decimal(10, 2)),
        "f": [None if r < 0.2 else v for r, v in zip(rng.random(n), rng.normal(size=n))],
    })
    imputer = VAEImputer(hidden_layer_sizes=(16,), max_iter=2, random_state=0).set_output(transform="polars")
    filled = imputer.fit(frame).transform(frame)
    assert filled.schema == frame.schema
    assert filled.null_count().sum_horizontal().item() == 0
    observed = frame.with_row_index().drop_nulls()
    assert filled.with_row_index().join(observed.select("index"), on="index").drop("index").equals(observed.drop("index"))
    assert isinstance(imputer.set_output(transform="default").transform(frame), pd.DataFrame)
