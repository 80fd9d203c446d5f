"""Regression tests for the defects found where one path disagreed with another (issue 18), one each.

Each reproduces a defect in a few lines and checks the behaviour that
replaced it. The numbers in the names are the issue's.
"""

import contextlib
import json
import pickle
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from torch import nn

from skvae import (
    AutoencoderTransformer,
    ConditionalVAETransformer,
    HierarchicalVAETransformer,
    VAEGANTransformer,
    VAEImputer,
    VAETransformer,
    VQVAETransformer,
    load,
)

FAST = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _counts(n=120, scale=3.0):
    rng = np.random.RandomState(0)
    return rng.poisson(scale * np.exp(rng.normal(size=(n, 1)) @ rng.normal(size=(1, 5)) * 0.3)).astype(float)


def _mixed(n=120):
    rng = np.random.RandomState(0)
    z = rng.normal(size=n)
    frame = pd.DataFrame({
        "height": 170 + 10 * z + rng.normal(size=n),
        "city": pd.Categorical(np.where(z > 0.3, "Lima", np.where(z < -0.3, "Oslo", "Rome"))),
        "visits": rng.poisson(np.exp(1 + 0.5 * z)),
        "member": z + rng.normal(size=n) > 0,
        "weight": (60 + 5 * z).astype(np.float32),
    })
    frame.loc[::9, "height"] = np.nan
    frame.loc[::13, "city"] = np.nan
    return frame


def _graph_out(model, method, inputs):
    with torch.inference_mode():
        return model.to_torch(method)(torch.as_tensor(np.asarray(inputs, dtype=np.float64))).numpy()


@pytest.mark.parametrize("likelihood", ["poisson", "negative_binomial"])
def test_1_count_models_export_what_transform_computes(likelihood):
    X = _counts()
    vae = VAETransformer(likelihood=likelihood, **FAST).fit(X)
    np.testing.assert_allclose(_graph_out(vae, "transform", X), vae.transform(X), rtol=1e-5, atol=1e-6)


def test_2_models_with_holes_and_categories_export_what_transform_computes():
    X = _mixed()
    vae = VAETransformer(likelihood="auto", **FAST).fit(X)
    values = vae._schema.values(X)  # what the graph reads: categories as their index, NaN for holes
    index = pd.Categorical(X["city"], categories=vae.column_categories_["city"]).codes
    np.testing.assert_array_equal(values[:, 1], np.where(index < 0, np.nan, index))
    np.testing.assert_allclose(_graph_out(vae, "transform", values), vae.transform(X), rtol=1e-5, atol=1e-6)


def test_3_the_imputer_exports_the_imputation_not_codes():
    X = np.random.RandomState(0).normal(size=(120, 4))
    X[::5, 2] = np.nan
    imputer = VAEImputer(**FAST).fit(X)
    out = _graph_out(imputer, "transform", X)
    assert out.shape == X.shape
    np.testing.assert_allclose(out, imputer.transform(X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="no inverse_transform"):
        imputer.to_torch("inverse_transform")
    with pytest.raises(ValueError, match="sample_posterior=False"):
        imputer.set_params(sample_posterior=True).to_torch()


def test_the_imputers_graph_reads_a_numeric_missing_values_as_a_hole():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    X[::5, 2] = -1.0
    imputer = VAEImputer(missing_values=-1, **FAST).fit(X)
    # The graph returned the placeholders as they were and read them as values.
    np.testing.assert_allclose(_graph_out(imputer, "transform", X), imputer.transform(X), rtol=1e-5, atol=1e-6)
    # In a category's column the graph reads an index, and index 0 is a category, not the placeholder 0.
    frame = pd.DataFrame({"x": rng.normal(size=120), "y": rng.normal(size=120),
                          "kind": pd.Categorical(rng.choice(["a", "b"], 120))})
    frame.loc[::6, "x"] = 0.0
    imputer = VAEImputer(missing_values=0, **FAST).fit(frame)
    inputs = np.column_stack([frame["x"], frame["y"], frame["kind"].cat.codes])
    out = _graph_out(imputer, "transform", inputs)
    filled = imputer.transform(frame)
    np.testing.assert_allclose(out[:, :2], filled[["x", "y"]].to_numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[:, 2], frame["kind"].cat.codes)


@pytest.mark.usefixtures("one_onnx_operator_table")
def test_the_imputers_onnx_graph_reads_a_float64_placeholder_and_not_in_durations(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    X[rng.rand(120, 4) < 0.15] = -99.9
    imputer = VAEImputer(missing_values=-99.9, **FAST).fit(X)
    with warnings.catch_warnings():
        # float64's largest value as a clamp bound warned "overflow encountered in cast" at export.
        warnings.simplefilter("error", RuntimeWarning)
        imputer.to_onnx(tmp_path / "imputer.onnx", dtype=np.float64)
    session = ort.InferenceSession(str(tmp_path / "imputer.onnx"))
    out = session.run(None, {session.get_inputs()[0].name: X})[0]
    # The placeholder was a float32 constant there, which no float64 -99.9 equalled: holes came back unfilled.
    np.testing.assert_allclose(out, imputer.transform(X), rtol=1e-5, atol=1e-6)
    # transform's X == 0 never matches a duration or a date, so neither does the graph's.
    frame = pd.DataFrame({"x": rng.normal(size=120), "wait": pd.to_timedelta(rng.randint(0, 20, 120), unit="s")})
    frame.loc[::6, "x"] = 0.0
    frame.loc[::7, "wait"] = pd.Timedelta(0)
    imputer = VAEImputer(missing_values=0, **FAST).fit(frame)
    inputs = np.column_stack([frame["x"], frame["wait"].to_numpy().astype("timedelta64[ns]").astype(np.int64)])
    out = _graph_out(imputer, "transform", inputs)
    filled = imputer.transform(frame)
    assert (filled["wait"][::7] == pd.Timedelta(0)).all()
    np.testing.assert_array_equal(out[::7, 1], 0.0)  # were filled, about 8 s each
    np.testing.assert_allclose(out[:, 0], filled["x"].to_numpy(), rtol=1e-5, atol=1e-6)


def test_4_an_integer_placeholder_marks_holes_in_an_integer_array():
    X = np.random.RandomState(0).randint(0, 9, size=(120, 4))
    X[::6, 1] = -1
    filled = VAEImputer(missing_values=-1, **FAST).fit_transform(X)
    assert not (filled == -1).any() and not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[X != -1], X[X != -1])


def test_5_an_unseen_category_ignored_is_filled():
    X = _mixed()
    imputer = VAEImputer(handle_unknown="ignore", **FAST).fit(X)
    unseen = X.copy()
    unseen["city"] = unseen["city"].cat.add_categories("Quito")
    unseen.loc[4, "city"] = "Quito"
    out = imputer.transform(unseen)
    assert out.loc[4, "city"] in {"Lima", "Oslo", "Rome"}
    assert out.isna().sum().sum() == 0


def test_6_discrete_holes_get_their_most_probable_value():
    X = _counts()
    X[::4, 0] = np.nan
    filled = VAEImputer(likelihood="poisson", **FAST).fit_transform(X)
    assert np.all(filled[::4, 0] == np.round(filled[::4, 0]))
    B = (np.random.RandomState(0).rand(120, 5) > 0.5).astype(float)
    B[::4, 1] = np.nan
    filled = VAEImputer(likelihood="bernoulli", **FAST).fit_transform(B)
    assert set(np.unique(filled[::4, 1])) <= {0.0, 1.0}


def test_7_a_conditional_model_decodes_a_mixed_frame_without_y_in_its_dtypes():
    X = _mixed().drop(columns="height")
    y = np.arange(len(X)) % 3
    cvae = ConditionalVAETransformer(likelihood="auto", **FAST).fit(X, y)
    decoded = cvae.inverse_transform(cvae.transform(X[:6]))
    assert dict(decoded.dtypes) == dict(X.dtypes)
    assert set(decoded["city"]) <= {"Lima", "Oslo", "Rome"}


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_8_dates_come_back_as_dates(tz):
    rng = np.random.RandomState(0)
    when = pd.Timestamp("2024-01-01", tz=tz) + pd.to_timedelta(rng.randint(0, 400, 120), unit="D")
    X = pd.DataFrame({"when": when, "amount": rng.normal(size=120) + np.arange(120) / 40})
    vae = VAETransformer(likelihood="auto", **FAST).fit(X)
    for out in (vae.sample(5, random_state=0), vae.inverse_transform(vae.transform(X[:5]))):
        assert out["when"].dtype == X["when"].dtype
        assert (out["when"] > pd.Timestamp("2020-01-01", tz=tz)).all()


def test_9_float32_nullable_and_string_columns_keep_their_dtypes_through_a_save(tmp_path):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({
        "f32": rng.normal(size=120).astype(np.float32),
        "nullable": pd.array(rng.normal(size=120), dtype="Float64"),
        "text": pd.array(rng.choice(["a", "b"], 120), dtype="string[python]"),
        "small": pd.Categorical(rng.choice(np.array([1, 2, 3], dtype=np.uint8), 120)),
    })
    X.loc[::7, "nullable"] = pd.NA
    vae = VAETransformer(likelihood="auto", **FAST).fit(X)
    vae.save(tmp_path / "model.skvae")
    loaded = load(tmp_path / "model.skvae")
    for model in (vae, loaded):
        for out in (model.sample(4, random_state=0), model.inverse_transform(model.transform(X[:4]))):
            assert dict(out.dtypes) == dict(X.dtypes)
    pd.testing.assert_frame_equal(loaded.sample(4, random_state=0), vae.sample(4, random_state=0))
    imputed = VAEImputer(**FAST).fit_transform(X)
    assert dict(imputed.dtypes) == dict(X.dtypes)


def test_10_a_column_with_no_observed_value_is_refused():
    X = pd.DataFrame({"a": np.arange(10.0), "b": np.full(10, np.nan)})
    with pytest.raises(ValueError, match="Column 'b' has no observed value in the 10 training rows"):
        VAETransformer(likelihood="auto", **FAST).fit(X)
    # A cross-validation fold cannot drop a column: the advice says what a search can do.
    with pytest.raises(ValueError, match=r"in a cross-validation, .*KFold\(shuffle=True\), or drop the column before"):
        VAETransformer(**FAST).fit(X)


def test_11_an_object_column_of_nones_is_a_clear_error():
    X = pd.DataFrame({"a": np.arange(10.0), "b": pd.Series([None] * 10, dtype=object)})
    with pytest.raises(ValueError, match="Column 'b' has no observed value"):
        VAETransformer(likelihood="auto", **FAST).fit(X)


def test_12_a_hierarchy_without_layers_is_a_clear_error():
    with pytest.raises(ValueError, match=r"latent_dims=\(\) gives no latent layer; a hierarchical VAE needs at least two"):
        HierarchicalVAETransformer(()).fit(np.random.RandomState(0).normal(size=(20, 3)))


def test_13_zero_as_the_placeholder_of_a_sparse_matrix_is_a_clear_error():
    X = sp.random(40, 5, density=0.3, format="csr", random_state=0)
    with pytest.raises(ValueError, match="missing_values == 0 and X is sparse"):
        VAEImputer(missing_values=0, **FAST).fit(X)
    X.data[::3] = -1
    VAEImputer(missing_values=-1, **FAST).fit(X)  # another placeholder is marked in the stored entries


def test_14_the_imputer_samples():
    X = np.random.RandomState(0).normal(size=(80, 4))
    X[::5, 2] = np.nan
    imputer = VAEImputer(**FAST).fit(X)
    assert imputer.sample(3, random_state=0).shape == (3, 4)
    # Draws come as the training rows came, holes at their rate and where they were (the docstring says so).
    holes = np.isnan(imputer.sample(2000, random_state=0)).mean(axis=0)
    assert holes[[0, 1, 3]].max() == 0 and abs(holes[2] - 0.2) < 0.04
    assert not np.isnan(imputer.sample(200, random_state=0, from_likelihood=False)).any()


@pytest.mark.parametrize("likelihood, scale", [("poisson", 1e5), ("negative_binomial", 1e7)])
def test_15_an_untrained_model_of_large_counts_has_not_diverged(likelihood, scale):
    X = _counts(scale=scale)
    vae = VAETransformer(likelihood=likelihood, learning_rate_init=1e-9, max_iter=1, hidden_layer_sizes=(8,),
                         random_state=0).fit(X)
    assert np.isfinite(vae.score(X))


def test_15_a_model_that_really_diverged_still_raises():
    X = np.random.RandomState(0).normal(size=(200, 4))
    with pytest.raises(ValueError, match="Training diverged"):
        VAETransformer(learning_rate_init=1e8, max_iter=3, hidden_layer_sizes=(8,), random_state=0).fit(X * 1e3)


def _rewrite(path, change):
    with zipfile.ZipFile(path) as archive:
        metadata, arrays = json.loads(archive.read("skvae.json")), archive.read("arrays.safetensors")
    change(metadata)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("skvae.json", json.dumps(metadata))
        archive.writestr("arrays.safetensors", arrays)


def test_16_damaged_files_are_refused_at_load_with_a_clear_error(tmp_path):
    X = np.random.RandomState(0).normal(size=(60, 3))
    path = tmp_path / "model.skvae"
    VAETransformer(**FAST).fit(X).save(path)
    _rewrite(path, lambda metadata: metadata.pop("state"))
    with pytest.raises(ValueError, match=r"incomplete or damaged: its metadata lacks \['state'\]"):
        load(path)
    VAETransformer(**FAST).fit(X).save(path)

    def drop_network(metadata):
        metadata["state"]["__dict__"] = [kv for kv in metadata["state"]["__dict__"] if kv[0] != "network_"]

    _rewrite(path, drop_network)
    with pytest.raises(ValueError, match="holds no fitted network"):
        load(path)
    path.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="is not a file written by skvae's save"):
        load(path)


def test_17_the_autoencoder_takes_every_likelihood_the_api_page_lists():
    # docs/api.md lists one set for every estimator (tests/test_readme.py checks the page).
    ae = AutoencoderTransformer(likelihood="poisson", **FAST).fit(_counts())
    assert np.isfinite(ae.score_samples(_counts())).all()
    mixed = AutoencoderTransformer(**FAST).fit(_mixed())  # likelihood="auto"
    assert mixed.column_likelihoods_["city"] == "categorical"


# ---- found by a review against scikit-learn's PCA and IsolationForest (after issue 18)


def test_an_array_given_to_a_dataframe_fitted_model_is_checked_as_scikit_learn_checks_it():
    X = np.random.RandomState(0).normal(size=(40, 3))
    frame = pd.DataFrame(X, columns=list("abc"))
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.warns(UserWarning, match="X does not have valid feature names, but VAETransformer"):
        vae.transform(X)
    # was pandas' "Shape of passed values is (40, 2), indices imply (40, 3)"
    with pytest.raises(ValueError, match="X has 2 features, but VAETransformer is expecting 3 features"):
        vae.transform(X[:, :2])


def test_the_outlier_detector_names_itself_and_leaves_numpys_global_rng_alone():
    from skvae import VAEOutlierDetector

    X = np.random.RandomState(0).normal(size=(40, 3))
    before = np.random.get_state()
    detector = VAEOutlierDetector(VAETransformer(hidden_layer_sizes=(8,), max_iter=3)).fit(
        pd.DataFrame(X, columns=list("abc")))
    after = np.random.get_state()  # random_state=None: OS entropy, not numpy's generator
    assert np.array_equal(after[1], before[1]) and after[2:] == before[2:]  # the key and the position
    with pytest.raises(ValueError, match="X has 2 features, but VAEOutlierDetector is expecting 3"):
        detector.predict(X[:, :2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.predict(X)
    names = [str(w.message) for w in caught if "feature names" in str(w.message)]
    assert names == ["X does not have valid feature names, but VAEOutlierDetector was fitted with feature names"]


@pytest.mark.parametrize("kind", ["array", "sparse"])
def test_an_array_column_with_no_observed_value_is_refused_as_a_dataframes_is(kind):
    X = np.random.RandomState(0).normal(size=(10, 3))
    X[:, 1] = np.nan
    X = sp.csr_matrix(X) if kind == "sparse" else X
    with pytest.raises(ValueError, match="Column 1 has no observed value in the 10 training rows"):
        VAETransformer(**FAST).fit(X)
    # The imputer leaves it out, as IterativeImputer does (it had filled it silently, then refused it).
    with pytest.warns(UserWarning, match=r"skipping features without any observed values: \[1\]"):
        assert VAEImputer(**FAST).fit(X).transform(X).shape == (10, 2)


def test_a_float32_dataframe_gives_float32_outputs_as_a_float32_array_does():
    X = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    frame = pd.DataFrame(X, columns=list("abc"))
    vae = VAETransformer(**FAST).fit(frame)
    assert vae.transform(frame).dtype == np.float32 and vae.score_samples(frame).dtype == np.float32
    assert vae.transform(frame.astype({"a": np.float64})).dtype == np.float64
    np.testing.assert_array_equal(vae.transform(frame), VAETransformer(**FAST).fit(X).transform(X))


def test_the_imputer_takes_pandas_na_as_its_placeholder_as_simpleimputer_does():
    X = np.random.RandomState(0).normal(size=(40, 3))
    X[0, 0] = np.nan
    filled = VAEImputer(**FAST, missing_values=pd.NA).fit_transform(X)
    np.testing.assert_array_equal(filled, VAEImputer(**FAST).fit_transform(X))


def test_handle_unknown_is_read_when_called_as_onehotencoder_reads_it(tmp_path):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "c": rng.choice(["x", "y"], 60).astype(object)})
    new = frame.iloc[:2].copy()
    new.loc[new.index[0], "c"] = "w"
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.raises(ValueError, match="categories not seen at fit: \\['w'\\]"):
        vae.transform(new)
    vae.set_params(handle_unknown="ignore")  # what that error advises, on the fitted model
    codes = vae.transform(new)
    vae.save(tmp_path / "model.skvae")
    loaded = load(tmp_path / "model.skvae")
    np.testing.assert_array_equal(loaded.transform(new), codes)
    with pytest.raises(ValueError, match="categories not seen at fit"):
        loaded.set_params(handle_unknown="error").transform(new)


def test_a_hierarchy_transform_layers_inverse_graph_reads_float64_codes():
    X = np.random.RandomState(0).normal(size=(60, 4))
    hvae = HierarchicalVAETransformer(latent_dims=(2, 1), transform_layer=1, **FAST).fit(X)
    Z = hvae.transform(X)
    with torch.no_grad():
        out = hvae.to_torch("inverse_transform")(torch.from_numpy(Z))  # was "Double and Float"
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), hvae.inverse_transform(Z), rtol=1e-5, atol=1e-6)


def test_the_imputer_takes_a_bool_column_given_as_0_1_as_the_vae_does():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "flag": rng.rand(60) > 0.5})
    frame.loc[::7, "a"] = np.nan
    imputer = VAEImputer(**FAST).fit(frame)
    filled = imputer.transform(frame.assign(flag=frame["flag"].astype(int)))  # was pandas' TypeError
    pd.testing.assert_frame_equal(filled, imputer.transform(frame))


def test_times_with_and_without_a_time_zone_are_not_mixed():
    when = pd.date_range("2020-01-01", periods=60, freq="6h", tz="US/Eastern")
    frame = pd.DataFrame({"when": when, "v": np.random.RandomState(0).normal(size=60)})
    naive = frame.assign(when=when.tz_localize(None))
    with pytest.raises(ValueError, match="times with and without a time zone cannot be compared"):
        VAETransformer(**FAST).fit(frame).transform(naive)  # was read as UTC, 5 hours off
    with pytest.raises(ValueError, match="times with and without a time zone cannot be compared"):
        VAETransformer(**FAST).fit(naive).transform(frame)
    utc = frame.assign(when=when.tz_convert("UTC"))  # the same instants in another zone
    vae = VAETransformer(**FAST).fit(frame)
    np.testing.assert_array_equal(vae.transform(utc), vae.transform(frame))


def test_the_imputer_keeps_a_sparse_float32_matrix_float32():
    X = np.random.RandomState(0).normal(size=(60, 3)).astype(np.float32)
    X[0, 0] = np.nan
    imputer = VAEImputer(**FAST).fit(X)
    assert imputer.transform(sp.csr_matrix(X)).dtype == np.float32 == imputer.transform(X).dtype


# Found in a review of the joins (this release), one test each.


def test_the_imputer_keeps_an_integer_column_with_a_placeholder_integer():
    # mask() made it float64, fitted as a float column and filled with fractions.
    rng = np.random.RandomState(0)
    visits, holes = rng.poisson(3, 200), rng.rand(200) < 0.2
    X = pd.DataFrame({"height": rng.normal(170, 10, 200), "visits": np.where(holes, -1, visits),
                      "member": rng.rand(200) < 0.5})
    imputer = VAEImputer(missing_values=-1, **FAST).fit(X)
    out = imputer.transform(X)
    # In the nullable dtype the model was fitted in, whichever rows hold a placeholder.
    assert out.dtypes.to_dict() == {"height": np.float64, "visits": pd.Int64Dtype(), "member": np.bool_}
    assert imputer.transform(X[~holes])["visits"].dtype == pd.Int64Dtype()
    assert (out.loc[~holes, "visits"] == visits[~holes]).all() and (out.loc[holes, "visits"] >= 0).all()
    # A model fitted on a float column keeps it float for integers given with placeholders: no truncation.
    floats = VAEImputer(missing_values=-1, **FAST).fit(X.astype({"visits": float}).replace(-1, np.nan))
    assert floats.transform(X)["visits"].dtype == np.float64
    # Duplicate names get scikit-learn's error, not one from the placeholder's handling.
    with pytest.raises(ValueError, match="unique column names"):
        VAEImputer(missing_values=-1, **FAST).fit(X.set_axis(["height", "visits", "visits"], axis=1))


def test_an_object_column_of_strings_comes_back_object():
    # pandas 3 made a bare object array of strings its str dtype.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=60), "city": pd.Series(rng.choice(["Lima", "Oslo"], 60), dtype=object)},
                     index=np.arange(60) + 7)
    X.loc[X.index[::5], "city"] = None
    vae = VAETransformer(**FAST).fit(X)
    assert vae.inverse_transform(vae.transform(X))["city"].dtype == object
    assert vae.sample(4, random_state=0)["city"].dtype == object
    filled = VAEImputer(**FAST).fit(X).transform(X)
    assert filled["city"].dtype == object and filled.index.equals(X.index) and filled["city"].notna().all()


def test_a_bool_or_integer_column_with_a_none_is_read_as_numbers():
    # pandas holds [True, None] as an object column, which was refused as not the fit's bool.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=80), "member": rng.rand(80) < 0.5, "n": rng.randint(0, 9, 80)})
    new = pd.DataFrame({"x": [0.1, 0.2], "member": [True, None], "n": [None, 3]}, dtype=object).astype({"x": float})
    nullable = new.astype({"member": "boolean", "n": "Int64"})
    vae = VAETransformer(**FAST).fit(X)
    np.testing.assert_array_equal(vae.transform(new), vae.transform(nullable))
    imputer = VAEImputer(**FAST).fit(X)
    pd.testing.assert_frame_equal(imputer.transform(new), imputer.transform(nullable))
    with pytest.raises(ValueError, match="'member' holds str values"):
        vae.transform(new.assign(member=["yes", None]))


def test_a_covariate_models_flat_condition_gets_the_same_advice_for_any_n_samples():
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(100, 4)), rng.normal(size=(100, 2))
    cvae = ConditionalVAETransformer(**FAST).fit(X, Y)
    for n_samples in (2, 3):
        with pytest.raises(ValueError, match=r"must be 2-D.*shape \(2,\).*reshape\(1, -1\)"):
            cvae.sample(n_samples, y=Y[0], random_state=0)
    assert cvae.sample(3, y=Y[:1], random_state=0).shape == (3, 4)


def test_save_keeps_interval_categories_as_pickle_does(tmp_path):
    # Refused at first ("Use pickle or joblib"); the file format now writes intervals as plain values.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"income": rng.normal(size=80), "band": pd.cut(rng.uniform(20, 70, 80), [20, 40, 70])})
    vae = VAETransformer(**FAST).fit(X)
    vae.save(tmp_path / "bands.skvae")
    np.testing.assert_array_equal(load(tmp_path / "bands.skvae").transform(X), vae.transform(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(vae)).transform(X), vae.transform(X))


# Found in a review of edge inputs and messages (this release), one test each.


def test_the_imputer_fills_a_column_of_shares_with_shares_not_0_or_1():
    # likelihood="auto" models values in [0, 1] as Bernoulli; its mode was 0 or 1 even for 0.3-0.7.
    rng = np.random.RandomState(0)
    truth = rng.uniform(0.3, 0.7, size=(200, 3))
    X = truth.copy()
    holes = rng.rand(*X.shape) < 0.2
    X[holes] = np.nan
    X[:, 2] = np.where(holes[:, 2], np.nan, truth[:, 2] > 0.5)  # a 0/1 column keeps 0/1 fills
    # Named: "auto" no longer counts the flag toward making the shares probabilities.
    filled = VAEImputer(likelihood="bernoulli", **FAST).fit(X).transform(X)
    assert np.all((filled[holes[:, 0], 0] > 0.05) & (filled[holes[:, 0], 0] < 0.95))
    assert set(np.unique(filled[:, 2])) <= {0.0, 1.0}


def test_a_column_of_tiny_spread_is_measured_not_taken_for_constant():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    X[:, 0] *= 1e-200
    # Its square underflows: the VAE's noise_variance_ could not hold it, and says so.
    with pytest.raises(ValueError, match=r"X\[:, 0\] has a standard deviation of 1.07e-200, below 1e-150.*could underflow float64"):
        VAETransformer(likelihood="gaussian", **FAST).fit(X)
    with_hole = X.copy()
    with_hole[0, 1] = np.nan
    for data in (X, with_hole):  # both ways of measuring a column (with and without holes)
        ae = AutoencoderTransformer(likelihood="gaussian", hidden_layer_sizes=(8,), max_iter=30,
                                    random_state=0).fit(data)
        decoded = ae.inverse_transform(ae.transform(data))[:, 0]
        assert np.abs(decoded).max() < 1e-198 and np.corrcoef(decoded * 1e200, X[:, 0] * 1e200)[0, 1] > 0.5


def test_a_2d_y_of_labels_is_told_to_come_1d():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    with pytest.raises(ValueError, match=r"y is 2-D, so it is read as numeric covariates.*df\['label'\]"):
        ConditionalVAETransformer(**FAST).fit(X, pd.DataFrame({"label": rng.choice(["cat", "dog"], 60)}))
    one_covariate = ConditionalVAETransformer(**FAST).fit(X, rng.normal(size=(60, 1)))
    with pytest.raises(ValueError, match=r"One covariate per sample is y.reshape\(-1, 1\)"):
        one_covariate.transform(X, rng.normal(size=60))
    one_covariate.transform(X, rng.normal(size=60).reshape(-1, 1))  # the advice works
    # Two label columns were told to ravel, which gave y twice X's rows.
    labels = pd.DataFrame({"sex": rng.choice(["F", "M"], 60), "island": rng.choice(["Biscoe", "Dream"], 60)})
    with pytest.raises(ValueError, match=r"one column of class labels, not 2: combine them") as error:
        ConditionalVAETransformer(**FAST).fit(X, labels)
    assert "ravel" not in str(error.value)
    ConditionalVAETransformer(**FAST).fit(X, labels["sex"] + "/" + labels["island"])  # the advice works
    ConditionalVAETransformer(**FAST).fit(X, pd.get_dummies(labels, dtype=float))


def test_a_convergence_warning_says_when_the_stopping_rule_could_not_have_fired():
    X = np.random.RandomState(0).rand(60, 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        VAETransformer(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X)
        # The VAE-GAN's default n_iter_no_change trains every epoch of the game by design.
        VAEGANTransformer(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1 and "VAETransformer" in messages[0], messages
    assert "cannot end a fit of max_iter=5 epochs: it needs 22 (the KL warm-up's 10, then" in messages[0]
    assert caught[0].filename == __file__  # the warning points at the caller's line
    # ... whatever the entry point: a subclass's own fit, fit_transform, a Pipeline.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        HierarchicalVAETransformer(hidden_layer_sizes=(8,), max_iter=2, batch_size=500).fit(X)
        VAEImputer(hidden_layer_sizes=(8,), max_iter=2).fit_transform(X)
        make_pipeline(AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=2)).fit(X)
    assert len(caught) == 4 and {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]


def test_save_refuses_a_lambda_encoder_that_load_could_not_import(tmp_path):
    X = np.random.RandomState(0).rand(40, 4)
    vae = VAETransformer(encoder=lambda in_features: nn.Linear(in_features, 8), **FAST).fit(X)
    with pytest.raises(TypeError, match="a lambda or a class or function defined inside another.*top level"):
        vae.save(tmp_path / "lambda.skvae")
    assert not (tmp_path / "lambda.skvae").exists()


def test_a_misspelt_parameter_gets_the_close_name():
    with pytest.raises(ValueError, match="unexpected parameter 'latent_dim'. Did you mean 'latent_dims'"):
        HierarchicalVAETransformer(latent_dim=4).fit(np.zeros((10, 3)))


def test_the_imputer_finds_a_numeric_placeholder_in_an_object_array():
    rng = np.random.RandomState(0)
    X = rng.rand(80, 3)
    X[rng.rand(80, 3) < 0.2] = -1
    filled = VAEImputer(missing_values=-1, **FAST).fit_transform(X.astype(object))
    assert filled.dtype == np.float64 and not (filled == -1).any()


def test_partial_fit_names_classes_for_a_label_it_does_not_list():
    X = np.random.RandomState(0).rand(40, 4)
    with pytest.raises(ValueError, match=r"y holds labels that classes=\[0, 1\] does not list: \[2\]"):
        ConditionalVAETransformer(**FAST).partial_fit(X, np.arange(40) % 3, classes=[0, 1])
    fitted = ConditionalVAETransformer(**FAST).partial_fit(X, np.arange(40) % 2, classes=[0, 1])
    with pytest.raises(ValueError, match=r"not fitted with: \[2\].*a new label needs a new fit"):
        fitted.partial_fit(X, np.full(40, 2))


def test_a_block_without_any_observed_value_is_refused_and_changes_nothing():
    X = np.random.RandomState(0).rand(50, 3)
    vae = VAETransformer(**FAST).partial_fit(X)
    before = vae.transform(X)
    with pytest.raises(ValueError, match="X holds no observed value in its 50 rows"):
        vae.partial_fit(np.full_like(X, np.nan))
    np.testing.assert_array_equal(vae.transform(X), before)
    assert vae.n_iter_ == 1


def test_a_transform_layer_set_after_fit_is_checked_whatever_its_type():
    X = np.random.RandomState(0).rand(50, 4)
    hvae = HierarchicalVAETransformer(latent_dims=(3, 2), **FAST).fit(X)
    with pytest.raises(ValueError, match="transform_layer='all' is not an integer naming a layer of latent_dims=\\(3, 2\\)"):
        hvae.set_params(transform_layer="all").transform(X)


def test_training_diverged_advises_the_learning_rate_not_scaling():
    # The model standardises its inputs itself: StandardScaler, the old advice, changed nothing.
    X = np.random.RandomState(0).normal(size=(100, 3))
    for learning_rate in (1e2, 1e4):  # diverged after the last step, and within an epoch
        with pytest.raises(ValueError, match="Training diverged.*Lower learning_rate_init.*scaling X does not help"):
            VAETransformer(hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=learning_rate,
                           random_state=0).fit(X)


@pytest.mark.parametrize("likelihood", ["poisson", "negative_binomial"])
def test_a_count_decoder_starts_at_the_columns_scale(likelihood):
    # From a rate of 1, counts near 1,000 were decoded at about 12 after 20 epochs.
    counts = np.random.RandomState(0).poisson([1000.0, 50.0, 2.0], size=(200, 3)).astype(float)
    vae = VAETransformer(likelihood=likelihood, max_iter=20, random_state=0).fit(counts)
    decoded = vae.inverse_transform(vae.transform(counts)).mean(axis=0)
    np.testing.assert_allclose(decoded, counts.mean(axis=0), rtol=0.1)


def test_an_image_with_a_categorical_column_is_told_what_an_image_takes():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.rand(50, 15), columns=[f"p{i}" for i in range(15)])
    frame["c"] = pd.Categorical(rng.choice(["a", "b"], 50))
    with pytest.raises(ValueError, match=r"image_shape=\(1, 4, 4\) reads one input.*need 17 parameters for 16 columns.*not a pixel"):
        VAETransformer(image_shape=(4, 4), **FAST).fit(frame)


@pytest.mark.parametrize("Estimator", [VAETransformer, VAEImputer])
@pytest.mark.parametrize("likelihood", ["auto", "categorical"])
def test_an_image_of_categorical_pixels_is_refused_not_scrambled(Estimator, likelihood):
    # Three levels a pixel decode 3 x 24 values, a whole number per pixel, so it was fitted: the
    # logits of pixel 0 were the decoder's pixels 0-2 of channel 0, and the encoder's image was
    # the one-hot codes of pixels 0-7 (pixels 8-23 reached it only through its dense layers).
    levels = np.random.RandomState(0).randint(0, 3, size=(60, 24))
    frame = pd.DataFrame(levels, columns=[f"p{i}" for i in range(24)]).astype(pd.CategoricalDtype([0, 1, 2]))
    estimator = Estimator(image_shape=(4, 6), likelihood=likelihood, **FAST)
    with pytest.raises(ValueError, match=r"image_shape=\(1, 4, 6\) reads one input.*need 72 parameters for 24 columns"):
        estimator.fit(frame)
    assert not hasattr(estimator, "network_")
    # A decoder of one's own leaves the built-in encoder, which read the one-hot codes of pixels 0-7 as the image.
    own_decoder = Estimator(image_shape=(4, 6), likelihood=likelihood, decoder=torch.nn.Linear, **FAST)
    with pytest.raises(ValueError, match="not a pixel"):
        own_decoder.fit(frame)


def test_a_convolutional_count_decoder_starts_at_the_images_scale():
    counts = np.random.RandomState(0).poisson(500.0, size=(100, 16)).astype(float)
    vae = VAETransformer(likelihood="poisson", image_shape=(4, 4), max_iter=20, random_state=0).fit(counts)
    np.testing.assert_allclose(vae.inverse_transform(vae.transform(counts)).mean(), 500.0, rtol=0.1)


def test_an_object_column_of_digit_strings_is_not_read_as_numbers():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=40), "n": rng.randint(0, 9, 40)})
    vae = VAETransformer(**FAST).fit(X)
    with pytest.raises(ValueError, match="'n' holds"):
        vae.transform(pd.DataFrame({"x": [0.1, 0.2], "n": pd.Series(["3", None], dtype=object)}))


def test_dates_and_durations_come_back_in_the_unit_they_were_given_in(tmp_path):
    # Decoded whole days came back with sub-second noise (2021-05-16 05:11:12.105113).
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "x": rng.normal(size=120),
        "day": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.randint(0, 400, 120), unit="D"),
        "when": pd.Timestamp("2021-01-01", tz="US/Eastern") + pd.to_timedelta(rng.randint(0, 4000, 120), unit="h"),
        "wait": pd.to_timedelta(rng.randint(0, 3600, 120), unit="s"),
    })
    frame.loc[::7, "day"] = pd.NaT
    vae = VAETransformer(**FAST).fit(frame)
    imputer = VAEImputer(**FAST).fit(frame)
    for out in (vae.inverse_transform(vae.transform(frame)), vae.sample(50, random_state=0),
                load(_saved(vae, tmp_path)).sample(50, random_state=0), imputer.transform(frame)):
        days = out["day"].dropna()
        assert (days == days.dt.floor("D")).all() and (out["when"] == out["when"].dt.floor("h")).all()
        assert (out["wait"] == out["wait"].dt.floor("s")).all()
    assert vae.column_time_units_ == {"day": pd.Timedelta(days=1), "when": pd.Timedelta(hours=1),
                                      "wait": pd.Timedelta(seconds=1)}
    # A zone's days are whole on its own wall clock (local midnight is 04:00 or 18:30 in UTC).
    for zone in ("US/Eastern", "Asia/Kolkata"):
        local = frame.assign(when=pd.Series(pd.date_range("2021-01-01", periods=120, freq="D", tz=zone)))
        out = VAETransformer(**FAST).fit(local).sample(50, random_state=0)["when"]
        assert (out == out.dt.normalize()).all(), out.head()
    # A continued fit's block of finer values refines the unit: days, then hours.
    hours = frame.assign(day=pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.randint(0, 9000, 120), unit="h"))
    continued = VAETransformer(**FAST).partial_fit(frame).partial_fit(hours)
    assert continued.column_time_units_["day"] == pd.Timedelta(hours=1)


def _saved(estimator, tmp_path):
    path = tmp_path / "model.skvae"
    estimator.save(path)
    return path


@pytest.mark.parametrize("Estimator", [VQVAETransformer, VAEGANTransformer, HierarchicalVAETransformer,
                                       ConditionalVAETransformer, VAEImputer])
def test_every_family_member_fits_the_same_under_a_float64_torch_default(Estimator):
    # The VQ-VAE's codebook buffers and the VAE-GAN's diagnostic noise took torch's default
    # dtype: under float64 their fits failed ("mat1 and mat2 must have the same dtype").
    X = _counts() / 10
    params = dict(FAST, latent_dims=(2, 1)) if Estimator is HierarchicalVAETransformer else FAST
    y = (X[:, 0] > np.median(X[:, 0])).astype(int) if Estimator is ConditionalVAETransformer else None
    expected = Estimator(**params).fit(X, y).transform(X)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        got = Estimator(**params).fit(X, y).transform(X)
    finally:
        torch.set_default_dtype(previous)
    np.testing.assert_array_equal(got, expected)


def test_a_later_partial_fits_classes_must_be_the_first_calls():
    # They were ignored: classes_ stayed [0, 1, 2], and a block holding 3 failed later.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 4)), np.arange(60) % 3
    cvae = ConditionalVAETransformer(**FAST).partial_fit(X, y, classes=[0, 1, 2])
    before = cvae.transform(X, y)
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 3\] is not the same as on the first call to "
                                         r"partial_fit, \[0, 1, 2\]"):
        cvae.partial_fit(X, y, classes=[0, 1, 2, 3])
    np.testing.assert_array_equal(cvae.transform(X, y), before)
    cvae.partial_fit(X, y, classes=[2, 1, 0])  # the same classes, in any order
    with pytest.raises(ValueError, match="^classes holds NaN"):
        ConditionalVAETransformer(**FAST).partial_fit(X, y, classes=[0, 1, np.nan])
    with pytest.raises(ValueError, match="y holds numeric covariates.*leave classes out"):
        ConditionalVAETransformer(**FAST).partial_fit(X, X[:, :2], classes=[0, 1])
    covariates = ConditionalVAETransformer(**FAST).partial_fit(X, X[:, :2])
    with pytest.raises(ValueError, match="numeric covariates.*leave classes out"):
        covariates.partial_fit(X, X[:, :2], classes=[0, 1])


def test_a_covariate_beyond_float32_is_named_as_y():
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    cvae = ConditionalVAETransformer(**FAST).fit(X, Y)
    Y[4, 1] = 1e300
    with pytest.raises(ValueError, match=r"^y\[4, 1\] = 1e\+300"):
        cvae.transform(X, Y)


def test_parameters_read_at_each_call_are_checked_there():
    # set_params on a fitted model skips fit's validation: "eror" acted as "ignore", "no" as True.
    from sklearn.utils._param_validation import InvalidParameterError

    frame = _mixed()
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.raises(InvalidParameterError, match="'handle_unknown' parameter of VAETransformer"):
        vae.set_params(handle_unknown="eror").transform(frame)
    vae.set_params(handle_unknown="error")
    for call in (vae.transform, lambda X: vae.sample(2, random_state=0)):
        with pytest.raises(InvalidParameterError, match="'device' parameter of VAETransformer"):
            vae.set_params(device="gpu")
            call(frame)
    X = _counts() / 10
    vq = VQVAETransformer(**FAST).fit(X)
    with pytest.raises(InvalidParameterError, match="'transform_quantized' parameter"):
        vq.set_params(transform_quantized="no").transform(X)
    holes = X.copy()
    holes[::7, 1] = np.nan
    imputer = VAEImputer(**FAST).fit(holes)
    with pytest.raises(InvalidParameterError, match="'sample_posterior' parameter"):
        imputer.set_params(sample_posterior="no").transform(holes)


@pytest.mark.parametrize("dtype, placeholder", [
    ("datetime64[s]", pd.Timestamp("9999-12-31")),
    ("datetime64[s]", pd.Timestamp("0001-01-01")),
    ("timestamp[s][pyarrow]", pd.Timestamp("9999-12-31")),
    ("timedelta64[s]", pd.Timedelta(days=200_000)),
])
def test_dates_beyond_nanoseconds_are_refused_not_wrapped(dtype, placeholder):
    # A datetime64[s] column's 9999-12-31 ("no end") was read as 1816-03-29 by the cast to nanoseconds.
    days = pd.Series(pd.date_range("2020-01-01", periods=40))
    column = (days - days[0]) if "delta" in dtype else days
    frame = pd.DataFrame({"x": np.linspace(0, 1, 40), "end": column.astype(dtype)})
    fitted = VAETransformer(**FAST).fit(frame)
    frame["end"] = frame["end"].astype(object)
    frame.loc[3, "end"] = placeholder
    frame["end"] = frame["end"].astype(dtype)
    for call in (lambda: VAETransformer(**FAST).fit(frame), lambda: fitted.transform(frame)):
        with pytest.raises(ValueError, match=r"Column 'end' holds (dates|durations) beyond the range.*NaT") as error:
            call()
    # The advice, followed, makes the value a hole.
    advice = str(error.value).split("(NaT): ")[1].rstrip(".")
    X = frame  # noqa: F841 (the advice names X)
    exec(advice)
    assert frame["end"].isna().sum() == 1
    VAETransformer(**FAST).fit(frame)


def test_a_date_column_given_numbers_is_refused():
    # Epoch seconds were read as nanoseconds, silently.
    frame = pd.DataFrame({"x": np.linspace(0, 1, 40),
                          "when": pd.Series(pd.date_range("2020-01-01", periods=40)).astype("datetime64[s]")})
    fitted = VAETransformer(**FAST).fit(frame)
    numbers = frame.assign(when=frame["when"].astype("int64"))
    with pytest.raises(ValueError, match=r"Column 'when' holds int64 values but held datetime64\[s\] at fit"):
        fitted.transform(numbers)
    # A column of holes only is pandas' float NaN: it stays a hole.
    assert np.isfinite(fitted.transform(frame.assign(when=np.nan))).all()


def test_integers_at_the_top_of_their_dtype_do_not_wrap_round():
    # Clipped at int64's maximum in float64 (2**63), the cast wrapped decoded values to -2**63.
    top = np.iinfo(np.int64).max
    frame = pd.DataFrame({"x": np.linspace(0, 1, 40), "id": top - np.arange(40) * 100})
    vae = VAETransformer(**FAST).fit(frame)
    decoded = vae.inverse_transform(vae.transform(frame))["id"]
    assert decoded.dtype == np.int64 and decoded.min() > top // 2
    assert (vae.sample(20, random_state=0)["id"] > top // 2).all()


def test_a_boolean_category_with_holes_is_drawn_in_its_dtype():
    member = pd.Categorical([True, False] * 20)
    frame = pd.DataFrame({"x": np.linspace(0, 1, 40), "member": member})
    frame.loc[::7, "member"] = np.nan
    vae = VAETransformer(**FAST).fit(frame)
    assert vae.sample(30, random_state=0)["member"].dtype == frame["member"].dtype


def test_pandas_sparse_columns_are_refused_with_the_way_round():
    X = pd.DataFrame({"a": pd.arrays.SparseArray([0.0, 1.0, 0.0] * 20, fill_value=0.0),
                      "b": pd.arrays.SparseArray([1.0, 0.0, 0.0] * 20, fill_value=0.0),
                      "c": np.linspace(0, 1, 60)})
    with pytest.raises(ValueError, match=r"pandas' sparse columns.*X.sparse.to_coo\(\).tocsr\(\)"):
        VAETransformer(**FAST).fit(X)
    # Both ways round work: dense (any frame), and a sparse matrix (every column sparse).
    dense = eval(str(pytest.raises(ValueError, VAETransformer(**FAST).fit, X).value).split("make them dense, ")[1]
                 .split("), or")[0] + ")")
    # The flags are Bernoulli; evenly spread values beside them, no more at 0 or 1 than MinMaxScaler puts, are not.
    assert VAETransformer(**FAST).fit(dense).column_likelihoods_ == {"a": "bernoulli", "b": "bernoulli", "c": "gaussian"}
    X = X.drop(columns="c")
    VAETransformer(**FAST).fit(X.sparse.to_coo().tocsr())


def test_an_imputer_placeholder_among_a_columns_categories_is_never_given_back():
    city = pd.Categorical(["a", "b", "?"] * 20)
    frame = pd.DataFrame({"x": np.linspace(0, 1, 60), "city": city})
    imputer = VAEImputer(missing_values="?", **FAST).fit(frame)
    assert imputer.column_categories_["city"].tolist() == ["a", "b"]
    assert "?" not in set(imputer.sample(200, random_state=0)["city"].dropna())


def test_the_imputer_refuses_an_array_of_strings_with_one_message():
    X = np.array([["a", "b"], ["?", "a"]] * 10)
    for placeholder in ("?", np.nan):
        with pytest.raises(ValueError, match=r"X is an array holding strings that are not numbers.*X\[0, 0\] is 'a'.*pd.DataFrame\(X\)"):
            VAEImputer(missing_values=placeholder, **FAST).fit(X)


@pytest.mark.parametrize("Estimator", [VAETransformer, VAEImputer])
def test_an_object_array_reads_pandas_na_as_a_hole_and_refuses_strings_with_the_way_to_pass_them(Estimator):
    # A nullable frame's to_numpy() holds pd.NA; VAEImputer's docstring says pd.NA is always a hole.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    X[rng.rand(60, 3) < 0.1] = np.nan
    holed = X.astype(object)
    holed[np.isnan(X)] = pd.NA
    expected = Estimator(**FAST).fit(X).transform(X)
    np.testing.assert_array_equal(Estimator(**FAST).fit(holed).transform(holed), expected)
    words = X.astype(object)
    words[0, 1] = "n/a"
    with pytest.raises(ValueError, match=r"X is an array holding strings that are not numbers \(object\).*pd.DataFrame"):
        Estimator(**FAST).fit(words)
    # Numbers given as strings (csv.reader's rows) are numbers, as check_array reads them.
    for strings in (X.astype(str), X.astype(str).astype(object), X.astype(str).tolist()):
        np.testing.assert_array_equal(Estimator(**FAST).fit(strings).transform(strings), expected)


def test_an_imputer_placeholder_is_found_beside_pandas_na_in_an_object_array():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    marked, holed = X.astype(object), X.copy()
    marked[0, 1], marked[2, 2] = pd.NA, -99.0
    holed[0, 1] = holed[2, 2] = -99.0
    expected = VAEImputer(missing_values=-99.0, **FAST).fit_transform(holed)
    np.testing.assert_array_equal(VAEImputer(missing_values=-99.0, **FAST).fit_transform(marked), expected)


def test_a_frame_fitted_model_refuses_a_dict_or_a_scalar_as_scikit_learn_does():
    frame = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.linspace(1, 0, 40) ** 2})
    model = VAETransformer(**FAST).fit(frame)
    for X in ({"a": [1.0], "b": [2.0]}, 3.0, None):
        # scikit-learn's own message (PCA gives a dict float()'s bare TypeError).
        with pytest.raises(ValueError, match=r"^Expected 2D array, got scalar array instead"):
            model.transform(X)


def test_labels_with_pandas_na_are_named_as_missing():
    y = pd.array(["a", "b", pd.NA, "a"] * 10, dtype="string")
    with pytest.raises(ValueError, match="y holds NaN, None or pd.NA"):
        ConditionalVAETransformer(**FAST).fit(np.random.RandomState(0).normal(size=(40, 3)), y)


def test_an_infinity_in_a_frame_is_named_where_it_is():
    # It reached the column's statistics, every row's encoding overflowed, and the error named
    # a finite entry of row 0 ("X[0, 1] = 0.4 is beyond float32's range").
    frame = pd.DataFrame(np.random.RandomState(0).normal(size=(50, 3)), columns=list("abc"))
    fitted = VAETransformer(**FAST).fit(frame)
    frame.loc[4, "b"] = -np.inf
    for call in (VAETransformer(**FAST).fit, VAEImputer(**FAST).fit, fitted.transform):
        with pytest.raises(ValueError, match=r"Column 'b' holds -inf \(row 4\).*NaN"):
            call(frame)
    # A sum that overflows is not an infinity: the entries are beyond float32, and said to be.
    huge = frame.assign(b=1e308).iloc[:3]
    with pytest.raises(ValueError, match=r"Column 'b' holds 1e\+308 \(row 0\), beyond float32's range"):
        fitted.transform(huge)


def test_an_object_column_of_numbers_is_modelled_as_numbers():
    # By dtype alone it was a category per distinct value (74 levels for 80 rows), which the
    # identifier warning does not catch when values repeat.
    rng = np.random.RandomState(0)
    amounts = pd.Series([None if i % 9 == 0 else round(v, 2) for i, v in enumerate(rng.normal(size=60))], dtype=object)
    counts = pd.Series([None if i % 7 == 0 else i % 13 for i in range(60)], dtype=object)
    frame = pd.DataFrame({"x": rng.normal(size=60), "amount": amounts, "count": counts})
    vae = VAETransformer(**FAST).fit(frame)
    assert vae.column_likelihoods_ == {"x": "gaussian", "amount": "gaussian", "count": "gaussian"}
    drawn = vae.sample(20, random_state=0)
    assert (drawn.dtypes == object).tolist() == [False, True, True]
    assert all(isinstance(v, int) for v in drawn["count"].dropna())
    filled = VAEImputer(**FAST).fit_transform(frame)
    assert filled["count"].notna().all() and all(isinstance(v, int) for v in filled["count"])
    pd.testing.assert_series_equal(filled["amount"][frame["amount"].notna()], frame["amount"].dropna())


def test_calibration_never_holds_out_the_only_rows_of_a_level():
    # contamination="auto" failed at fit for some random_state ("categories not seen at fit") when
    # the one row of a rare level fell among the held-out rows.
    from skvae import VAEOutlierDetector

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.normal(size=100), "z": rng.normal(size=100),
                          "city": np.array(["a"] * 60 + ["b"] * 39 + ["rare"], dtype=object)})
    for seed in range(10):
        detector = VAEOutlierDetector(VAETransformer(**FAST), random_state=seed).fit(frame)
        assert "rare" in detector.estimator_.column_categories_["city"]
        assert detector.predict(frame).shape == (100,)


def test_an_autoencoders_draws_take_its_residual_variance():
    # from_likelihood=True added unit noise on the standardised scale (each column's whole
    # training spread) to a near-perfect reconstruction: stds x1.3, correlations 1.0 -> 0.5.
    rng = np.random.RandomState(0)
    t = rng.normal(size=(400, 1))
    X = np.hstack([t, 20 * t, 300 * t]) + 0.01 * rng.normal(size=(400, 3))
    ae = AutoencoderTransformer(latent_dim=1, hidden_layer_sizes=(16,), max_iter=60, random_state=0).fit(X)
    drawn = ae.sample(4000, random_state=0)
    np.testing.assert_allclose(drawn.std(0), X.std(0), rtol=0.1)
    assert np.corrcoef(drawn[:, 0], drawn[:, 2])[0, 1] > 0.95
    for copy in (pickle.loads(pickle.dumps(ae)),):
        np.testing.assert_array_equal(copy.sample(50, random_state=1), ae.sample(50, random_state=1))
    # A model saved before (no residual variances) loads and draws as it did, with unit variance.
    state = ae.__getstate__()
    state["network_"]["state_dict"] = {k: v for k, v in state["network_"]["state_dict"].items()
                                       if not k.endswith("draw_variance")}
    legacy = AutoencoderTransformer.__new__(AutoencoderTransformer)
    legacy.__setstate__(state)
    assert legacy.sample(4000, random_state=0).std(0)[0] > 1.2 * X.std(0)[0]
    # Set in place, so the buffer stays where the model is (a GPU's after a fit there).
    part = ae.network_.columns.parts[0]
    buffer = part.draw_variance
    ae.network_.columns.set_draw_variances(torch.full((3,), 2.0, dtype=torch.float64))
    assert part.draw_variance is buffer and torch.equal(buffer, torch.full((3,), 2.0))


def test_count_likelihoods_refuse_fractions_where_they_score():
    # Poisson and negative binomial took 3.5 silently: lgamma of a fraction is no probability, and
    # sample() drew whole counts next to the clipped fractional minimum.
    X = _counts()
    halves = X + 0.5
    for data in (halves, sp.csr_matrix(halves)):
        with pytest.raises(ValueError, match=r'likelihood="poisson" scores whole counts, but X holds \d+\.5 .*np.rint'):
            VAETransformer(likelihood="poisson", **FAST).fit(data)
    fitted = VAETransformer(likelihood="poisson", **FAST).fit(X)
    fitted.transform(halves)  # the encoder reads any amount
    with pytest.raises(ValueError, match="whole counts.*refit with"):
        fitted.score_samples(halves)
    frame = pd.DataFrame(X, columns=list("abcde")).assign(c=lambda d: d.c + 0.25)
    with pytest.raises(ValueError, match=r"column 'c' holds .*\.25.*likelihood=\{'c': \"gaussian\"\}"):
        VAETransformer(likelihood={"c": "negative_binomial"}, **FAST).fit(frame)
    # An array's counts given per column: the column is named, as a negative count's is (the advice
    # was for all of X, likelihood="gaussian", which would change every column).
    quarter = X.copy()
    quarter[5, 2] += 0.25
    for data in (quarter, sp.csr_matrix(quarter)):
        with pytest.raises(ValueError, match=r"column 2 holds .*\.25.*likelihood=\{2: \"gaussian\"\}"):
            VAETransformer(likelihood={0: "poisson", 2: "poisson"}, **FAST).fit(data)
    # Counts beyond float32 were infinite targets, and the error blamed a custom encoder or decoder.
    huge = X * 1e39
    for data in (huge, sp.csr_matrix(huge)):
        with pytest.raises(ValueError, match=r'reads counts in float32, whose largest value is 3.4e\+38, but X holds '
                                             r'[\d.]+e\+(39|40)\. Use likelihood="gaussian" \(or "lognormal"\)'):
            VAETransformer(likelihood="negative_binomial", **FAST).fit(data)
    huge_column = X.copy()
    huge_column[:, 2] *= 1e39
    for data in (huge_column, sp.csr_matrix(huge_column), sp.csr_array(huge_column)):  # an array's column is 1-D
        with pytest.raises(ValueError, match=r"float32, .* but column 2 holds .*likelihood=\{2: \"gaussian\"\}"):
            VAETransformer(likelihood={0: "poisson", 2: "poisson"}, **FAST).fit(data)


def test_an_image_frame_gets_one_likelihood_and_mixed_ones_are_refused():
    # "auto" chose a likelihood per pixel of an image DataFrame (gaussian, lognormal, bernoulli), and
    # the convolutional decoder then put each parameter on another pixel.
    from sklearn.datasets import load_digits

    pixels = load_digits().data[:200]
    frame = pd.DataFrame(pixels, columns=[f"p{i}" for i in range(64)])
    for data in (pixels, pixels / 16):
        from_frame = VAETransformer(image_shape=(8, 8), **FAST).fit(pd.DataFrame(data, columns=frame.columns))
        from_array = VAETransformer(image_shape=(8, 8), **FAST).fit(data)
        assert len(set(from_frame.column_likelihoods_.values())) == 1
        np.testing.assert_array_equal(from_frame.transform(pd.DataFrame(data, columns=frame.columns)),
                                      from_array.transform(data))
    with pytest.raises(ValueError, match="the pixels need one likelihood"):
        VAETransformer(image_shape=(8, 8), likelihood={"p0": "lognormal"}, **FAST).fit(frame)


def test_calibration_moves_only_rows_a_skvae_model_could_not_score():
    # Numbers held as objects are numbers (not levels), a level named categorical by a dict is one,
    # and a base estimator that is not skvae's keeps its split.
    from sklearn.compose import make_column_transformer
    from sklearn.mixture import GaussianMixture
    from sklearn.preprocessing import OneHotEncoder

    from skvae import VAEOutlierDetector

    rng = np.random.RandomState(0)
    numbers = pd.Series(list(rng.rand(40)), dtype=object)
    numbers[0] = None
    frame = pd.DataFrame({"a": rng.normal(size=40), "o": numbers})
    VAEOutlierDetector(VAETransformer(**FAST), random_state=0).fit(frame)
    coded = pd.DataFrame({"a": rng.normal(size=40), "n": [0] * 30 + [1] * 9 + [7]})
    for seed in range(6):
        fitted = VAEOutlierDetector(VAETransformer(likelihood={"n": "categorical"}, **FAST), random_state=seed).fit(coded)
        assert 7 in fitted.estimator_.column_categories_["n"]
    strings = pd.DataFrame({"s": ["u", "v", "w", "q"], "x": [0.0, 1.0, 2.0, 3.0]})
    pipeline = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["s"]),
                                                     remainder="passthrough", sparse_threshold=0),
                             GaussianMixture(random_state=0))
    VAEOutlierDetector(pipeline, calibration_fraction=0.5, random_state=0).fit(strings)


# ----------------------------------------------------- from this stop's reviews


def _correlated(n_rows=200):
    rng = np.random.RandomState(0)
    return rng.normal(size=(n_rows, 5)) @ rng.normal(size=(5, 5))


@pytest.mark.parametrize(("Estimator", "learning_rate"), [(VAETransformer, 0.3), (AutoencoderTransformer, 1.0),
                                                         (VQVAETransformer, 1.0), (VAEImputer, 0.3)])
def test_a_fit_whose_reconstructions_diverged_is_refused(Estimator, learning_rate):
    # A learned noise variance grew with the error (to 1e18) and kept the score within the old
    # check's floor: the model was returned, reconstructing rows within +-7 as 1e5.
    X = _correlated()
    model = Estimator(random_state=0, max_iter=20).fit(X)
    before = model.transform(X)
    with pytest.raises(ValueError, match=r"Training diverged at iteration \d+: .*reconstructions of its own "
                                         r"training rows miss column \d by [\d.e+]+ standard deviations"):
        model.set_params(learning_rate_init=learning_rate).fit(X)
    np.testing.assert_array_equal(model.transform(X), before)


def test_the_imputer_refuses_an_observed_value_its_column_dtype_cannot_hold():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"i": rng.randint(0, 5, 60), "b": rng.rand(60) < 0.5, "f": rng.normal(size=60)})
    imputer = VAEImputer(**FAST).fit(frame)
    for column, values in (("i", [2.5, 3.0, 1.0]), ("b", [0.3, 1.0, 0.0])):
        rows = frame.head(3).copy()
        rows[column] = values  # was truncated to 2, or read as True
        with pytest.raises(ValueError, match=f"Column '{column}' was .* at fit, but row 0 holds 0?[.]?[0-9.]+, "
                                             f"which .* cannot hold"):
            imputer.transform(rows)
    rows = frame.head(3).copy()
    rows["i"], rows["b"] = [2.0, np.nan, 4.0], [1.0, 0.0, np.nan]  # floats because of the holes
    filled = imputer.transform(rows)
    assert filled["i"].dtype == np.int64 and filled["b"].dtype == bool
    assert filled["i"].iloc[[0, 2]].tolist() == [2, 4] and filled["b"].iloc[:2].tolist() == [True, False]
    holed = frame.copy()
    holed.loc[0, "i"] = -1
    nullable = VAEImputer(missing_values=-1, **FAST).fit(holed)
    rows = frame.head(3).copy()
    rows["i"] = [2.5, 3.0, 1.0]
    with pytest.raises(ValueError, match="Column 'i' was Int64 at fit, but row 0 holds 2.5"):  # was pandas' own error
        nullable.transform(rows)


def test_minmax_scaled_rows_are_in_the_bernoulli_support():
    from sklearn.preprocessing import MinMaxScaler

    X = MinMaxScaler().fit_transform(np.random.RandomState(3).normal(size=(60, 4)))
    assert X.max() > 1.0  # 1.0000000000000002: MinMaxScaler's rounding
    VAETransformer(likelihood="bernoulli", **FAST).fit(X)  # was refused, "got max=1"
    X[0, 0] = 1.000002
    with pytest.raises(ValueError, match=r"got min=0, max=1\.000002\. Scale X"):  # was "max=1"
        VAETransformer(likelihood="bernoulli", **FAST).fit(X)
    # The slack is relative to the bound: tiny values around 0 are not in [0, 1].
    tiny = np.random.RandomState(0).normal(size=(60, 4)) * 1e-12
    assert set(VAETransformer(**FAST).fit(tiny).column_likelihoods_.values()) == {"gaussian"}
    fitted = VAETransformer(likelihood="bernoulli", **FAST).fit(np.random.RandomState(0).rand(60, 4))
    with pytest.raises(ValueError, match=r"refit with likelihood=\"gaussian\"\. Or keep new rows in \[0, 1\]: "
                                         r"in a Pipeline, MinMaxScaler\(clip=True\) does\."):
        fitted.score_samples(np.full((2, 4), 1.5))


def test_auto_takes_bernoulli_for_numbers_in_0_1_only_where_they_pile_at_0_and_1():
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.RandomState(0)
    scaled = MinMaxScaler().fit_transform(rng.normal(size=(200, 4)))  # two values a column at the bounds
    flags = (rng.rand(200, 4) > 0.5).astype(float)
    pixels = np.where(rng.rand(200, 4) < 0.6, 0.0, rng.rand(200, 4))  # an image's background
    for X, expected in ((scaled, "gaussian"), (rng.rand(200, 4), "gaussian"), (flags, "bernoulli"),
                        (pixels, "bernoulli")):
        for data in (X, pd.DataFrame(X, columns=list("abcd"))):
            assert set(VAETransformer(**FAST).fit(data).column_likelihoods_.values()) == {expected}
    # As a sparse matrix, the implicit zeros count.
    assert set(VAETransformer(**FAST).fit(sp.csr_matrix(pixels)).column_likelihoods_.values()) == {"bernoulli"}


def test_one_flag_among_scaled_measurements_or_a_small_table_does_not_make_them_probabilities():
    # load_diabetes' sex, a 0/1 column, brought the share of values at 0 or 1 of MinMax-scaled
    # measurements to 11%: all ten were Bernoulli, and cross-validated scoring refused the held-out
    # folds' values past [0, 1]. On 20 rows MinMaxScaler's own two values a column are a tenth.
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X = load_diabetes().data
    scaled = MinMaxScaler().fit_transform(X)
    small = MinMaxScaler().fit_transform(np.random.RandomState(3).standard_t(2, size=(20, 5)).round(1))
    for data in (scaled, small):
        assert set(VAETransformer(**FAST).fit(data).column_likelihoods_.values()) == {"gaussian"}
    # A frame's columns are judged one by one: the flag alone is Bernoulli.
    chosen = VAETransformer(**FAST).fit(pd.DataFrame(scaled)).column_likelihoods_
    assert chosen.pop(1) == "bernoulli" and set(chosen.values()) == {"gaussian"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert np.isfinite(cross_val_score(make_pipeline(MinMaxScaler(), VAETransformer(**FAST)), X, cv=3)).all()


def test_a_later_block_whose_squares_overflow_float32_is_blamed_for_the_divergence():
    X = np.random.RandomState(0).normal(size=(120, 4))
    model = VAETransformer(latent_dim=2, max_iter=3, random_state=0).partial_fit(X)
    before = pickle.dumps(model)
    wild = X.copy()
    wild[5, 0] = 1e18  # a fresh fit takes it; in the first block's scaling its square overflows the loss
    with pytest.raises(ValueError, match=r"partial_fit: Training diverged .* Row 5 of X lies 9\.\d+e\+17 standard "
                                         r"deviations from column 0's mean .* a lower learning rate cannot help"):
        model.partial_fit(wild)  # said only "the loss is nan. Lower learning_rate_init"
    assert pickle.dumps(model) == before
    VAETransformer(**FAST).fit(wild)
    wild[5, 0] = 1e15  # far, but it trains: nothing is refused before training
    model.partial_fit(wild)


def test_a_sparse_matrix_with_duplicate_entries_fits_the_model_of_its_dense_values():
    rng = np.random.RandomState(0)
    dense = np.round(rng.rand(60, 3), 2)
    dense[0, 0] = 1.2
    stored = sp.csr_matrix(dense)
    data, indices = stored.data.copy(), stored.indices.copy()
    data[0] = 0.6  # 1.2 stored as 0.6 twice
    duplicated = sp.csr_matrix((np.r_[data[:1], data], np.r_[indices[:1], indices],
                                np.r_[0, stored.indptr[1:] + 1]), shape=dense.shape)
    assert not duplicated.has_canonical_format
    np.testing.assert_array_equal(duplicated.toarray(), dense)
    model = VAETransformer(**FAST).fit(duplicated)
    assert model.column_likelihoods_ == {0: "gaussian", 1: "gaussian", 2: "gaussian"}  # was Bernoulli for column 0
    np.testing.assert_array_equal(model.transform(duplicated), VAETransformer(**FAST).fit(dense).transform(dense))
    assert np.isfinite(model.score(duplicated))  # was refused: "needs X in [0, 1]; got max=1.2"
    assert not duplicated.has_canonical_format  # the caller's matrix is left as it was


def test_a_float16_column_decodes_within_its_range():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"h": (rng.rand(200) * 65000).astype(np.float16), "x": rng.normal(size=200)})
    model = AutoencoderTransformer(**FAST).fit(frame)
    decoded = model.inverse_transform(model.transform(frame) * 30)
    assert decoded["h"].dtype == np.float16
    assert np.isfinite(decoded["h"].to_numpy()).all()  # was inf past 65,504
    assert decoded["h"].max() == np.finfo(np.float16).max


def test_a_float16_column_is_measured_without_numpys_overflow_warnings():
    from skvae._kinds import float_places

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"h": (rng.rand(200) * 10).astype(np.float16), "x": rng.normal(size=200)})
    with warnings.catch_warnings():
        # Rounding float16 to 5 places scaled its values past 65,504: three RuntimeWarnings naming no column.
        warnings.simplefilter("error", RuntimeWarning)
        VAETransformer(**FAST).fit(frame)
        assert float_places(frame["h"].to_numpy()) is None
        assert float_places(np.array([3.1, 2.5, 7.0], dtype=np.float16)) == 1  # 3.1 as float16 shows it
        assert float_places(np.array([3.0, 2.0, 700.0], dtype=np.float16)) == 0


def test_the_detector_fits_held_out_rows_that_hold_a_columns_only_values():
    from skvae import VAEOutlierDetector

    list_of_rows = np.random.RandomState(0).normal(size=(40, 3))
    list_of_rows[2:, 2] = np.nan
    VAEOutlierDetector(VAETransformer(max_iter=1), random_state=37).fit(list_of_rows.tolist())
    # No level made it refuse (handle_unknown="ignore"), so the words name no category.
    with pytest.raises(ValueError, match=r"found no held-out row to calibrate on: each holds a column's only "
                                         r"observed values or only holes.*Give more rows, or a float "
                                         r"contamination\.$"):
        VAEOutlierDetector(VAETransformer(max_iter=1, handle_unknown="ignore"), random_state=3).fit(
            np.array([[0.0, np.nan], [1.0, 5.0]]))

    X = np.random.RandomState(0).normal(size=(40, 3))
    X[2:, 2] = np.nan  # two observed values: some splits held both out ("no observed value")
    frame = pd.DataFrame({"a": X[:, 0], "c": pd.Categorical([None] * 38 + ["x", "y"]), "b": X[:, 2]})
    for seed, data in ((37, X), (14, frame), (22, frame), (37, frame)):  # each failed
        VAEOutlierDetector(VAETransformer(max_iter=1), random_state=seed).fit(data)
    with pytest.raises(ValueError, match=r"minimum of 1 is required by VAEOutlierDetector\."):
        VAEOutlierDetector(VAETransformer(max_iter=1), contamination=0.1).fit(np.zeros((0, 3)))


def test_a_pd_na_placeholder_saves_and_loads(tmp_path):
    X = np.random.RandomState(0).rand(40, 3)
    X[::7, 1] = np.nan
    imputer = VAEImputer(missing_values=pd.NA, **FAST).fit(X)
    imputer.save(tmp_path / "imputer.skvae")  # was "Cannot save params.missing_values of type NAType"
    loaded = load(tmp_path / "imputer.skvae")
    assert loaded.missing_values is pd.NA
    np.testing.assert_array_equal(loaded.transform(X), imputer.transform(X))


def test_load_takes_one_trusted_class_or_name(tmp_path):
    from test_custom_modules import CUSTOM, Decoder, ResidualEncoder

    X = np.random.RandomState(0).rand(40, 4)
    VAETransformer(**FAST, encoder=ResidualEncoder).fit(X).save(tmp_path / "one.skvae")
    for trusted in (ResidualEncoder, "test_custom_modules:ResidualEncoder"):  # a class was "not iterable"
        assert load(tmp_path / "one.skvae", trusted=trusted).encoder is ResidualEncoder
    VAETransformer(**FAST, **CUSTOM).fit(X).save(tmp_path / "two.skvae")
    with pytest.raises(ValueError, match="refers to test_custom_modules:Decoder: code outside skvae"):
        load(tmp_path / "two.skvae", trusted=ResidualEncoder)
    assert load(tmp_path / "two.skvae", trusted=(ResidualEncoder, Decoder)).decoder is Decoder


def test_a_warm_start_warns_by_the_epochs_its_own_call_can_judge():
    X = np.random.RandomState(0).normal(size=(60, 5))
    gan = VAEGANTransformer(max_iter=5, random_state=0, warm_start=True).fit(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(X)  # was "Increase max_iter, or raise tol" where the rule needs 201 epochs
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    vae = VAETransformer(max_iter=3, n_iter_no_change=3, tol=1e9, kl_warmup=0, random_state=0, warm_start=True)
    vae.fit(X)
    with pytest.warns(ConvergenceWarning, match=r"cannot end a fit of max_iter=3 epochs: it needs 4 "
                                                r"\(n_iter_no_change \+ 1, in a warm start\)"):
        vae.fit(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vae.set_params(max_iter=4).fit(X)  # a warm call of 4 epochs can stop, and does at its 4th
    assert vae.n_iter_ == 10 and not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    # No best average carried: early stopping's record restarts with each call, and a first fit that
    # ended inside the KL warm-up judged nothing. The first judged epoch then counts as an improvement.
    for first, options, needed in ((6, {"kl_warmup": 0, "early_stopping": True}, 5), (2, {"kl_warmup": 5}, 8)):
        def first_fit(first=first, options=options):
            return VAETransformer(max_iter=first, n_iter_no_change=3, tol=1e9, random_state=0, warm_start=True,
                                  **options).fit(X)

        with pytest.warns(ConvergenceWarning, match=f"it needs {needed} "):
            first_fit().set_params(max_iter=needed - 1).fit(X)
        vae = first_fit()
        before = vae.n_iter_
        vae.set_params(max_iter=needed + 3).fit(X)
        assert vae.n_iter_ - before == needed  # the rule fires at the epoch the warning named
    # A first fit under early stopping judged the validation score only: no training-loss best to carry.
    vae = VAETransformer(kl_warmup=0, n_iter_no_change=3, max_iter=6, early_stopping=True, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning, match=r"it needs 5 \(n_iter_no_change \+ 2\)"):  # was "raise tol"
        vae.set_params(warm_start=True, early_stopping=False, max_iter=4, tol=1e9).fit(X)


def test_latent_dims_given_as_a_list_continue_as_the_same_network():
    X = np.random.RandomState(0).normal(size=(60, 5))
    model = HierarchicalVAETransformer([2, 1], max_iter=2, random_state=0, warm_start=True).fit(X)
    model.set_params(latent_dims=(2, 1)).fit(X)  # was "cannot change latent_dims=(2, 1) (fitted with [2, 1])"
    model.set_params(latent_dims=np.array([2, 1])).partial_fit(X)
    assert model.n_iter_ == 5
    for Estimator in (AutoencoderTransformer, VQVAETransformer):
        # Interval(Integral) admits True, as scikit-learn's does (PCA(n_components=True)): width 1.
        assert Estimator(latent_dim=True, max_iter=2).fit(X).transform(X).shape == (60, 1)
    assert VQVAETransformer(n_codes=True, max_iter=2).fit(X).predict(X).max() == 0


def test_threadpool_limits_hold_for_a_first_fit_after_set_num_threads():
    import subprocess
    import sys
    from pathlib import Path

    script = """
import numpy as np, torch
from threadpoolctl import threadpool_limits
from torch import nn
torch.set_num_threads(2)
import skvae
seen = []
class Spy(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.layer = nn.Linear(in_features, 256)
    def forward(self, x):
        seen.append(torch.get_num_threads())
        return self.layer(x)
with threadpool_limits(limits=1):
    skvae.VAETransformer(encoder=Spy, max_iter=1, random_state=0).fit(np.random.rand(300, 784))
print(sorted(set(seen)))
"""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "[1]"  # was [2]: torch applied set_num_threads inside the block


def test_the_detector_scores_in_float64_on_the_bound_it_calibrated():
    from skvae import VAEOutlierDetector

    X = np.random.RandomState(0).rand(60, 4).astype(np.float32)
    detector = VAEOutlierDetector(VAETransformer(**FAST), contamination=0.1, random_state=0).fit(X)
    assert detector.score_samples(X).dtype == np.float64  # was float32, where IsolationForest's are float64
    assert detector.decision_function(X).dtype == np.float64
    flagged = detector.predict(X)
    detector.set_params(n_importance=20)  # offset_ was set on the ELBO
    with pytest.raises(ValueError, match=r"n_importance=20, but offset_ was set on scores with n_importance=None"):
        detector.predict(X)
    np.testing.assert_array_equal(detector.set_params(n_importance=None).predict(X), flagged)
    assert detector.set_params(n_importance=20).fit(X).predict(X).shape == (60,)


def test_sampled_dates_near_a_clock_change_land_on_their_unit():
    rng = np.random.RandomState(0)
    days = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.randint(0, 365, 400), unit="D")
    frame = pd.DataFrame({"d": days.tz_localize("America/New_York"), "x": rng.normal(size=400)})
    frame.loc[3, "d"] = pd.NaT
    model = VAETransformer(max_iter=10, random_state=0).fit(frame)
    drawn = model.sample(3000, random_state=0)["d"].dropna()
    assert str(drawn.dt.tz) == "America/New_York"
    assert (drawn == drawn.dt.normalize()).all()  # 5 of 3,000 were an hour off midnight
    # A value just before a fall-back rounds to the nearest minute in real time, not an hour on.
    from skvae._times import rounded_in_zone

    for given, expected in (("2023-11-05 01:59:50-04:00", "2023-11-05 01:00:00-05:00"),
                            ("2023-03-12 01:59:50-05:00", "2023-03-12 03:00:00-04:00")):
        ns = np.array([pd.Timestamp(given).value], dtype=np.int64)
        restored = rounded_in_zone(ns, np.array([False]), 60 * 10**9, "America/New_York")[0]
        assert restored == pd.Timestamp(expected)


def test_sample_refuses_a_from_likelihood_that_is_not_a_bool():
    model = VAETransformer(**FAST).fit(np.random.RandomState(0).rand(30, 3))
    for value in (None, "yes"):  # None gave the means, "yes" the draws
        with pytest.raises(ValueError, match="from_likelihood must be True or False"):
            model.sample(2, from_likelihood=value)


def test_a_later_block_with_a_new_level_says_how_to_declare_every_level():
    frame = pd.DataFrame({"x": np.arange(40.0), "kind": ["a"] * 20 + ["b"] * 20})
    model = VAETransformer(**FAST).partial_fit(frame.iloc[:20])
    # The advice was handle_unknown='ignore', which trains on without ever learning "b".
    with pytest.raises(ValueError, match=r"The first fit call fixes a column's levels: .*"
                                         r"X\.astype\(\{'kind': pd\.CategoricalDtype\(all_levels\)\}\)"):
        model.partial_fit(frame.iloc[20:])
    with pytest.raises(ValueError, match="Set handle_unknown='ignore' to treat them as missing"):
        model.transform(frame.iloc[20:])  # not training: the usual advice
    levels = frame.astype({"kind": pd.CategoricalDtype(["a", "b"])})
    model = VAETransformer(**FAST).partial_fit(levels.iloc[:20]).partial_fit(levels.iloc[20:])
    assert list(model.column_categories_["kind"]) == ["a", "b"]


def test_a_warning_from_a_pipelines_earlier_step_points_at_the_callers_line():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import Pipeline

    X, y = np.random.RandomState(0).rand(60, 4), np.arange(60) % 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Pipeline([("vae", VAETransformer(**FAST)), ("lr", LogisticRegression())]).fit(X, y)  # was joblib/memory.py
        cross_val_score(VAETransformer(**FAST), X, cv=2)  # was joblib/parallel.py
    places = {w.filename for w in caught if issubclass(w.category, ConvergenceWarning)}
    assert places == {__file__}


def test_the_transform_graph_returns_codes_in_xs_dtype_and_to_onnx_checks_its_dtype(tmp_path):
    X = np.random.RandomState(0).rand(40, 4)
    model = VAETransformer(**FAST).fit(X)
    graph = model.to_torch()
    with torch.inference_mode():
        codes = graph(torch.from_numpy(X))
    assert codes.dtype == torch.float64  # was float32, where transform returns float64
    np.testing.assert_array_equal(codes.numpy(), model.transform(X))
    whole = np.rint(X * 10)
    inverse = model.to_torch("inverse_transform")
    with torch.inference_mode():
        from_ints = graph(torch.from_numpy(whole.astype(np.int64)))
        from_halves = graph(torch.from_numpy(X.astype(np.float16)))
        decoded = inverse(torch.tensor([[0, 1], [1, -1]]))  # were truncated to integers
    # As the methods: float32 for float32, float64 for anything else (an int, a float16).
    assert from_ints.dtype == from_halves.dtype == decoded.dtype == torch.float64
    np.testing.assert_array_equal(from_ints.numpy(), model.transform(whole))
    np.testing.assert_array_equal(from_halves.numpy(), model.transform(X.astype(np.float16)))
    np.testing.assert_allclose(decoded.numpy(), model.inverse_transform(np.array([[0, 1], [1, -1]])), rtol=1e-6)
    with pytest.raises(ValueError, match=r"dtype must be np\.float32 or np\.float64; got <class 'numpy\.int32'>"):
        model.to_onnx(tmp_path / "model.onnx", dtype=np.int32)  # was a float32 graph, silently


def test_a_users_module_is_built_under_the_lock_on_torchs_global_generator():
    from skvae import _fitting

    owned = []

    class Encoder(nn.Module):
        def __init__(self, in_features):
            super().__init__()
            owned.append(_fitting._GLOBAL_RNG_LOCK._is_owned())  # another thread's fit may not reseed it now
            self.layer = nn.Linear(in_features, 8)
            self.out_features = 8

        def forward(self, x):
            return self.layer(x)

    VAETransformer(encoder=Encoder, max_iter=1, random_state=0).fit(np.random.RandomState(0).rand(30, 3))
    assert owned == [True]


def test_a_warm_start_on_data_far_off_in_one_column_is_not_called_diverged():
    # Fitting the far column pulls the others off for a while: judged against the worst column's start.
    X = _correlated()
    model = AutoencoderTransformer(max_iter=20, random_state=0, warm_start=True).fit(X)
    shifted = X.copy()
    shifted[:, 0] += 3e5 * X[:, 0].std()
    model.set_params(learning_rate_init=1e-2).fit(shifted)
    assert np.isfinite(model.transform(shifted)).all()


def test_an_image_model_without_convolutions_is_refused():
    X = np.random.RandomState(0).rand(40, 64)
    # The dense stack's last activation fell on the logits: every probability was at least 0.5.
    with pytest.raises(ValueError, match=r"conv_channels=\(\) leaves the convolutional network without a convolution"):
        VAETransformer(image_shape=(8, 8), conv_channels=(), **FAST).fit(X)


def test_a_conditional_samples_first_rows_do_not_depend_on_n_samples():
    X, y = np.random.RandomState(0).rand(60, 4), np.arange(60) % 3
    model = ConditionalVAETransformer(**FAST).fit(X, y)
    few = model.sample(3, random_state=0, from_likelihood=False)
    many = model.sample(100, random_state=0, from_likelihood=False)  # the labels were drawn first, 100 of them
    np.testing.assert_array_equal(few, many[:3])


def test_a_nested_free_bits_gets_the_free_bits_message():
    X = np.random.RandomState(0).rand(40, 4)
    with pytest.raises(ValueError, match=r"free_bits=\[\[1, 2\]\] must be one non-negative number, or one per layer"):
        HierarchicalVAETransformer(latent_dims=(3, 2), free_bits=[[1, 2]], **FAST).fit(X)  # was float()'s TypeError


@pytest.mark.parametrize("library", ["polars", "pyarrow"])
def test_covariates_of_another_librarys_frame_keep_their_names(library):
    # Their names were not read: swapped columns were other conditions, unknown names passed.
    module = pytest.importorskip(library)
    frame = module.from_pandas if library == "polars" else lambda f: module.Table.from_pandas(f, preserve_index=False)
    rng = np.random.RandomState(0)
    X = rng.rand(120, 5)
    covariates = pd.DataFrame({"age": rng.rand(120) * 50 + 20, "dose": rng.rand(120)})
    model = ConditionalVAETransformer(**FAST).fit(X, covariates)
    for wrong in (frame(covariates[["dose", "age"]]), frame(covariates.set_axis(["a", "b"], axis=1))):
        with pytest.raises(ValueError, match=r"y's covariates must have the names they had at fit"):
            model.transform(X, wrong)
        with pytest.raises(ValueError, match=r"y's covariates must have the names they had at fit"):
            model.sample(5, y=wrong.slice(0, 1), random_state=0)
    np.testing.assert_array_equal(model.transform(X, frame(covariates)), model.transform(X, covariates))


def test_covariates_keep_their_names_and_a_continuous_y_is_not_read_as_labels(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.rand(120, 5)
    covariates = pd.DataFrame({"age": rng.rand(120) * 50 + 20, "dose": rng.rand(120)})
    model = ConditionalVAETransformer(**FAST).fit(X, covariates)
    for wrong in (covariates[["dose", "age"]], covariates.rename(columns={"age": "AGE"})):  # were read by position
        with pytest.raises(ValueError, match=r"y's covariates must have the names they had at fit, in the same "
                                             r"order: \['age', 'dose'\]"):
            model.transform(X, wrong)
    # Read by position, with scikit-learn's warning for X's names (it said nothing): swapped columns pass.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # names as at fit: silent
        named = model.transform(X, covariates)
    with pytest.warns(UserWarning, match=r"y does not have valid covariate names, but the model was fitted with "
                                         r"names \['age', 'dose'\]: its columns are read by position"):
        np.testing.assert_array_equal(model.transform(X, covariates.to_numpy()), named)
    unnamed = ConditionalVAETransformer(**FAST).fit(X, covariates.to_numpy())
    with pytest.warns(UserWarning, match="y has covariate names, but the model was fitted without names"):
        unnamed.transform(X, covariates)
    model.save(tmp_path / "model.skvae")
    with pytest.raises(ValueError, match="names they had at fit"):
        load(tmp_path / "model.skvae").transform(X, covariates[["dose", "age"]])
    # A continuous y made a class of each of its 120 values.
    with pytest.raises(ValueError, match=r"y holds 120 distinct fractional numbers.*y\.reshape\(-1, 1\)"):
        ConditionalVAETransformer(**FAST).fit(X, X @ rng.rand(5))
    labelled = ConditionalVAETransformer(**FAST).fit(X, np.arange(120) % 3)
    with pytest.raises(ValueError, match=r"fitted with class labels \(a 1-D y\); got a 2-D y of shape \(4, 2\)"):
        labelled.transform(X[:4], X[:4, :2])  # was scikit-learn's bare "y should be a 1d array"
    with pytest.raises(ValueError, match="split with StratifiedKFold"):
        labelled.score(X[:4], [7, 7, 7, 7])


def test_scoring_a_hole_in_a_column_that_had_none_at_fit_warns():
    X = np.random.RandomState(0).normal(size=(100, 4))
    holed = X[:5].copy()
    holed[0, 1] = np.nan
    model = VAETransformer(**FAST).fit(X)
    # The encoder reads it as the column's mean: one test's bound fell from -6.5 to -50 nats, silently.
    with pytest.warns(UserWarning, match=r"X has holes \(or categories unseen at fit, read as holes\) in columns that had none at fit \(\[1\]\)"):
        model.score_samples(holed)
    with_holes = X.copy()
    with_holes[::10, 1] = np.nan
    fitted_with_holes = VAETransformer(**FAST).fit(with_holes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.transform(holed)  # codes are not scores: no warning
        fitted_with_holes.score_samples(holed)


@pytest.mark.parametrize("sparse", [False, True])
def test_training_on_holes_in_a_column_that_had_none_at_fit_warns(sparse):
    X = np.random.RandomState(0).normal(size=(100, 4))
    holed = X.copy()
    holed[::10, 2] = np.nan
    as_input = sp.csr_matrix if sparse else np.asarray
    model = VAETransformer(**FAST).fit(as_input(X))
    # Trained on in silence before: the encoder has no missing-value input for column 2.
    with pytest.warns(UserWarning, match=r"in columns that had none at fit \(\[2\]\)\. partial_fit trains"):
        model.partial_fit(as_input(holed))
    assert np.isfinite(model.transform(as_input(X))).all()
    warm = VAETransformer(**FAST, warm_start=True).fit(as_input(X))
    with pytest.warns(UserWarning, match=r"\(\[2\]\)\. fit \(warm_start=True\) trains"):
        warm.fit(as_input(holed))
    flagged = VAETransformer(**FAST).fit(as_input(holed))
    masked = VAETransformer(**FAST, corruption="masking").fit(as_input(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flagged.partial_fit(as_input(holed))  # holes where the first fit had them: nothing to say
        model.partial_fit(as_input(X))
        masked.partial_fit(as_input(holed))  # masking taught the model holes in every column


def test_a_float32_rows_bound_beyond_float32_is_its_lowest_value_not_an_error():
    X = np.random.RandomState(0).normal(size=(200, 4)).astype(np.float32)
    model = VAETransformer(**FAST).fit(X)
    far = X[:2].copy()
    far[0, 0] = 1e20
    assert model.score_samples(far.astype(np.float64))[0] < -1e38  # finite in float64
    scores = model.score_samples(far)  # was "the networks overflowed on it"
    assert scores.dtype == np.float32 and scores[0] == np.finfo(np.float32).min and np.isfinite(scores[1])


def test_dates_and_durations_are_not_read_as_numbers_a_numeric_column_held():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "secs": rng.uniform(1, 100, 50)})
    model = VAETransformer(**FAST).fit(frame)
    durations = frame.assign(secs=pd.to_timedelta(frame["secs"].round(), unit="s"))
    # Read as ticks in their dtype's unit: seconds gave one code, nanoseconds another.
    with pytest.raises(ValueError, match=r"Column 'secs' holds timedelta64\[.*\] values but held float64 at fit: "
                                         r"durations are not read as numbers.*\.dt\.total_seconds\(\)"):
        model.transform(durations)


def test_pyarrow_durations_and_dictionaries_are_read_as_their_numpy_twins():
    import io

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "c": pd.Categorical(rng.choice(list("xyz"), 60)),
                          "d": pd.to_timedelta(rng.randint(1, 100, 60), unit="s")})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    buffer.seek(0)
    arrow = pd.read_parquet(buffer, dtype_backend="pyarrow")  # duration[us][pyarrow], dictionary<...>[pyarrow]
    model = VAETransformer(**FAST).fit(arrow)  # was "cannot model columns of dtype duration[us][pyarrow]"
    np.testing.assert_array_equal(model.transform(arrow), VAETransformer(**FAST).fit(frame).transform(frame))
    assert dict(model.sample(3, random_state=0).dtypes) == dict(arrow.dtypes)


def test_the_imputer_refuses_observed_dates_and_floats_its_columns_cannot_hold():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "a": rng.normal(size=60),
        "ts": pd.to_datetime(1_600_000_000 + rng.randint(0, 10**6, 60), unit="s").astype("datetime64[s]"),
        "h": (rng.rand(60) * 100).astype(np.float16),
    })
    frame.loc[:5, "a"] = np.nan
    imputer = VAEImputer(**FAST).fit(frame)
    rows = frame.head(2).copy()
    rows["ts"] = pd.to_datetime(["2021-03-04 10:20:30.999", "2021-03-04 10:20:31.5"]).astype("datetime64[ms]")
    with pytest.raises(ValueError, match=r"Column 'ts' was datetime64\[s\] at fit, but row 0 holds"):
        imputer.transform(rows)  # was truncated to 10:20:30
    rows = frame.head(2).copy()
    rows["h"] = [70000.0, 1.0]
    with pytest.raises(ValueError, match="Column 'h' was float16 at fit, but row 0 holds 70000.0"):
        imputer.transform(rows)  # was inf
    rows = frame.head(2).copy()
    rows["ts"] = rows["ts"].astype("datetime64[ms]")  # the same instants in a finer unit are taken
    pd.testing.assert_series_equal(imputer.transform(rows)["ts"], frame.head(2)["ts"])


def test_a_vq_warm_start_with_larger_minibatches_keeps_its_codes():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(16, 6)) * 4
    X = centres[rng.integers(0, 16, 2000)] + rng.normal(size=(2000, 6)) * 0.3
    model = VQVAETransformer(latent_dim=3, n_codes=16, batch_size=32, max_iter=8, warm_start=True,
                             random_state=0).fit(X)
    codes = model.predict(X)
    # The running counts were judged against the new batch's rows: all 16 codes were moved.
    model.set_params(batch_size=1000, max_iter=1).fit(X)
    assert np.mean(model.predict(X) == codes) > 0.9


def test_the_last_reviews_joins_graph_dtypes_float32_means_sparse_labels_and_detector_holes():
    rng = np.random.RandomState(0)
    X = rng.rand(80, 4)
    # A hierarchy's graph from a layer decoded integer codes truncated; the imputer's graph returns what
    # transform does (X's float dtype; float16 came back float64 from both, against their docstrings).
    hierarchy = HierarchicalVAETransformer(max_iter=2, random_state=0, transform_layer=-1).fit(X)
    Z = np.array([[1, -1], [0, 2]])
    with torch.inference_mode():
        decoded = hierarchy.to_torch("inverse_transform")(torch.from_numpy(Z))
    np.testing.assert_allclose(decoded.numpy(), hierarchy.inverse_transform(Z), rtol=1e-6)
    holed = X.copy()
    holed[::5, 1] = np.nan
    imputer = VAEImputer(**FAST).fit(holed)
    with torch.inference_mode():
        filled = imputer.to_torch()(torch.from_numpy(holed.astype(np.float16)))
    assert filled.dtype == torch.float16
    np.testing.assert_array_equal(filled.numpy(), imputer.transform(holed.astype(np.float16)))
    # score of float32 rows two of which saturate: the float32 sum overflowed to -inf.
    X32 = rng.normal(size=(100, 4)).astype(np.float32)
    far = X32[:4].copy()
    far[:2, 0] = 1e20
    assert np.isfinite(VAETransformer(**FAST).fit(X32).score(far))
    # A sparse y given to a fitted label model got numpy's "truth value ... is ambiguous".
    labelled = ConditionalVAETransformer(**FAST).fit(X, np.arange(80) % 2)
    with pytest.raises(ValueError, match="y is a sparse matrix"):
        labelled.transform(X[:4], sp.csr_matrix([[0], [1], [0], [1]]))
    # Fractional labels declared as a Categorical are labels.
    fractions = pd.Series(pd.Categorical(np.where(np.arange(80) % 2, 0.5, 1.5)))
    assert list(ConditionalVAETransformer(**FAST).fit(X, fractions).classes_) == [0.5, 1.5]
    # The detector's calibration held out every hole of a column (seed 5): its model could not read
    # them, and scoring the held-out rows warned about holes the user's rows had.
    from skvae import VAEOutlierDetector

    rows = rng.normal(size=(200, 4))
    rows[[3, 50], 2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        # (A rate that 39 held-out rows can calibrate: this test is of the holes' warning.)
        detector = VAEOutlierDetector(VAETransformer(max_iter=2), false_alarm_rate=0.05, random_state=5).fit(rows)
    assert 2 in detector.estimator_._schema.flagged


def test_corruption_level_zero_trains_the_uncorrupted_model():
    X = np.random.RandomState(0).rand(60, 4)
    plain = AutoencoderTransformer(**FAST).fit(X).transform(X)
    for corruption in ("gaussian", "masking"):  # the draws at level 0 moved the generator's stream
        model = AutoencoderTransformer(corruption=corruption, corruption_level=0.0, **FAST).fit(X)
        np.testing.assert_array_equal(model.transform(X), plain)


def test_messages_name_the_family_member_and_the_covariate_rows():
    X = np.random.RandomState(0).rand(60, 4)
    # A sibling's parameter got difflib's nearest name ("Did you mean 'encoder'?").
    with pytest.raises(ValueError, match="'n_codes' is a parameter of VQVAETransformer"):
        AutoencoderTransformer(n_codes=4, **FAST).fit(X)
    # Covariates with a hole got scikit-learn's bare "Input y contains NaN".
    covariates = np.random.RandomState(1).normal(size=(60, 2))
    covariates[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 row\(s\) \(first: row 7\).*without y"):
        ConditionalVAETransformer(**FAST).fit(X, covariates)


def test_marginal_score_warns_once_of_new_holes():
    X = np.random.RandomState(0).rand(60, 4)
    model = ConditionalVAETransformer(**FAST).fit(X, np.arange(60) % 3)
    holed = X.copy()
    holed[:5, 0] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.score_samples(holed)
    assert sum("holes" in str(w.message) for w in caught) == 1  # it came once per class


def test_vqvae_reports_its_noise_variance():
    X = np.random.RandomState(0).normal(size=(80, 3)) * [1.0, 10.0, 0.1]
    per_feature = VQVAETransformer(noise_variance="per_feature", **FAST).fit(X).noise_variance_
    assert per_feature.shape == (3,) and per_feature[1] > per_feature[0] > per_feature[2] > 0  # X's units
    isotropic = VQVAETransformer(noise_variance="isotropic", **FAST).fit(X).noise_variance_
    assert np.ptp(isotropic) < 1e-3 * isotropic.mean()  # one variance, as the VAE's isotropic one
    assert VQVAETransformer(likelihood="bernoulli", **FAST).fit(np.random.RandomState(0).rand(60, 3)).noise_variance_ is None


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    import os

    import skvae._persistence

    X = np.random.RandomState(0).rand(60, 4)
    path = tmp_path / "model.skvae"
    model = VAETransformer(**FAST).fit(X)
    model.save(path)
    before = path.read_bytes()
    other = VAETransformer(**{**FAST, "random_state": 1}).fit(X)

    def fails(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # An array the encoder refuses, and a disk that fills up: "w" had emptied the file first.
    for target, name in ((zipfile.ZipFile, "writestr"), (skvae._persistence.os, "replace")):
        monkeypatch.setattr(target, name, fails)
        with pytest.raises(OSError, match="No space"):
            other.save(path)
        monkeypatch.undo()
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["model.skvae"]
    np.testing.assert_array_equal(load(path).transform(X), model.transform(X))
    # Saved through a link, into the file it names, keeping that file's permissions.
    os.chmod(path, 0o600)
    (tmp_path / "latest.skvae").symlink_to(path)
    other.save(tmp_path / "latest.skvae")
    assert (tmp_path / "latest.skvae").is_symlink() and oct(path.stat().st_mode & 0o777) == "0o600"
    np.testing.assert_array_equal(load(path).transform(X), other.transform(X))


def test_damaged_files_get_skvaes_message(tmp_path):
    X = np.random.RandomState(0).rand(60, 4)
    path = tmp_path / "model.skvae"
    VAETransformer(**FAST).fit(X).save(path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("arrays.safetensors")
        metadata = json.loads(archive.read("skvae.json"))
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(40, 60):  # inside the compressed arrays: zlib's bare error came through
        damaged = bytearray(raw)
        damaged[start + offset] ^= 0xFF
        (tmp_path / "bad.skvae").write_bytes(damaged)
        with pytest.raises(ValueError, match="bad.skvae"):
            load(tmp_path / "bad.skvae")
    # Another estimator's name over this state: a KeyError from deep inside.
    for edit, match in [({"estimator": "skvae.VQVAETransformer"}, "not fit a VQVAETransformer"),
                        ({"format_version": "3"}, "format_version is '3'")]:
        with zipfile.ZipFile(path) as archive, zipfile.ZipFile(tmp_path / "edited.skvae", "w") as out:
            out.writestr("skvae.json", json.dumps({**metadata, **edit}))
            out.writestr("arrays.safetensors", archive.read("arrays.safetensors"))
        with pytest.raises(ValueError, match=match):
            load(tmp_path / "edited.skvae")
    assert load(path, trusted=None).n_features_in_ == 4  # "NoneType is not iterable"


def test_a_refused_conditional_sample_draws_nothing_from_the_callers_generator():
    X = np.random.RandomState(0).rand(60, 4)
    model = ConditionalVAETransformer(**FAST).fit(X, np.where(np.arange(60) % 2, "p", "q"))
    expected = model.sample(3, random_state=np.random.RandomState(0), y="p")
    refusals = {"y holds labels the model was not fitted with: \\['r'\\]": dict(y="r"),
                "from_likelihood must be True or False; got 'yes'": dict(y="p", from_likelihood="yes"),
                "^from_likelihood must be True or False": dict(y=None, from_likelihood="yes")}
    for message, bad in refusals.items():
        rng = np.random.RandomState(0)
        with pytest.raises(ValueError, match=message):
            model.sample(3, random_state=rng, **bad)
        np.testing.assert_array_equal(model.sample(3, random_state=rng, y="p"), expected)


def test_decimal_columns_are_numbers_and_list_columns_are_refused():
    import decimal

    import pyarrow as pa

    rng = np.random.RandomState(0)
    prices = [decimal.Decimal(f"{p:.2f}") for p in rng.lognormal(3, 1, 120)]
    for dtype in (object, pd.ArrowDtype(pa.decimal128(12, 2))):
        X = pd.DataFrame({"a": rng.normal(size=120), "price": pd.Series(prices, dtype=dtype)})
        model = VAETransformer(**FAST).fit(X)
        # Object Decimals were a category per value (a new price then an "unknown category");
        # pyarrow's decimal128 was refused as "not numbers".
        assert model.column_likelihoods_["price"] != "categorical"
        assert np.isfinite(model.score_samples(X.assign(price=X["price"].iloc[::-1].to_numpy()))).all()
    assert model.sample(5, random_state=0)["price"].dtype == X["price"].dtype
    tags = pd.DataFrame({"tags": [["x"], ["y", "z"]] * 20, "b": rng.normal(size=40)})
    with pytest.raises(ValueError, match="Column 'tags' holds list values"):  # unhashable type: 'list'
        VAETransformer(**FAST).fit(tags)
    strings = VAETransformer(**FAST).fit(tags.assign(tags=["x", "y"] * 20))
    with pytest.raises(ValueError, match="Column 'tags' holds list values"):
        strings.transform(tags)
    # A decimal column's outputs stay within what its precision holds (pyarrow's overflow error).
    narrow = pd.DataFrame({"a": rng.normal(size=120), "p": pd.Series(
        [decimal.Decimal(f"{v:.2f}") for v in rng.uniform(0, 999, 120)], dtype=pd.ArrowDtype(pa.decimal128(5, 2)))})
    far = VAETransformer(**FAST).fit(narrow).inverse_transform([[1e3, 1e3], [-1e3, -1e3]])["p"]
    assert float(far.abs().max()) <= 999.99


def test_messages_name_the_index_label_of_a_row():
    X = pd.DataFrame({"a": np.arange(40.0), "k": ["u", "v"] * 20})
    model = VAETransformer(**FAST).fit(X)
    fold = X.iloc[30:].copy()  # a test fold keeps its rows' labels
    fold.index = fold.index.to_numpy()  # as X.iloc[test] gives them: np.int64 labels
    fold.loc[35, "k"] = "rare"
    with pytest.raises(ValueError, match="row 5, index label 35\\)"):
        model.transform(fold)
    fold.index = pd.Index([pd.NA] * 10, dtype="Int64")
    with pytest.raises(ValueError, match="index label <NA>"):
        model.transform(fold)
    fold = X.iloc[30:].copy()
    fold.loc[33, "a"] = np.inf
    with pytest.raises(ValueError, match="row 3, index label 33"):
        model.transform(fold)


def test_warnings_from_a_search_worker_name_skvae_not_the_standard_library():
    import joblib
    from sklearn.model_selection import GridSearchCV

    X = np.random.RandomState(0).rand(40, 3)
    with warnings.catch_warnings(record=True) as caught, joblib.parallel_backend("threading", n_jobs=2):
        warnings.simplefilter("always")
        GridSearchCV(VAETransformer(**FAST), {"latent_dim": [1, 2]}, cv=2).fit(X)
    places = {w.filename for w in caught if issubclass(w.category, ConvergenceWarning)}
    # The workers' warnings pointed at multiprocessing/pool.py.
    assert places and all("multiprocessing" not in place and "threading" not in place for place in places)


def test_an_autoencoder_returning_constant_far_rows_has_diverged():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300) * 3 + 1,
                      "c": rng.choice(["x", "y", "z"], size=300), "d": rng.poisson(3, size=300)})
    params = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    # It returned one constant row, 12 to 53 standard deviations off (50 times its start's miss).
    with pytest.raises(ValueError, match="Training diverged"):
        AutoencoderTransformer(learning_rate_init=10, **params).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        AutoencoderTransformer(**params).fit(X)
    # At learning_rate_init=1: an autoencoder whose codes and outputs were one for all 300 rows (a
    # first check asked for codes that differ), and a VAE missing a column by 9.6 of its standard
    # deviations (the threshold was 10), were both returned.
    params.pop("random_state")
    with pytest.warns(UserWarning, match="same output, though their values differ"):
        AutoencoderTransformer(learning_rate_init=1.0, random_state=1, **params).fit(X)
    # Which check refuses that VAE depends on the CPU's rounding of a chaotic trajectory: a miss of
    # 5-9 standard deviations on an Intel host, noise of 2e10 on an AMD one. The threshold itself is
    # the next test's.
    with pytest.raises(ValueError, match="Training diverged"):
        VAETransformer(learning_rate_init=1.0, random_state=2, **params).fit(X)


@pytest.mark.parametrize("start_miss, miss, refused", [
    (1.0, 4.9, False), (1.0, 5.1, True), (1.0, 9.6, True),
    # A start that missed some column by more than one standard deviation (new data far from a kept
    # scaling) allows five times that start's worst miss.
    (2.0, 9.6, False), (2.0, 10.4, True),
])
def test_a_miss_of_five_standard_deviations_has_diverged(start_miss, miss, refused):
    from skvae._fitting import Health, check_not_diverged

    # A start that misses by ``start_miss`` (predicting the mean misses by one), and an end whose
    # second column is missed by ``miss``: 9.6 is what a VAE at learning_rate_init=1 returned when
    # the threshold was 10.
    model = nn.Linear(2, 2)
    start, end = Health(-3.0, np.array([start_miss, 0.8])), Health(-2.5, np.array([0.3, miss]))
    refusal = pytest.raises(ValueError, match=rf"iteration 15: .* miss column 'b' by {miss} standard deviations")
    with refusal if refused else contextlib.nullcontext():
        check_not_diverged(model, start, end, {}, 2, ["a", "b"], iteration=15)


def test_a_censored_columns_miss_is_the_bounded_ones():
    from skvae.nn.likelihoods.gaussian import GaussianLikelihood

    statistics = {"mean": np.array([1.0]), "scale": np.array([2.0]), "censor_low": np.array([0.0])}
    likelihood = GaussianLikelihood(1, statistics=statistics, noise_variance="per_feature", censored=[(True, False)])
    at_bound = torch.tensor([[-0.5]], dtype=torch.float64)  # 0 standardised
    # A location 6 standard deviations past the bound reconstructs the bound: no miss (it was 30.25).
    assert float(likelihood.squared_error(at_bound, torch.tensor([[-6.5]]))) == 0.0
    assert float(likelihood.squared_error(at_bound, torch.tensor([[1.5]]))) == pytest.approx(4.0)


def test_wide_and_mixed_decimals():
    import decimal

    import pyarrow as pa

    rng = np.random.RandomState(0)
    # An 18-digit decimal's bound rounded up in float64 to 10**18: pyarrow's overflow came through.
    wide = pd.DataFrame({"a": rng.normal(size=120), "amount": pd.Series(
        [decimal.Decimal(int(v)) for v in rng.uniform(0, 9e17, 120)], dtype=pd.ArrowDtype(pa.decimal128(18, 0)))})
    assert len(VAETransformer(**FAST).fit(wide).inverse_transform([[30.0, 30.0]])) == 1
    # Decimals beside floats are numbers too (pandas calls them "mixed": they were a category per row).
    for other in (float, int):  # pandas' "mixed" and "mixed-integer"; fillna(0) gives the second
        mixed = pd.Series([decimal.Decimal("1.5") if i % 2 else other(i) for i in range(80)], dtype=object)
        model = VAETransformer(**FAST).fit(pd.DataFrame({"a": rng.normal(size=80), "price": mixed}))
        assert model.column_likelihoods_["price"] != "categorical"
        new = pd.DataFrame({"a": [0.0, 1.0], "price": pd.Series([0, decimal.Decimal("2.5")], dtype=object)})
        assert np.isfinite(model.transform(new)).all()
    # A NaT among numbers is no number pandas reads: a category, as before (not pandas' TypeError).
    odd = pd.Series([pd.NaT] + [float(i) for i in range(79)], dtype=object)
    VAETransformer(**FAST).fit(pd.DataFrame({"a": rng.normal(size=80), "p": odd}))


def test_a_read_only_file_is_not_replaced(tmp_path, monkeypatch):
    import skvae._persistence

    X = np.random.RandomState(0).rand(30, 2)
    path = tmp_path / "model.skvae"
    VAETransformer(**FAST).fit(X).save(path)
    before = path.read_bytes()
    # As open(path, "w") refuses it (os.access, as root grants everything here).
    monkeypatch.setattr(skvae._persistence.os, "access", lambda *args: False)
    with pytest.raises(PermissionError, match="read-only"):
        VAETransformer(**{**FAST, "random_state": 1}).fit(X).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before


def test_hand_edited_metadata_of_the_wrong_shape(tmp_path):
    path = tmp_path / "model.skvae"
    VAETransformer(**FAST).fit(np.random.RandomState(0).rand(30, 2)).save(path)
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read("skvae.json"))
        arrays = archive.read("arrays.safetensors")
    # AttributeError ('partition', 'items', 'get') came through.
    for edit in ({"estimator": 5}, {"state": [1, 2]}, {"versions": "x", "format_version": 99}):
        with zipfile.ZipFile(tmp_path / "edited.skvae", "w") as out:
            out.writestr("skvae.json", json.dumps({**metadata, **edit}))
            out.writestr("arrays.safetensors", arrays)
        with pytest.raises(ValueError, match="incomplete or damaged"):
            load(tmp_path / "edited.skvae")


def test_load_gives_the_paths_own_errors_as_open_does(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):  # it was "not a file written by skvae's save"
        load(tmp_path / "file" / "model.skvae")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.skvae")


def test_a_narrowing_subclass_is_told_which_parameter_to_add():
    class NarrowVAE(VAETransformer):
        def __init__(self, latent_dim=2, max_iter=2):
            super().__init__(latent_dim=latent_dim, max_iter=max_iter)

    # It was pointed to six sibling estimators as if it had been given their parameter.
    with pytest.raises(ValueError, match="of VAETransformer, which it derives from: add it to NarrowVAE"):
        NarrowVAE().fit(np.random.RandomState(0).rand(30, 2))


@pytest.mark.parametrize("Estimator", [VAETransformer, AutoencoderTransformer, VAEImputer])
def test_a_constant_column_decodes_as_its_value_in_any_units(Estimator):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "rate": 0.05})
    holed = frame.copy()
    holed.loc[::5, "rate"] = np.nan
    model = Estimator(**{**FAST, "max_iter": 10}).fit(holed)
    # Its decoded values were learnt from nothing: 0.05 came back as 0.006 to 0.07.
    if Estimator is VAEImputer:
        assert (model.transform(holed)["rate"] == 0.05).all()
        assert (model.to_torch()(torch.tensor(holed.to_numpy()))[:, 2] == 0.05).all()
    else:
        assert (model.inverse_transform(model.transform(frame))["rate"] == 0.05).all()
        graph = model.to_torch("inverse_transform")
        assert (graph(torch.as_tensor(model.transform(frame)))[:, 2] == 0.05).all()
    assert (model.sample(50, random_state=0, from_likelihood=False)["rate"] == 0.05).all()
    assert (model.sample(50, random_state=0)["rate"].dropna() == 0.05).all()
    # A saved model keeps it (and a file written before these buffers loads without them).
    restored = pickle.loads(pickle.dumps(model))
    assert (restored.sample(5, random_state=0, from_likelihood=False)["rate"] == 0.05).all()


def test_a_negative_zero_scores_as_zero():
    # Each row's Monte Carlo draws were keyed on the bits of its values, and -0.0 (np.round(-0.3),
    # -x of a zero) has other bits than 0.0: equal rows scored 0.6 nats apart, and outliers flipped.
    X = (np.random.RandomState(0).rand(200, 6) > 0.5).astype(float)
    negative = X.copy()
    negative[negative == 0] = -0.0
    vae = VAETransformer(2, **FAST).fit(X)
    np.testing.assert_array_equal(vae.score_samples(negative), vae.score_samples(X))
    np.testing.assert_array_equal(vae.score_samples(negative, n_importance=10), vae.score_samples(X, n_importance=10))


def test_an_imputed_float16_array_stays_float16():
    X = np.random.RandomState(0).normal(size=(60, 3)).astype(np.float16)
    X[::5, 0] = np.nan
    filled = VAEImputer(**FAST).fit_transform(X)
    assert filled.dtype == np.float16  # it came back float64, where its docstring says X's float dtype
    assert np.array_equal(filled[~np.isnan(X)], X[~np.isnan(X)])
    # A fill beyond float16's range is its largest value, not inf (the first version cast it).
    near = np.random.RandomState(0).uniform(64000, 65504, size=(60, 2)).astype(np.float16)
    near[::3, 0] = np.nan
    imputer = VAEImputer(**{**FAST, "sample_posterior": True}).fit(near)
    assert np.isfinite(imputer.transform(near)).all()
    graph = imputer.set_params(sample_posterior=False).to_torch()
    assert torch.isfinite(graph(torch.from_numpy(near))).all()


def test_a_column_of_two_values_fits_without_numpy_warnings():
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 5.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "Mean of empty slice", "Degrees of freedom <= 0"
        model = VAETransformer(1, max_iter=2, random_state=0).fit(frame)
    assert model.column_likelihoods_ == {"x": "gaussian", "y": "gaussian"}


def test_a_column_constant_in_the_first_block_is_released_when_a_later_block_varies_it():
    rng = np.random.RandomState(0)
    first = pd.DataFrame({"a": rng.normal(size=100), "unit": 7.5, "rate": 2.0})
    later = pd.DataFrame({"a": rng.normal(size=100), "unit": 7.5, "rate": rng.uniform(1.0, 3.0, 100)})
    model = VAETransformer(**FAST).partial_fit(first)
    assert (model.inverse_transform(model.transform(later))["rate"] == 2.0).all()
    for _ in range(3):
        model.partial_fit(later)
    decoded = model.inverse_transform(model.transform(later))
    assert decoded["rate"].nunique() > 1  # decoded as learnt, not pinned at the first block's 2.0
    assert (decoded["unit"] == 7.5).all()  # still constant: still pinned
    # A failed call leaves it pinned (the model is a copy until the call succeeds).
    fresh = VAETransformer(**FAST).partial_fit(first)
    with pytest.raises(ValueError):
        fresh.partial_fit(later.assign(a=np.inf))
    assert (fresh.inverse_transform(fresh.transform(later))["rate"] == 2.0).all()


def test_a_log_normal_constant_is_released_by_larger_values_too():
    rng = np.random.RandomState(0)
    first = pd.DataFrame({"a": rng.lognormal(size=100), "amount": 5.0})
    model = VAETransformer(**{**FAST, "likelihood": "lognormal"}).partial_fit(first)
    # Decoded log-normal values are bounded by the first block's largest; the release reads past it.
    model.partial_fit(first.assign(amount=rng.uniform(6.0, 9.0, 100)))
    assert not bool(model.network_.columns.parts[0].is_constant.any())


def test_the_last_reviews_mixture_and_release_edges():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    # A warm-started fit on too few rows for a component kept the last fit's mixture, of other codes.
    vae = VAETransformer(**{**FAST, "warm_start": True}).fit(X)
    assert bool(vae.network_.latent.mixture_fitted)
    vae.fit(X[:9])
    assert not bool(vae.network_.latent.mixture_fitted)
    # A release within a relative 1e-6 of the constant (28 minutes of nanoseconds since 1970) was none.
    first = pd.DataFrame({"a": rng.normal(size=60), "at": pd.Timestamp("2024-05-01 12:00")})
    later = first.assign(at=pd.Timestamp("2024-05-01 12:00") + pd.to_timedelta(rng.randint(1, 20, 60), "min"))
    model = VAETransformer(**FAST).partial_fit(first).partial_fit(later)
    part = next(p for p in model.network_.columns.parts if hasattr(p, "is_constant"))
    assert not bool(part.is_constant.any())
    # A longdouble array came back longdouble (SimpleImputer gives float64).
    holed = X.astype(np.longdouble)
    holed[::5, 0] = np.nan
    assert VAEImputer(**FAST).fit_transform(holed).dtype == np.float64


def test_an_error_in_a_later_chunk_names_the_row_of_x():
    # Evaluation read the encoded values' row within its chunk of 1,024 rows: X[452, 3] for row 2500.
    rng = np.random.RandomState(0)
    X = rng.rand(3000, 4)
    model = VAETransformer(max_iter=1, random_state=0).fit(X)
    X[2500, 3] = 1e39  # finite in float64, beyond float32
    with pytest.raises(ValueError, match=r"X\[2500, 3\] = 1e\+39 is beyond float32"):
        model.transform(X)


def test_one_huge_count_is_not_read_as_divergence():
    X = np.random.RandomState(0).poisson(3, size=(90, 3)).astype(float)
    X[3, 1] = 1e15  # the model starts near -3.6e14 nats; float32 rounding moved that by millions
    # Refused as "Training diverged ... against -3.58e+14 before training. Lower learning_rate_init".
    params = {"latent_dim": 2, "max_iter": 3, "likelihood": "poisson", "random_state": 0}
    for model in (VQVAETransformer(**params, learning_rate_init=1e-5).fit(X), VAEGANTransformer(**params).fit(X)):
        assert model.n_iter_ == 3 and np.isfinite(model.transform(X)).all()


@pytest.mark.parametrize("scale", [1e300, 1e-170])
def test_the_vq_vae_checks_the_unit_of_its_noise_variance_as_the_vae_does(scale):
    X = np.random.RandomState(0).normal(size=(60, 3))
    X[:, 0] *= scale
    for Estimator in (VAETransformer, VQVAETransformer):  # the VQ-VAE trained, then "diverged" or reported 0
        with pytest.raises(ValueError, match=r"X\[:, 0\] has a standard deviation of .*: noise_variance_ holds variances"):
            Estimator(**FAST).fit(X)


def test_auto_counts_values_at_0_and_1_over_the_whole_frame_and_takes_frames_without_numbers():
    rng = np.random.RandomState(0)
    values = np.c_[np.zeros((100, 2)), rng.uniform(0.05, 0.95, (100, 2))]  # half the values are 0
    as_array = VAETransformer(**FAST).fit(values).column_likelihoods_
    as_frame = VAETransformer(**FAST).fit(pd.DataFrame(values, columns=list("abcd"))).column_likelihoods_
    assert set(as_array.values()) == set(as_frame.values()) == {"bernoulli"}  # the frame split by column
    frame = pd.DataFrame({"c": pd.Categorical(rng.choice(["x", "y"], 60)), "b": rng.rand(60) > 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "Mean of empty slice"
        VAETransformer(**FAST).fit(frame)


def test_a_column_far_from_zero_keeps_its_spread_as_a_scale():
    from skvae._data import Scaling
    from skvae._statistics import _array_scaling, _sparse_scaling

    rng = np.random.RandomState(0)
    n = 3000
    z = rng.normal(size=n)
    X = np.column_stack([1e15 + 300 * z, 1e9 + 3 * z, np.full(n, 0.1), np.full(n, 1e15 + 3), np.full(n, 1 / 3)])
    # StandardScaler's test of constancy judged both varying columns constant (scale 1), for these n:
    # the model then read a spread of 300 unscaled. The constant columns stay constant (scale 1).
    holed = X.copy()
    holed[::7, 0] = np.nan
    for scale, data in ((Scaling.fit(X).scale, X), (_array_scaling(holed, list(range(5)), None, False).scale, holed),
                        (_sparse_scaling(sp.csr_matrix(X), list(range(5)), None, False).scale, X)):
        np.testing.assert_allclose(scale[:2], np.nanstd(data[:, :2], axis=0), rtol=1e-3)
        np.testing.assert_array_equal(scale[2:], 1.0)
    # Judged varying, such a column's scale took the mean's rounding in too (0.48 against 0.29).
    fine = 1e15 + rng.uniform(size=(100_000, 1))
    spread = (fine - 1e15).std(axis=0)  # exact differences: numpy's own std of fine reads 0.32
    np.testing.assert_allclose(Scaling.fit(fine).scale, spread, rtol=1e-3)
    np.testing.assert_allclose(_sparse_scaling(sp.csr_matrix(fine), [0], None, False).scale, spread, rtol=1e-3)
    # End to end: the far column's reconstructions vary as it does.
    frame = pd.DataFrame({"far": 1e15 + 300 * z[:600], "x": z[:600] + 0.1 * rng.normal(size=600)})
    model = VAETransformer(latent_dim=1, hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(frame)
    decoded = model.inverse_transform(model.transform(frame))
    assert decoded["far"].std() > 100


def test_score_samples_takes_n_importance_by_keyword_only():
    X = np.random.RandomState(0).normal(size=(60, 3))
    labels = np.arange(60) % 10
    # score_samples(X, 8) was K=8 to the VAE and the label 8 to the conditional VAE, silently.
    with pytest.raises(TypeError):
        VAETransformer(**FAST).fit(X).score_samples(X, 8)
    conditional = ConditionalVAETransformer(**FAST).fit(X, labels)
    np.testing.assert_array_equal(conditional.score_samples(X, np.full(60, 8)), conditional.score_samples(X, y=np.full(60, 8)))
    with pytest.raises(TypeError):
        conditional.score_samples(X, None, 8)


def test_a_frame_with_rows_but_no_columns_gets_scikit_learns_error():
    # It was "not enough values to unpack (expected 6, got 0)".
    for Estimator in (VAETransformer, VAEImputer):
        with pytest.raises(ValueError, match=rf"0 feature\(s\) \(shape=\(10, 0\)\) while a minimum of 1 is required by {Estimator.__name__}"):
            Estimator(**FAST).fit(pd.DataFrame(index=range(10)))


def test_an_image_frame_takes_the_arrays_rule_for_bernoulli():
    X = np.random.RandomState(0).uniform(0.05, 0.95, size=(100, 16))  # in [0, 1], none at 0 or 1
    for data in (X, pd.DataFrame(X, columns=[f"p{j}" for j in range(16)])):
        model = VAETransformer(image_shape=(4, 4), conv_channels=(4,), max_iter=1, random_state=0).fit(data)
        assert set(model.column_likelihoods_.values()) == {"gaussian"}  # the frame's was Bernoulli


def test_drawn_fills_do_not_depend_on_how_wide_x_is_stored(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1100, 2100)).astype(np.float32)  # wide: a streamed X took 992-row chunks
    X[rng.rand(*X.shape) < 0.02] = np.nan
    imputer = VAEImputer(latent_dim=2, hidden_layer_sizes=(), max_iter=1, sample_posterior=True,
                         random_state=0).fit(X[:100])
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    # Chunked apart from the same rows in memory, every row drew other fills.
    np.testing.assert_array_equal(imputer.transform(mapped), imputer.transform(X))


@pytest.mark.parametrize("Estimator", [VAETransformer, AutoencoderTransformer, ConditionalVAETransformer,
                                       HierarchicalVAETransformer, VAEGANTransformer, VAEImputer, VQVAETransformer])
def test_partial_fit_of_a_fitted_model_validates_the_parameters_it_reads_afresh(Estimator):
    # Every call reads learning_rate_init, beta, batch_size, ...: a value fit refuses must not
    # train silently (a negative learning rate) or fail deep inside (batch_size=0).
    from sklearn.utils._param_validation import InvalidParameterError

    X = np.random.RandomState(0).normal(size=(60, 4))
    y = np.arange(60) % 2
    extra = (y,) if Estimator is ConditionalVAETransformer else ()
    model = Estimator(**FAST).partial_fit(X, *extra)
    before = model.transform(X, *extra) if hasattr(model, "transform") else None
    for bad in ({"batch_size": 0}, {"learning_rate_init": -1e-3}):
        with pytest.raises(InvalidParameterError):
            model.set_params(**bad).partial_fit(X, *extra)
        model.set_params(**FAST, batch_size="auto", learning_rate_init=1e-3)
        np.testing.assert_array_equal(model.transform(X, *extra), before)


def test_a_later_value_that_overflows_the_loss_gets_one_advice_not_two():
    X = np.random.RandomState(0).normal(size=(60, 4))
    model = VAETransformer(**FAST).fit(X)
    X[3, 2] = 1e20
    with pytest.raises(ValueError, match="a lower learning rate cannot help") as error:
        model.partial_fit(X)
    assert "Lower learning_rate_init" not in str(error.value)


def test_a_count_error_on_negative_fractions_does_not_advise_rounding():
    # Rounding, as advised, only led to the next error: counts cannot be negative.
    X = np.random.RandomState(0).normal(size=(100, 5))
    with pytest.raises(ValueError, match=r'Counts are not negative either, and X holds -\d.*likelihood="gaussian"') as error:
        VAETransformer(likelihood="poisson").fit(X)
    assert "np.rint" not in str(error.value)


def test_a_frame_value_beyond_float32_is_named_by_its_column():
    frame = pd.DataFrame({"a": np.linspace(0, 1, 40), "d": np.linspace(1, 2, 40)}, index=np.arange(1000, 1040))
    model = VAETransformer(**FAST).fit(frame)
    frame.loc[1010, "d"] = 1e39
    with pytest.raises(ValueError, match=r"Column 'd' holds 1e\+39 \(row 10, index label 1010\), beyond float32's "
                                         r"range.*Rescale column 'd'"):
        model.transform(frame)


@pytest.mark.parametrize("start, zone, unit", [("2262-03-01", "Asia/Tokyo", "D"), ("1677-10-01", "America/New_York", "D"),
                                               ("1677-10-01", "Europe/Berlin", "s"), ("2262-03-01", "America/New_York", "s")])
def test_zoned_dates_near_the_ends_of_what_nanoseconds_hold_decode_without_overflow(start, zone, unit):
    # Rounded to a step on the zone's clock, a value moves by half a step: the bounds leave room for it.
    rng = np.random.RandomState(0)
    steps = rng.randint(0, 30, size=100) * (1 if unit == "D" else 86_400)
    dates = (pd.Timestamp(start) + pd.to_timedelta(steps + (0 if unit == "D" else rng.randint(0, 60, size=100)),
                                                   unit="s" if unit == "s" else "D")).tz_localize(zone)
    model = VAETransformer(**FAST).fit(pd.DataFrame({"x": rng.normal(size=100), "d": dates}))
    decoded = model.inverse_transform(np.linspace(-8, 8, 20)[:, None] * np.ones((1, model.latent_dim)))["d"]
    assert decoded.notna().all() and str(decoded.dt.tz) == zone
    # Within the last (first) day too, dates that fit keep their values: a bound a day inside, the
    # first version of this fix, turned them all into one.
    edge = pd.Timestamp("2262-04-11 10:00", tz="UTC") if start > "2000" else pd.Timestamp("1677-09-21 13:00", tz="UTC")
    times = (edge + pd.to_timedelta(np.arange(100), unit="min")).tz_convert(zone)
    frame = pd.DataFrame({"x": rng.normal(size=100), "d": times})
    edgy = AutoencoderTransformer(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(frame)
    assert edgy.inverse_transform(edgy.transform(frame))["d"].nunique() > 10


def test_a_divergence_error_gives_its_advice_once_after_pickling():
    # A joblib worker's error comes back pickled: rebuilt from its message, it repeated the advice.
    from skvae._training import TrainingDiverged

    error = TrainingDiverged("Training diverged at iteration 3: the loss is nan.")
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) and copy.finding == error.finding
    assert str(copy).count("learning_rate_init") == 1


@pytest.mark.parametrize("Estimator", [VAETransformer, VAEImputer])
def test_a_frame_fitted_model_reads_a_sparse_matrix_as_scikit_learn_does(Estimator):
    rng = np.random.RandomState(0)
    values = rng.normal(size=(60, 4))
    model = Estimator(**FAST).fit(pd.DataFrame(values, columns=list("abcd")))
    expected = model.transform(values)
    for X in (sp.csr_matrix(values), sp.coo_matrix(values), sp.csr_array(values)):
        np.testing.assert_array_equal(np.asarray(model.transform(X)), np.asarray(expected))


def test_an_autoencoder_whose_decoder_stopped_responding_is_warned_of():
    # At 300 times the default learning rate a step killed every decoder unit: the network gave every
    # row the columns' means (miss about 1 standard deviation, which the reconstruction test passes),
    # returned without a word while other seeds raised.
    from sklearn.datasets import load_wine

    X = load_wine().data
    model = AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.3, random_state=0)
    with pytest.warns(UserWarning, match="decoder that gives most training rows the same output, though their "
                                         "values differ.*Lower learning_rate_init"):
        model.fit(X)
    assert len(np.unique(model.inverse_transform(model.transform(X)), axis=0)) == 1
    fitted = AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(X)
    assert len(np.unique(fitted.inverse_transform(fitted.transform(X)), axis=0)) > 1


def test_a_collapsed_vae_whose_decoder_is_quiet_for_every_code_is_returned():
    # On independent columns the columns' own densities are the best model: a VAE collapses to them,
    # its decoder's units quiet for every training code. The first version of the check above
    # refused it as diverged (lr 1e-2, beta 10: 3 seeds of 3), and a partial_fit stream stalled.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=300, n_iter_no_change=300, free_bits=0.0, kl_warmup=0,
                         beta=10.0, learning_rate_init=1e-2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    assert vae.n_active_units_ == 0
    assert len(np.unique(vae.inverse_transform(vae.transform(X)), axis=0)) == 1  # the case the check judges
    assert vae.score(rng.normal(size=(2000, 4))) > -5.8  # the true density scores -5.68


def test_the_convergence_advice_names_only_settings_that_can_let_the_rule_fire():
    X = np.random.RandomState(0).normal(size=(100, 4))

    def advice(model):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X)
        (message,) = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
        return message.split("). ")[-1]

    # The warm-up alone outlasts max_iter: no n_iter_no_change can help (it was advised).
    hvae = HierarchicalVAETransformer(max_iter=30, n_iter_no_change=1, hidden_layer_sizes=(8,), random_state=0)
    assert advice(hvae) == "Increase max_iter or shorten kl_warmup."
    assert advice(AutoencoderTransformer(max_iter=5, n_iter_no_change=10, hidden_layer_sizes=(8,), random_state=0)) \
        == "Increase max_iter or lower n_iter_no_change."
    vae = VAETransformer(max_iter=20, n_iter_no_change=10, hidden_layer_sizes=(8,), random_state=0)
    assert advice(vae) == "Increase max_iter, shorten kl_warmup or lower n_iter_no_change."
    # Neither alone can: shortening the warm-up alone was advised, and the next fit warned again.
    vae = VAETransformer(max_iter=5, n_iter_no_change=10, hidden_layer_sizes=(8,), random_state=0)
    assert advice(vae) == "Increase max_iter or both shorten kl_warmup and lower n_iter_no_change."
    assert advice(vae.set_params(max_iter=2)) == "Increase max_iter."


def test_early_stopping_auto_holds_nothing_out_where_validation_fraction_is_zero():
    X = np.random.RandomState(0).normal(size=(10_000, 3))
    model = AutoencoderTransformer(hidden_layer_sizes=(4,), max_iter=1, batch_size=5000, validation_fraction=0.0,
                                   random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert model.validation_scores_ is None
    with pytest.raises(ValueError, match="early_stopping='auto' holds out validation_fraction=1e-05 of the 10000"):
        model.set_params(validation_fraction=1e-5).fit(X)


def test_a_fitted_hierarchy_checks_its_parameters_in_partial_fit_as_fit_does():
    from sklearn.utils._param_validation import InvalidParameterError

    X = np.random.RandomState(0).normal(size=(60, 4))
    for bad, error, message in (
        ({"latent_dims": None}, InvalidParameterError, "latent_dims"),
        ({"latent_dims": 0}, InvalidParameterError, "latent_dims"),
        # An int passes the parameter check, to meet the message that says what to give instead.
        ({"latent_dims": 5}, ValueError, r"latent_dims=5 gives one latent layer; .*e.g. \(5, 2\)"),
        ({"transform_layer": 1.0}, InvalidParameterError, "transform_layer"),
    ):
        model = HierarchicalVAETransformer(**FAST).fit(X)
        before = model.transform(X)
        with pytest.raises(error, match=message):
            model.set_params(**bad).partial_fit(X)
        np.testing.assert_array_equal(model.set_params(latent_dims=(4, 2), transform_layer=None).transform(X), before)


def test_a_hierarchy_without_hidden_layers_is_linear_and_a_saved_one_keeps_its_build(tmp_path):
    # hidden_layer_sizes=() (what "auto" picks for 83 x 2,308 khan) gave the hierarchy's own networks
    # the input's width: 5.4 million weights there, where the one-layer VAE has 44 thousand.
    X = np.random.RandomState(0).normal(size=(30, 200))
    auto = dict(max_iter=3, random_state=0)
    hvae = HierarchicalVAETransformer(**auto).fit(X)
    vae = VAETransformer(latent_dim=6, **auto).fit(X)
    assert hvae.hidden_layer_sizes_ == () and vae.hidden_layer_sizes_ == ()
    n_weights = [sum(p.numel() for p in m.network_.parameters()) for m in (hvae, vae)]
    assert n_weights[0] < 1.1 * n_weights[1], n_weights
    # A model fitted before (its architecture without the constant) is rebuilt as it was, and continues.
    old = HierarchicalVAETransformer(**auto)
    old._architecture_constants = {"decoder_reads_every_layer": True}
    old.fit(X)
    assert sum(p.numel() for p in old.network_.parameters()) > 200 * 200
    path = tmp_path / "old.skvae"
    old.save(path)
    loaded = load(path)
    np.testing.assert_array_equal(loaded.transform(X), old.transform(X))
    loaded.partial_fit(X)


def test_load_refuses_a_file_whose_state_another_class_wrote_or_that_lacks_what_a_fit_leaves(tmp_path):
    # The autoencoders accept any routed keyword, so a conditional model's file named VAETransformer
    # loaded, then failed at transform with a matrix-shape error; a VAE's file named the conditional
    # model, or one without n_features_in_ or the optimizer's state, failed at first use with an
    # AttributeError; NaN weights were blamed on the data.
    from safetensors.numpy import load as load_arrays
    from safetensors.numpy import save as save_arrays

    X = np.random.RandomState(0).normal(size=(60, 4))
    y = np.where(np.arange(60) % 2, "p", "q")
    VAETransformer(**FAST).fit(X).save(tmp_path / "vae.skvae")
    ConditionalVAETransformer(**FAST).fit(X, y).save(tmp_path / "cvae.skvae")

    def edited(source, name=None, drop=None, nan_weights=False):
        with zipfile.ZipFile(tmp_path / source) as archive:
            metadata, raw = json.loads(archive.read("skvae.json")), archive.read("arrays.safetensors")
        if name:
            metadata["estimator"] = name
        if drop:
            metadata["state"]["__dict__"] = [item for item in metadata["state"]["__dict__"] if item[0] != drop]
        if nan_weights:
            arrays = load_arrays(raw)
            key = next(k for k in arrays if "encoder" in k and arrays[k].ndim == 2)
            arrays[key] = np.full_like(arrays[key], np.nan)
            raw = save_arrays(arrays)
        path = tmp_path / f"edited{len(list(tmp_path.iterdir()))}.skvae"
        with zipfile.ZipFile(path, "w") as out:
            out.writestr("skvae.json", json.dumps(metadata))
            out.writestr("arrays.safetensors", raw)
        return path

    cases = [
        (edited("cvae.skvae", name="skvae.VAETransformer"), r"parameters do not fit a VAETransformer \(no parameter"),
        (edited("vae.skvae", name="skvae.ConditionalVAETransformer"), r"lacks \['_conditions'\]"),
        (edited("vae.skvae", drop="n_features_in_"), r"lacks \['n_features_in_'\]"),
        (edited("vae.skvae", drop="_optimizer_state"), r"lacks \['_optimizer_state'\]"),
        (edited("vae.skvae", nan_weights=True), "weights are not all finite"),
    ]
    for path, match in cases:
        with pytest.raises(ValueError, match=rf"{path.name} is incomplete or damaged: .*{match}"):
            load(path)
    assert load(edited("vae.skvae")).n_features_in_ == 4  # the unedited file, rewritten, still loads


def test_divergence_errors_are_one_class_and_a_detector_names_its_routed_learning_rate():
    from sklearn.preprocessing import StandardScaler

    from skvae import VAEOutlierDetector
    from skvae._training import TrainingDiverged

    X = np.random.RandomState(0).normal(size=(200, 5))
    # A loss that is not finite and a finished model out of bounds: one class, one advice.
    with pytest.raises(TrainingDiverged, match="the loss is nan.*left as it was before this call"):
        VAETransformer(learning_rate_init=1e6, **FAST).fit(X)
    rng = np.random.RandomState(0)
    mixed = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300) * 3 + 1,
                          "c": rng.choice(["x", "y", "z"], size=300), "d": rng.poisson(3, size=300)})
    with pytest.raises(TrainingDiverged, match="after its last step.*left as it was before this call"):
        AutoencoderTransformer(latent_dim=2, hidden_layer_sizes=(16,), max_iter=15, learning_rate_init=10,
                               random_state=0).fit(mixed)
    # Following the detector's advice must work: "learning_rate_init" is no parameter of it.
    for base, name in [(VAETransformer(learning_rate_init=1e6, **FAST), "estimator__learning_rate_init"),
                       (make_pipeline(StandardScaler(), VAETransformer(learning_rate_init=1e6, **FAST)),
                        "estimator__vaetransformer__learning_rate_init")]:
        detector = VAEOutlierDetector(base, random_state=0)
        with pytest.raises(TrainingDiverged, match=f"Lower {name} "):
            detector.fit(X)
        detector.set_params(**{name: 1e-3}).fit(X)


def test_codes_that_overflow_a_decoded_mean_are_named_as_codes_not_as_x():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"g": rng.normal(size=200), "amount": np.exp(rng.normal(3, 1, 200)),
                          "count": rng.poisson(3, 200)})
    model = AutoencoderTransformer(likelihood={"amount": "lognormal", "count": "poisson"}, hidden_layer_sizes=(16,),
                                   max_iter=5, random_state=0).fit(frame)
    # Far along every direction: the exponential of a log-normal or count mean overflows along some.
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    codes = 1e5 * np.c_[np.cos(angles), np.sin(angles)]
    with pytest.raises(ValueError, match=r"Code row \d+ .* far outside the codes transform gives the training data"):
        model.inverse_transform(codes)


def test_a_detector_whose_unfitted_base_holds_an_output_configuration_loads(tmp_path):
    # set_output on the base gives its unfitted copy a state; load took it for a fitted model's.
    from skvae import VAEOutlierDetector

    X = np.random.RandomState(0).normal(size=(60, 4))
    detector = VAEOutlierDetector(VAETransformer(**FAST).set_output(transform="pandas"), contamination=0.1,
                                  random_state=0).fit(X)
    detector.save(tmp_path / "detector.skvae")
    np.testing.assert_array_equal(load(tmp_path / "detector.skvae").score_samples(X), detector.score_samples(X))


def test_numbers_that_read_csv_gives_as_strings_draw_the_conversion_advice():
    # data.md promises the advice for numbers beside a marker; read_csv gives such a column (a "?"
    # among the numbers) as strings, which became ~90 silent levels.
    import io

    rng = np.random.default_rng(0)
    lines = [f"{v:.1f},{w:.3f}" if i % 40 else f"?,{w:.3f}"
             for i, (v, w) in enumerate(zip(rng.normal(50, 5, 120), rng.normal(size=120)))]
    X = pd.read_csv(io.StringIO("age,x\n" + "\n".join(lines)))
    with pytest.warns(UserWarning, match=r"Column 'age' holds numbers written as strings .* and 3 other values "
                                         r"\('\?'\).*pd.to_numeric\(X\['age'\], errors='coerce'\)"):
        VAETransformer(**FAST).fit(X)
    fixed = X.assign(age=pd.to_numeric(X["age"], errors="coerce"))
    assert VAETransformer(**FAST).fit(fixed).column_likelihoods_["age"] == "gaussian"
    # Codes with leading zeros are categories a user means: no advice to make them numbers.
    codes = pd.DataFrame({"zip": rng.choice(["02134", "10001", "94110"], 100), "x": rng.normal(size=100)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAETransformer(**FAST).fit(codes)


def test_one_output_is_warned_of_only_where_it_is_a_dead_autoencoder():
    # Columns constant where observed, 30% holes: one output is right (it misses by 0), and rows
    # differing only in their holes share it; the first version refused this fit.
    rng = np.random.default_rng(0)
    for _ in range(6):
        X = np.tile([1.0, 2, 3, 4], (300, 1))
        X[rng.random(X.shape) < 0.3] = np.nan
    model = AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=1e-2, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    np.testing.assert_allclose(model.inverse_transform(model.transform(X)), np.tile([1.0, 2, 3, 4], (300, 1)),
                               atol=1e-3)
    # A VQ-VAE's rows sharing a code share an output: a transform (which quantizes the model's codes)
    # between warm starts made the check read quantized codes, and refused the next fit.
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0, 0.05, (300, 3)) + 3, rng.normal(0, 1, (300, 3)) - 3])
    vq = VQVAETransformer(n_codes=2, transform_quantized=True, hidden_layer_sizes=(16,), max_iter=2, random_state=1,
                          warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(4):
            vq.fit(X)
            vq.transform(X[:256])
    # The dead autoencoder is still warned of.
    from sklearn.datasets import load_wine

    with pytest.warns(UserWarning, match="same output"):
        AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.3,
                               random_state=0).fit(load_wine().data)


def test_the_detector_names_every_learning_rate_a_pipeline_could_have_diverged_by():
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import Pipeline

    from skvae import VAEOutlierDetector
    from skvae._training import TrainingDiverged

    X = np.random.RandomState(0).normal(size=(200, 5))
    # The last step is not the model that diverged: its name was given, which set_params refuses.
    isolated = Pipeline([("ae", AutoencoderTransformer(learning_rate_init=1e6, **FAST)),
                         ("iso", IsolationForest(random_state=0))])
    with pytest.raises(TrainingDiverged, match="Lower estimator__ae__learning_rate_init "):
        VAEOutlierDetector(isolated, contamination=0.1, random_state=0).fit(X)
    both = Pipeline([("ae", AutoencoderTransformer(learning_rate_init=1e6, **FAST)), ("vae", VAETransformer(**FAST))])
    with pytest.raises(TrainingDiverged, match=r"estimator__ae__learning_rate_init or "
                                               r"estimator__vae__learning_rate_init"):
        VAEOutlierDetector(both, contamination=0.1, random_state=0).fit(X)


def test_the_numbers_as_strings_advice_spares_identifiers_bools_and_columns_named_categorical():
    rng = np.random.default_rng(0)
    ids = pd.DataFrame({"order_id": [str(v) for v in rng.choice(10**6, 300, replace=False)], "x": rng.normal(size=300)})
    with pytest.warns(UserWarning, match="an identifier"):
        VAETransformer(**FAST).fit(ids)
    for frame, likelihood in [
        (pd.DataFrame({"b": pd.Series([True, False, None] * 40, dtype=object), "x": rng.normal(size=120)}), "auto"),
        (pd.DataFrame({"dept": rng.choice(["110", "220", "330"], 100), "x": rng.normal(size=100)}),
         {"dept": "categorical"}),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            VAETransformer(likelihood=likelihood, **FAST).fit(frame)


def test_poisson_draws_past_two_to_the_63_are_counts_near_their_rate_not_the_training_minimum():
    # torch.poisson returns -2**63 from a rate of 2**63 on, which the range clipping made the
    # column's smallest training value in every drawn row.
    from skvae.nn.likelihoods.counts import poisson

    generator = torch.Generator().manual_seed(0)
    rates = torch.tensor([3.0, 1e19, 1e25], dtype=torch.float64)
    draws = poisson(rates, generator)
    assert draws[0] >= 0 and np.all(np.abs(draws[1:].numpy() / rates[1:].numpy() - 1) < 1e-6)
    # Below the limit the draws are torch.poisson's own, bitwise.
    small = torch.tensor([0.5, 3.0, 1e6, 1e18], dtype=torch.float64)
    np.testing.assert_array_equal(poisson(small, torch.Generator().manual_seed(1)),
                                  torch.poisson(small, generator=torch.Generator().manual_seed(1)))


def test_an_autoencoder_giving_all_but_one_row_one_output_is_warned_of():
    # Two distinct outputs for 300 rows (1.008 standard deviations off, worse than the means) passed a
    # test that every output be the same, while other seeds at this rate drew the warning.
    rng = np.random.RandomState(0)
    rng.randn(120, 4)
    X = rng.randn(300, 3) @ rng.randn(3, 6)
    model = AutoencoderTransformer(max_iter=20, learning_rate_init=0.3, random_state=0)
    with pytest.warns(UserWarning, match="gives most training rows the same output"):
        model.fit(X)
    outputs = model.inverse_transform(model.transform(X))
    assert len(np.unique(outputs, axis=0)) > 1
    # Rows with the same values sharing an output are no dead network: a sound fit on 64 distinct rows,
    # and one where 55% of the rows are empty (the share first counted them, 0.64 of the rows).
    repeated = np.repeat(rng.randn(64, 3) @ rng.randn(3, 6), 5, axis=0)
    sparse = np.abs(rng.randn(300, 6)) * (rng.rand(300, 6) < 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        AutoencoderTransformer(max_iter=20, random_state=0).fit(repeated)
        AutoencoderTransformer(max_iter=20, random_state=1, hidden_layer_sizes=(4,)).fit(sp.csr_matrix(sparse))
    # Two units that give half the rows one output from their initialisation, and every row after
    # training: the start counted as dead, and the end went unwarned.
    clusters = np.repeat(rng.randn(4, 6) * 3, 75, axis=0) + 0.3 * rng.randn(300, 6)
    narrow = AutoencoderTransformer(max_iter=15, learning_rate_init=0.3, hidden_layer_sizes=(2,), random_state=2)
    with pytest.warns(UserWarning, match=r"gives most training rows the same output.*\(they no longer respond\)"):
        narrow.fit(clusters)
    # Dead from its initialisation, which no learning rate revives: not told to lower it.
    stillborn = AutoencoderTransformer(max_iter=12, learning_rate_init=1e-4, hidden_layer_sizes=(2,), random_state=1)
    with pytest.warns(UserWarning, match=r"\(they never responded, from the initialisation\).*Try another") as record:
        stillborn.fit(X)
    assert not any("Lower learning_rate_init" in str(warning.message) for warning in record)
    # A continued network's start is the last call's end, which tells neither cause: killed by its rate
    # (narrow), it was told "never responded"; dead from its start (stillborn), to lower its rate.
    for model, rows in ((narrow, clusters), (stillborn, X)):
        with pytest.warns(UserWarning, match=r"\(they do not respond now\).*Fit afresh \(warm_start=False\) "
                                             r"with another random_state or more units, and a lower learning_rate_init"):
            model.partial_fit(rows)


def test_a_dead_autoencoder_is_warned_of_whatever_its_columns_and_a_constant_column_beside_them():
    # The version that judged only standardised columns let dead networks on pixels, Bernoulli or
    # categorical columns through, and a constant column (missed by 0) vetoed the refusal on wine.
    from sklearn.datasets import load_digits, load_wine

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, (300, 3))
    categories = pd.DataFrame({f"c{j}": pd.Categorical(np.array(list("abcd"))[(codes[:, j] + (codes[:, 0] if j else 0)) % 4])
                               for j in range(3)})
    wine = load_wine().data
    for X, rate in [(categories, 0.3), (np.c_[wine, np.ones(len(wine))], 0.3),
                    ((load_digits().data[:300] > 8).astype(float), 3.0)]:
        with pytest.warns(UserWarning, match="same output, though their values differ"):
            AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=rate, random_state=0).fit(X)


def test_advice_is_routed_once_through_nested_detectors_and_a_lone_marker_among_distinct_measurements_is_named():
    import io

    from skvae import VAEOutlierDetector
    from skvae._training import TrainingDiverged

    X = np.random.RandomState(0).normal(size=(200, 5))
    nested = VAEOutlierDetector(VAEOutlierDetector(AutoencoderTransformer(learning_rate_init=1e6, **FAST)),
                                contamination=0.1, random_state=0)
    with pytest.raises(TrainingDiverged, match="Lower estimator__estimator__learning_rate_init "):
        nested.fit(X)
    nested.set_params(estimator__estimator__learning_rate_init=1e-3)  # the name it gives is one set_params takes
    # 299 distinct readings and one "?": the identifier warning, not the conversion advice, came first.
    values = np.random.default_rng(0).normal(120, 15, 300)
    lines = ["?" if i == 7 else f"{v:.3f}" for i, v in enumerate(values)]
    frame = pd.read_csv(io.StringIO("bp\n" + "\n".join(lines))).assign(x=np.arange(300.0))
    with pytest.warns(UserWarning, match=r"'bp' holds numbers written as strings .* and 1 other value \('\?'\)"):
        VAETransformer(**FAST).fit(frame)
    # Numbers a user named categorical draw no advice to convert, as objects as well as strings.
    objects = pd.DataFrame({"dept": pd.Series([110, 220, 330, "unknown"] * 25, dtype=object), "x": np.arange(100.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAETransformer(likelihood={"dept": "categorical"}, **FAST).fit(objects)


def test_a_dead_autoencoder_is_warned_of_whatever_the_order_of_its_rows():
    # The check read the first 256 rows: 300 empty rows of a sparse matrix first hid a dead network.
    rng = np.random.RandomState(0)
    X = sp.random(400, 20, density=0.1, format="csr", random_state=rng)
    X = sp.vstack([sp.csr_matrix((300, 20)), X[300:]]).tocsr()
    with pytest.warns(UserWarning, match="same output"):
        AutoencoderTransformer(hidden_layer_sizes=(16,), max_iter=10, learning_rate_init=10.0, random_state=0).fit(X)


def test_dead_network_advice_says_what_a_continued_fit_can_change():
    # A continued fit keeps its seed and its shape: "try another random_state" cannot help it.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(300, 6))
    X = (X - X.min(0)) / np.ptp(X, axis=0)
    dead = dict(image_shape=(2, 3), conv_channels=(4,), likelihood="bernoulli", hidden_layer_sizes=(16,),
                max_iter=5, random_state=1, warm_start=True)
    model = AutoencoderTransformer(**dead).fit(X)
    with pytest.warns(UserWarning, match=r"Fit afresh \(warm_start=False\) with another random_state"):
        model.set_params(learning_rate_init=10.0, max_iter=30).fit(X)


def test_numbers_written_as_strings_are_advised_whatever_the_order_of_the_rows():
    # The check read the first 20 values: a file sorted with its missing rows first ("nan" kept as
    # strings) showed it only markers, and ~70 numbers became silent levels.
    import io

    rng = np.random.default_rng(0)
    lines = ["nan"] * 30 + [f"{v:.1f}" for v in np.sort(rng.normal(50, 5, 90))]
    X = pd.read_csv(io.StringIO("age\n" + "\n".join(lines)), keep_default_na=False).assign(x=rng.normal(size=120))
    with pytest.warns(UserWarning, match=r"'age' holds numbers written as strings .* and 30 other values \('nan'\)"):
        VAETransformer(**FAST).fit(X)


def test_the_discriminator_is_judged_on_rows_spread_over_the_set():
    # It read the first 1,024 rows: 1,100 like rows first showed it one row, judged alike every time.
    from skvae import VAEGANTransformer

    rng = np.random.RandomState(0)
    X = np.vstack([np.tile(rng.normal(size=6), (1100, 1)), rng.normal(size=(400, 6))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        accuracy = VAEGANTransformer(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X).discriminator_accuracy_
    # One row judged 1,024 times scores 0 or 1 on real rows and on their reconstructions alike.
    assert {accuracy["real"], accuracy["reconstructions"]} - {0.0, 1.0}


def test_a_calibration_on_too_few_held_out_rows_is_warned_of():
    # Rows holding a level only they hold are fitted instead: with a column of rare levels 1 to 4 of 17
    # drawn rows were left, and the threshold, their lowest score, flagged up to 70% of the rows silently.
    from skvae import VAEOutlierDetector

    rng = np.random.default_rng(0)
    rare = pd.DataFrame({"genus": [f"g{i}" for i in rng.integers(0, 70, 83)], "x": rng.normal(size=83)})
    with pytest.warns(UserWarning, match=r"calibrated on \d+ held-out rows? \(\d+ of the 17 rows drawn were "
                                         r"fitted instead.*up to 1 / \d"):
        VAEOutlierDetector(VAETransformer(**FAST), random_state=0).fit(rare)
    # A row moved for a value the model fitted without it cannot take is told of as such.
    amounts = pd.DataFrame({"amount": rng.lognormal(5, 1, 100), "x": rng.normal(size=100)})
    amounts.loc[7, "amount"] = -3.0
    with pytest.warns(UserWarning, match=r"calibrated on 19 held-out rows \(1 of the 20 rows drawn was fitted instead, "
                                         r"holding a value or level the model fitted on the other rows could not take\)"):
        VAEOutlierDetector(VAETransformer(**FAST), random_state=0).fit(amounts)
    X = rng.normal(size=(300, 4))
    with pytest.warns(UserWarning, match=r"calibrated on 20 held-out rows, too few for false_alarm_rate=0.01"):
        VAEOutlierDetector(VAETransformer(**FAST), random_state=0).fit(X[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAEOutlierDetector(VAETransformer(**FAST), random_state=0).fit(X)  # 60 held out: 1/61 < 2%
        VAEOutlierDetector(VAETransformer(**FAST), false_alarm_rate=0.1, random_state=0).fit(X[:100])


def test_new_holes_advice_says_how_to_model_a_category_unseen_at_fit():
    # Under handle_unknown="ignore" an unseen category is read as a hole; the advice (fit on rows with
    # holes, or fill them with VAEImputer) swapped it for a known level.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 200), "x": rng.normal(size=200)})
    model = VAETransformer(handle_unknown="ignore", **FAST).fit(X)
    new = pd.DataFrame({"g": ["a", "z"], "x": [0.0, 0.0]})
    with pytest.warns(UserWarning, match=r"In columns of categories \(\['g'\]\) a category unseen at fit is read as "
                                         r"such a hole: to model it as a level, declare every level up front "
                                         r"\(X.astype\(\{'g': pd.CategoricalDtype\(all_levels\)\}\)\)"):
        model.score_samples(new)
    # A real hole in the column is no unseen category: no word of levels there.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.score_samples(pd.DataFrame({"g": ["a", np.nan], "x": [0.0, 0.0]}))
    assert any("had none at fit" in str(w.message) for w in caught)
    assert not any("categories unseen at fit is read" in str(w.message) for w in caught)
    # Followed, the advice models the level, which no training row held, as unlikely.
    declared = X.astype({"g": pd.CategoricalDtype(["a", "b", "c", "z"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = VAETransformer(max_iter=30, random_state=0).fit(declared).score_samples(new)
    assert scores[1] < scores[0]


def test_imputer_fills_keep_within_min_value_and_max_value_as_iterative_imputers_do():
    # A decoder's mean can lie beyond the values seen at fit (meat's broilers filled at -602, observed
    # 251 to 4211), and VAEImputer had no way to bound it; min_value was answered "Did you mean
    # 'missing_values'?".
    from sklearn.base import clone

    from skvae import VAEImputer

    rng = np.random.default_rng(0)
    amount = rng.gamma(2.0, 100.0, 300) + 250
    X = pd.DataFrame({"amount": amount, "other": amount / 2 + rng.normal(0, 30, 300),
                      "count": pd.array(rng.integers(0, 9, 300), dtype="Int64"), "kind": rng.choice(list("xyz"), 300)})
    X.loc[rng.random(300) < 0.3, "amount"] = np.nan
    X.loc[rng.random(300) < 0.3, "count"] = pd.NA
    imputer = VAEImputer(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X)
    holes, count_holes = X["amount"].isna().to_numpy(), X["count"].isna().to_numpy()
    free = imputer.transform(X)
    low, high = np.quantile(free["amount"][holes], [0.3, 0.7])  # bounds that clamp some fills each way
    assert (free["count"][count_holes] == 4).all()
    imputer.set_params(min_value=[low, None, 4.5, -np.inf], max_value=[high, np.inf, 6.5, np.inf])
    bounded = imputer.transform(X)
    np.testing.assert_allclose(bounded["amount"][holes], np.clip(free["amount"][holes], low, high))
    assert (bounded["count"][count_holes] == 5).all()  # the whole number within [4.5, 6.5] nearest 4
    pd.testing.assert_frame_equal(bounded[~holes & ~count_holes], X[~holes & ~count_holes].astype(bounded.dtypes))
    # The exported graph bounds its fills as transform does.
    A = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 4))
    A[rng.random(A.shape) < 0.2] = np.nan
    arrays = VAEImputer(hidden_layer_sizes=(8,), max_iter=5, random_state=0, min_value=-0.3, max_value=0.3).fit(A)
    filled = arrays.transform(A)
    assert np.abs(filled[np.isnan(A)]).max() <= 0.3
    np.testing.assert_allclose(arrays.to_torch()(torch.from_numpy(A)).detach().numpy(), filled)
    # Refused as IterativeImputer's fit refuses them, and a failed fit leaves the imputer as it was.
    fitted = clone(imputer).set_params(min_value=-np.inf, max_value=np.inf).fit(X)
    before = fitted.transform(X)
    for bounds, match in [(dict(min_value=[0.0, 0.0]), r"'min_value' should be of shape \(4,\)"),
                          (dict(min_value=[0.0, 0.0, 0.0, 0.0]), r"finite bound to \['kind'\]"),
                          (dict(min_value=5.0, max_value=4.0), "leave no value a fill of column 'amount'")]:
        with pytest.raises(ValueError, match=match):
            fitted.set_params(**bounds).fit(X)
        fitted.set_params(min_value=-np.inf, max_value=np.inf)
        pd.testing.assert_frame_equal(fitted.transform(X), before)


def test_log_normal_values_never_decode_above_the_largest_training_value():
    # The bound was applied to log1p of the largest value: expm1 of it came back a few ulps above
    # (macrodata's m1: 1673.9000000000008 against 1673.9), which the docstring rules out.
    from skvae.nn.likelihoods.lognormal import LogNormalLikelihood

    largest = 1673.9
    statistics = {"mean": [0.0], "scale": [1.0], "high": [np.log1p(largest)], "largest": [largest]}
    part = LogNormalLikelihood(1, statistics=statistics)
    assert float(torch.expm1(torch.tensor(np.log1p(largest), dtype=torch.float64))) > largest  # the trap
    assert part._values(torch.tensor([[50.0]], dtype=torch.float64)).item() == largest
    # Fitted, saved and loaded, and saved before the bound existed (its log alone bounds it then).
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"amount": np.r_[np.minimum(rng.lognormal(5, 1, 299), 1000), largest], "x": rng.normal(size=300)})
    model = VAETransformer(**FAST).fit(X)
    assert model.column_likelihoods_["amount"] == "lognormal"
    codes = np.vstack([model.transform(X), 100 * np.ones((1, model.latent_dim)), -100 * np.ones((1, model.latent_dim))])
    assert model.inverse_transform(codes)["amount"].max() <= largest
    state = model.__getstate__()
    loaded = VAETransformer.__new__(VAETransformer)
    loaded.__setstate__(state)
    pd.testing.assert_frame_equal(loaded.inverse_transform(codes), model.inverse_transform(codes))
    state["network_"]["state_dict"] = {k: v for k, v in state["network_"]["state_dict"].items()
                                       if not k.endswith(".largest")}
    legacy = VAETransformer.__new__(VAETransformer)
    legacy.__setstate__(state)
    assert legacy.inverse_transform(codes)["amount"].max() >= largest * (1 - 1e-12)


def test_the_encoders_reading_of_values_within_bounds_takes_a_shortcut_with_the_same_bits_but_not_in_a_graph():
    # Rows without a value beyond INPUT_BOUND skip the compression (six operations); its bits are
    # those of the whole formula, and a graph recorded from such rows still compresses others.
    from skvae.nn.likelihoods.base import INPUT_BOUND, encoder_input

    rng = np.random.RandomState(0)
    for dtype, bits in ((torch.float32, torch.int32), (torch.float64, torch.int64)):
        x = torch.tensor(np.r_[rng.normal(0, 3, 2000), [-0.0, 0.0, INPUT_BOUND, -INPUT_BOUND, 1e-40]], dtype=dtype)
        bounded = x.clamp(-INPUT_BOUND, INPUT_BOUND)
        whole = bounded + torch.sign(x) * torch.log1p((x - bounded).abs())
        assert torch.equal(encoder_input(x).view(bits), whole.view(bits))
    X = rng.normal(size=(300, 6))
    model = VAETransformer(**FAST).fit(X)
    extreme = X[:4].copy()
    extreme[0, 0], extreme[1, 3] = 500.0, -1e4
    traced = torch.jit.trace(model.to_torch(), torch.tensor(X[:4]))  # recorded from rows within the bound
    np.testing.assert_array_equal(traced(torch.tensor(extreme)).detach().numpy(), model.transform(extreme))


def test_dates_as_strings_are_advised_with_a_marker_at_either_end_of_the_column():
    # Read spread over the column, the values included its last, where a sort puts "unknown" after
    # the dates: one marker made 90 dates silent levels (the first twenty read before missed one first).
    import io

    rng = np.random.default_rng(0)
    days = pd.date_range("2020-01-01", periods=90).strftime("%Y-%m-%d")
    lines = [f"{d},{v:.3f}" for d, v in zip(rng.choice(days, 300), rng.normal(size=300))]
    lines += [f"unknown,{v:.3f}" for v in rng.normal(size=4)]
    X = pd.read_csv(io.StringIO("date,x\n" + "\n".join(lines)))
    for frame in (X.sort_values("date", ignore_index=True), X.sort_values("date", ascending=False, ignore_index=True)):
        with pytest.warns(UserWarning, match=r"holds dates as strings .* pd.to_datetime\(X\['date'\], format='ISO8601', "
                                             r"errors='coerce'\) to model it as a date \(values it does not read, such "
                                             r"as 'unknown', become missing\)"):
            VAETransformer(**FAST).fit(frame)
    # The advice, followed, reads the column as dates; with the format given, times beside days are kept
    # (pandas guessed '%Y-%m-%d' from the first value, and errors='coerce' blanked every time).
    converted = X.assign(date=pd.to_datetime(X["date"], format="ISO8601", errors="coerce"))
    assert VAETransformer(**FAST).fit(converted).column_likelihoods_["date"] == "gaussian"
    timed = pd.Series([f"2020-01-{d % 28 + 1:02d}" + (" 01:30" if d % 2 else "") for d in range(190)] + ["unknown"] * 10)
    assert pd.to_datetime(timed, format="ISO8601", errors="coerce").isna().sum() == 10
    # Version numbers are no dates (day 6, month 1 of 7601), a column of timestamps in several zones
    # is no crash, and day-first and month-first dates both read are said to be ambiguous.
    quiet = [pd.DataFrame({"v": ["6.1.7601", "6.3.9600", "5.1.2600", "6.2.9200"] * 25, "x": np.arange(100.0)}),
             pd.DataFrame({"t": [f"2020-01-{d % 28 + 1:02d}T00:00:00{'+01:00' if d % 2 else '-05:00'}"
                                 for d in range(100)], "x": np.arange(100.0)})]
    for frame in quiet:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            VAETransformer(**FAST).fit(frame)
        assert not any("dates as strings" in str(w.message) for w in caught)
    monthly = pd.DataFrame({"d": [f"01/{m:02d}/{y}" for y in range(2010, 2019) for m in range(1, 13)],
                            "x": np.arange(108.0)})
    with pytest.warns(UserWarning, match="format='%m/%d/%Y'.* Both month/day and day/month read these values"):
        VAETransformer(**FAST).fit(monthly)


def test_imputer_bounds_refuse_what_no_fill_can_meet_read_series_by_name_and_old_pickles_take_the_defaults():
    from skvae import VAEImputer

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"f64": rng.normal(10, 1, 300), "f32": rng.normal(size=300).astype(np.float32),
                      "visits": rng.poisson(2, 300).astype(float), "i8": pd.array(rng.integers(0, 9, 300), dtype="Int8")})
    for column in X:
        X.loc[rng.random(300) < 0.2, column] = None
    fast = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    imputer = VAEImputer(likelihood={"visits": "poisson"}, **fast).fit(X)
    # A Series holding the training names is read by name, not by position.
    bounds = pd.Series({"f32": 0.0, "f64": 12.0, "visits": 1.5, "i8": -np.inf})
    filled = imputer.set_params(min_value=bounds).transform(X)
    assert filled["f64"][X["f64"].isna()].min() == 12.0 and filled["f32"][X["f32"].isna()].min() == 0.0
    assert filled["visits"][X["visits"].isna()].min() == 2.0  # a count's fills are whole numbers within
    # Bounds no fill can meet are refused at fit: an infinite floor, or beyond an integer dtype's range.
    # A Series whose labels are not the training columns is refused, not read by position.
    with pytest.raises(ValueError, match=r"unknown \['F64'\]; missing \['f64'\]"):
        imputer.set_params(min_value=bounds.rename({"f64": "F64"})).transform(X)
    imputer.set_params(min_value=-np.inf)
    flags = pd.DataFrame({"flag": pd.array([True, False, None] * 100, dtype="boolean"), "x": rng.normal(size=300)})
    big = pd.DataFrame({"n": pd.array(rng.integers(0, 9, 300), dtype="Int64"), "x": rng.normal(size=300)})
    big.loc[::7, "n"] = pd.NA
    for params, match in [(dict(min_value=np.inf), "min_value=inf"), (dict(max_value=-np.inf), "max_value=-inf"),
                          (dict(min_value=[-np.inf, -np.inf, -np.inf, 200]), r"in its dtype Int8 \(-128 to 127\)")]:
        with pytest.raises(ValueError, match=match):
            VAEImputer(**params, **fast).fit(X)
    # Beyond what a boolean or Int64 column holds (2**63 compared exactly, not as int64's max in float64).
    for frame, params in [(flags, dict(min_value=[2, -np.inf])), (big, dict(min_value=[2.0**63, -np.inf]))]:
        with pytest.raises(ValueError, match="in its dtype"):
            VAEImputer(**params, **fast).fit(frame)
    # A pickle of an earlier release, without the parameters, takes their defaults.
    state = imputer.set_params(min_value=-np.inf).__getstate__()
    del state["min_value"], state["max_value"]
    old = VAEImputer.__new__(VAEImputer)
    old.__setstate__(state)
    assert old.get_params()["min_value"] == -np.inf and old.get_params()["max_value"] == np.inf
    pd.testing.assert_frame_equal(old.transform(X), imputer.transform(X))


def test_a_scalar_imputer_bound_leaves_booleans_alone_and_a_refusal_shows_the_exact_range():
    # min_value=5 meant for amounts was refused for a frame's bool column, with no way out named; and
    # the range and the bound were printed alike (-9.22337e+18 to 9.22337e+18 against 9.22337e+18).
    from skvae import VAEImputer

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"amount": rng.normal(10, 2, 200), "flag": rng.random(200) < 0.5,
                      "n": pd.array(rng.integers(0, 9, 200), dtype="Int64")})
    X.loc[::5, "amount"] = np.nan
    X.loc[::7, "n"] = pd.NA
    X["yes"] = (rng.random(200) < 0.5).astype(float)  # a 0/1 column with holes, modelled on [0, 1]
    X.loc[::6, "yes"] = np.nan
    free = VAEImputer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X).transform(X)
    for floor in (5, 1):  # 1, a floor for amounts, made every hole of a flag True
        filled = VAEImputer(min_value=floor, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X).transform(X)
        assert filled["amount"][X["amount"].isna()].min() >= floor and filled["n"][X["n"].isna()].min() >= floor
        pd.testing.assert_series_equal(filled["yes"], free["yes"])
        pd.testing.assert_series_equal(filled["flag"], free["flag"])
    # A scalar that bounds no column is refused, not ignored, where it would have moved the fills ...
    with pytest.raises(ValueError, match=r"max_value=0.5 bounds no column.*one bound each"):
        VAEImputer(max_value=0.5, hidden_layer_sizes=(8,), max_iter=3).fit(X[["flag", "yes"]])
    with pytest.raises(ValueError, match=r"min_value=0.1 bounds no column"):
        VAEImputer(min_value=0.1, hidden_layer_sizes=(8,), max_iter=3).fit(X[["flag", "yes"]])
    # ... and not where they lie within it already: "auto" modelled one fold's shares on [0, 1] (one share
    # of 1.5 in the other rows), and a cross-validation of min_value=0 failed on that fold alone.
    for bounds in ({"min_value": 0}, {"min_value": -1, "max_value": 1}, {"max_value": 2.5}):
        VAEImputer(**bounds, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X[["flag", "yes"]])
    shares = np.where(rng.random((300, 4)) < 0.3, 0.0, rng.random((300, 4)))
    shares[-1, 0] = 1.5
    shares[rng.random(shares.shape) < 0.1] = np.nan
    fold = VAEImputer(min_value=0, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(shares[:200])
    assert set(fold.column_likelihoods_.values()) == {"bernoulli"}
    np.testing.assert_array_equal(
        fold.transform(shares[:200]),
        VAEImputer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(shares[:200]).transform(shares[:200]))
    with pytest.raises(ValueError, match=r"\(-9223372036854775808 to 9223372036854775807\): "
                                         r"min_value=9.223372036854776e\+18.*bounds per column"):
        VAEImputer(min_value=[-np.inf, -np.inf, float(2**63), -np.inf], hidden_layer_sizes=(8,), max_iter=3).fit(X)


@pytest.mark.parametrize("likelihood", ["poisson", "negative_binomial"])
def test_counts_near_1e8_train_on_a_log_likelihood_that_does_not_cancel_away(likelihood):
    # In float32 the Poisson's terms (about count x log-rate, 1.8e9 here) cancelled to noise:
    # a training loss below zero, which a discrete likelihood plus a KL cannot have, and a
    # negative binomial decoding these counts at 1.44e8.
    X = np.random.RandomState(0).poisson(1e8, (300, 1)).astype(float)
    vae = VAETransformer(likelihood=likelihood, latent_dim=1, max_iter=40, random_state=0).fit(X)
    assert min(vae.loss_curve_) > 0
    decoded = vae.inverse_transform(vae.transform(X))
    np.testing.assert_allclose(decoded.mean(), X.mean(), rtol=1e-3)


def test_scoring_float32_rows_whose_sum_passes_float32s_range_warns_of_nothing():
    # The cheap test for holes summed the rows: "RuntimeWarning: overflow encountered in reduce"
    # on valid data, which reads as a numerical failure.
    rng = np.random.RandomState(0)
    X = np.c_[rng.rand(100) * 3e38, rng.randn(100, 2)].astype(np.float32)
    vae = VAETransformer(max_iter=2, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert np.all(np.isfinite(vae.score_samples(X)))


def test_a_fit_whose_learned_noise_diverged_is_refused():
    # learning_rate_init=0.1 left the reconstructions within about one standard deviation and
    # threw a column's learned noise variance to 1.9e4 times the column's: the model was
    # returned, and 89% of its sampled values sat at their columns' range bounds.
    from sklearn.datasets import load_wine

    X = load_wine().data
    model = VAETransformer(latent_dim=2, max_iter=20, random_state=0).fit(X)
    before = model.transform(X)
    with pytest.raises(ValueError, match=r"Training diverged at iteration 20: .*puts noise of [\d.e+]+ standard "
                                         r"deviations on column \d+, whose reconstructions miss by [\d.]+"):
        model.set_params(learning_rate_init=0.1).fit(X)
    np.testing.assert_array_equal(model.transform(X), before)


@pytest.mark.parametrize("bound", [{"a": 0.0}, {0.0, 1.0}])
def test_the_imputer_refuses_bounds_given_as_a_dict_or_a_set_with_what_to_pass(bound):
    # Both pass the parameter check as array-like; numpy then read them as one object and
    # failed with "ufunc 'isnan' not supported for the input types".
    X = pd.DataFrame({"a": [0.1, np.nan, 0.5, 0.7] * 10, "b": [1.0, 2.0, np.nan, 4.0] * 10})
    with pytest.raises(ValueError, match=r"min_value takes a number, a list .* or a pandas Series by column name; "
                                         r"got a (dict|set)\. Pass (pd\.Series\(your_dict\)|a list)"):
        VAEImputer(min_value=bound, max_iter=2).fit(X)


def test_a_column_of_decimals_comes_back_as_decimals_at_its_places(tmp_path):
    # Money read from a database arrives as decimal.Decimal objects: the imputer kept them and
    # filled holes with floats, and a sum of the column raised (Decimal + float); decoded and
    # sampled rows were floats.
    from decimal import Decimal

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"price": [Decimal(f"{v:.2f}") for v in rng.normal(10, 2, 80)], "f": rng.normal(size=80)})
    X.loc[::7, "price"] = None
    imputer = VAEImputer(**FAST).fit(X)
    filled = imputer.transform(X)["price"]
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in filled)
    assert filled[X["price"].notna()].tolist() == X["price"].dropna().tolist()
    assert isinstance(filled.sum(), Decimal)
    vae = VAETransformer(**FAST).fit(X)
    for frame in (vae.inverse_transform(vae.transform(X.fillna(Decimal(10)))), vae.sample(20, random_state=0)):
        assert all(v is None or (isinstance(v, Decimal) and v.as_tuple().exponent == -2) for v in frame["price"])
    vae.save(tmp_path / "model.skvae")
    pd.testing.assert_frame_equal(load(tmp_path / "model.skvae").sample(20, random_state=0), vae.sample(20, random_state=0))
    assert isinstance(pickle.loads(pickle.dumps(vae)).sample(3, random_state=0)["price"].dropna().iloc[0], Decimal)


def test_whole_numbers_as_labels_in_more_classes_than_half_the_rows_are_warned_of_as_classifiers_do():
    # Fractional labels are refused as covariates given 1-D; whole numbers (an income in dollars)
    # made one class a row, in silence. scikit-learn's classifiers warn past half the rows.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    income = np.round(rng.lognormal(10, 1, 100))
    for given in (income, pd.Series(income).astype(object)):  # an object Series of numbers skipped the checks
        with pytest.warns(UserWarning, match=r"y holds 100 distinct numbers in 100 rows: .* pass y.reshape\(-1, 1\)"):
            ConditionalVAETransformer(**FAST).fit(X, given)
    with pytest.raises(ValueError, match=r"y holds 100 distinct fractional numbers"):
        ConditionalVAETransformer(**FAST).fit(X, pd.Series(income + 0.5).astype(object))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        ConditionalVAETransformer(**FAST).fit(X, rng.randint(0, 10, 100))  # ten classes
        ConditionalVAETransformer(**FAST).fit(X, pd.Categorical(income))  # declared classes


def test_a_memmap_is_checked_a_block_at_a_time_as_an_array_is_checked_whole(tmp_path):
    # Counts' statistics, their whole-number check and the checks for holes and infinities read
    # a memmap a block of rows at a time now (they made float64 copies and masks of all of X):
    # the same model and the same errors as for the array in memory.
    rng = np.random.RandomState(0)
    counts = rng.poisson(2, (9000, 3)).astype(np.float32)  # more than one block of rows
    np.save(tmp_path / "counts.npy", counts)
    mapped = np.load(tmp_path / "counts.npy", mmap_mode="r")
    params = {"likelihood": "poisson", "hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    np.testing.assert_array_equal(VAETransformer(**params).fit(mapped).transform(counts),
                                  VAETransformer(**params).fit(counts).transform(counts))
    fractional = counts.copy()
    fractional[8500, 2], fractional[8700, 1] = 2.5, 0.25
    holed = rng.normal(size=(9000, 3)).astype(np.float32)
    holed[::7, 0], holed[8999, 1] = np.nan, np.inf
    for name, values, message in (
            ("fractional", fractional, r"X holds 2.5 \(2 values are not whole numbers\)"),
            ("holed", holed, "Input X contains infinity")):
        np.save(tmp_path / f"{name}.npy", values)
        model = VAETransformer(**{**params, "likelihood": "poisson" if name == "fractional" else "gaussian"})
        for X in (values, np.load(tmp_path / f"{name}.npy", mmap_mode="r")):
            with pytest.raises(ValueError, match=message):
                model.fit(X)


def test_sparse_counts_train_without_overflow_from_their_first_epoch():
    # Decoders of mostly-zero count columns started at their mean rate (0.014): a few rows' codes
    # were thrown far out in the first epoch and exp of their decoded log-rates overflowed, NaN
    # (refused) from 5,000 rows of 10,000 columns; the memory benchmark's sparse case could not run.
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = sp.random(5_000, 10_000, density=0.01, format="csr", random_state=rng,
                  data_rvs=lambda n: rng.poisson(2.0, n) + 1.0)
    vae = VAETransformer(latent_dim=8, likelihood="poisson", hidden_layer_sizes=(128,), batch_size=256,
                         max_iter=1, random_state=0).fit(X)
    assert np.isfinite(vae.loss_curve_[0]) and np.all(np.isfinite(vae.transform(X[:100])))


def test_the_training_frame_given_to_inverse_transform_gets_the_codes_advice():
    # The frame in place of its codes failed inside pandas ("could not convert string to float"), or
    # with numpy's DType promotion TypeError for a date column, before the width check could speak.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.randn(60), "b": rng.randn(60), "c": rng.randn(60), "city": rng.choice(["x", "y"], 60),
                          "when": pd.date_range("2020-01-01", periods=60)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(**FAST).fit(frame)
        layered = HierarchicalVAETransformer(transform_layer=0, **FAST).fit(frame)
    message = r"X has 5 features, but {}.inverse_transform expects codes .*columns, as transform returns"
    with pytest.raises(ValueError, match=message.format("VAETransformer")):
        vae.inverse_transform(frame)
    with pytest.raises(ValueError, match=message.format("HierarchicalVAETransformer")):
        layered.inverse_transform(frame)
    assert vae.inverse_transform(vae.transform(frame)).shape == frame.shape


def test_strings_given_to_an_array_fitted_model_are_not_advised_a_dataframe_it_cannot_read():
    # "pass pd.DataFrame(X)" led to pandas' bare "could not convert string to float" at transform: a
    # model fitted on an array reads numbers alone, whatever the container.
    X = np.random.RandomState(0).rand(40, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(**FAST).fit(X)
    row = np.array([["0.1", "?"]], dtype=object)
    with pytest.raises(ValueError, match=r"X\[0, 1\] is '\?'.*replace them with np.nan first; this model was fitted "
                                         r"on an array of numbers: to read strings as categories, fit it on a DataFrame"):
        vae.transform(row)
    with pytest.raises(ValueError, match=r"pass pd.DataFrame\(X\)"):  # at fit, a DataFrame is the way
        VAETransformer(**FAST).fit(np.vstack([X.astype(str).astype(object), row]))


def test_a_likelihood_dict_value_that_is_not_a_name_gets_the_list_of_names():
    # A list as a value raised "unhashable type: 'list'" from the membership test.
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.ones(20)})
    with pytest.raises(ValueError, match=r"unknown likelihoods \{'a': \['gaussian'\]\}; choose from \['bernoulli'"):
        VAETransformer(likelihood={"a": ["gaussian"]}, **FAST).fit(frame)


def test_a_scale_beyond_what_the_variances_take_is_refused_for_its_real_reason():
    # "whose square ... overflows float64" was false at 1.24e150 (its square is 1.5e300).
    X = np.random.RandomState(0).normal(size=(40, 4)) * 1e150
    with pytest.raises(ValueError, match=r"standard deviation of 1.\d+e\+150, above 1e\+150: noise_variance_ holds "
                                         r"variances in X's squared units.*could overflow float64"):
        VAETransformer(**FAST).fit(X)


def test_a_small_first_partial_fit_block_says_what_auto_chose_for_the_whole_stream():
    # A stream's first block of fewer rows than columns made "auto" choose a linear network and one
    # noise variance for every later call, without a word (held-out bound -33.3 against -26.4).
    X = np.random.RandomState(0).rand(32, 64)
    with pytest.warns(UserWarning, match=r"first block has 32 rows, fewer than its 64 columns: from it, "
                                         r"hidden_layer_sizes='auto' chose a linear network \(\).*noise_variance="
                                         r"'auto' chose one variance"):
        stream = VAETransformer(random_state=0).partial_fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        stream.partial_fit(X)  # said once, at the call that chose
        VAETransformer(hidden_layer_sizes=(8,), noise_variance="isotropic", random_state=0).partial_fit(X)
        VAETransformer(random_state=0).partial_fit(np.random.RandomState(1).rand(80, 64))
    assert stream.hidden_layer_sizes_ == ()


def test_a_column_of_mostly_one_row_values_is_warned_of_as_an_identifier():
    # 241 car names in 304 rows drew no warning, and every cross-validation fold then failed on the
    # held-out rows' unknown names; only a column of all-distinct values was warned of.
    rng = np.random.RandomState(0)
    names = [f"car {i}" for i in range(250)] + ["car 0"] * 50
    frame = pd.DataFrame({"name": names, "size": rng.randn(300)})
    with pytest.warns(UserWarning, match=r"Column 'name' holds a value no other row holds in 249 of its 300 rows"):
        VAETransformer(**FAST).fit(frame)
    levels = frame.assign(name=rng.choice(["a", "b", "c"], 300))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAETransformer(**FAST).fit(levels)


def test_the_convergence_warning_names_early_stopping_where_it_was_off():
    # "Increase max_iter, or raise tol." left out the remedy the README gives for small tables.
    X = np.random.RandomState(0).normal(size=(60, 3))
    with pytest.warns(ConvergenceWarning, match=r"Increase max_iter, raise tol, or stop on held-out rows "
                                                r"\(early_stopping=True\)\.$"):
        VAETransformer(hidden_layer_sizes=(8,), max_iter=20, tol=0.0, n_iter_no_change=5, kl_warmup=0,
                       random_state=0).fit(X)


def test_scoring_new_holes_under_masking_is_silent_and_the_advice_names_masking():
    # The fit's check counts corruption="masking" as having taught the encoder to read a hole in any
    # column (the imputer's too); score_samples warned regardless, with advice a cross-validation
    # fold cannot follow (fit on rows with holes) and no word of masking.
    X = np.random.RandomState(0).normal(size=(100, 4))
    holed = X[:5].copy()
    holed[0, 1] = np.nan
    with pytest.warns(UserWarning, match=r'or with corruption="masking", which hides entries while training \(in a '
                                         r"cross-validation, where a fold's training rows may hold none\)"):
        VAETransformer(**FAST).fit(X).score_samples(holed)
    masked = VAETransformer(corruption="masking", **FAST).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert np.isfinite(masked.score_samples(holed)).all()
    # Masking at level 0 hides nothing: it trains as corruption=None does, and still warns.
    unmasked = VAETransformer(corruption="masking", corruption_level=0, **FAST).fit(X)
    with pytest.warns(UserWarning, match="in columns that had none at fit"):
        unmasked.score_samples(holed)
    with pytest.warns(UserWarning, match="in columns that had none at fit"):
        unmasked.partial_fit(holed)


def test_a_fold_whose_auto_likelihood_cannot_score_another_fold_says_how_to_pin_it():
    # A 0/1 count with one 2: "auto" chose Bernoulli from the training folds without the 2, and the
    # fold holding it scored NaN in GridSearchCV; the advice (MinMaxScaler(clip=True)) fitted scaled
    # values, not counts, and said nothing of folds choosing for themselves.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "kids": (rng.rand(200) < 0.2).astype(int)})
    model = VAETransformer(**FAST).fit(X)
    assert model.column_likelihoods_["kids"] == "bernoulli"
    new = X.head(3).assign(kids=[0, 1, 2])
    with pytest.raises(ValueError, match=r'Whole numbers past 1 are counts, which "poisson" models\. Where '
                                         r'likelihood="auto" chose it, it chose from the training rows alone: in a '
                                         r"cross-validation each fold chooses its own, so name the column's "
                                         r"likelihood to score every fold alike\."):
        model.score(new)
    pinned = VAETransformer(likelihood={"kids": "poisson"}, **FAST).fit(X)
    assert np.isfinite(pinned.score(new))


def test_an_object_column_of_flags_knows_both_levels_whatever_rows_it_was_fitted_on():
    # True/False with holes is an object column, a category whose levels came from the fit's rows: a
    # cross-validation fold of True alone refused another fold's False as a category unseen at fit.
    rng = np.random.RandomState(0)
    member = pd.Series(rng.rand(120) < 0.5, dtype=object)
    member[::10] = np.nan
    X = pd.DataFrame({"a": rng.normal(size=120), "member": member})
    only_true = X[X.member.isna() | X.member.eq(True)]
    model = VAETransformer(**FAST).fit(only_true)
    assert list(model.column_categories_["member"]) == [False, True]
    assert np.isfinite(model.score_samples(X)).all() and np.isfinite(model.transform(X)).all()
    assert set(model.sample(50, random_state=0).member.dropna()) <= {False, True}
    # NumPy's bools too ([v > 0 for v in values] makes them), which are no Python bools.
    numpy_flags = only_true.assign(member=[np.True_ if v is True else None for v in only_true.member])
    model = VAETransformer(**FAST).fit(numpy_flags)
    assert list(model.column_categories_["member"]) == [False, True]
    assert np.isfinite(model.score_samples(X.assign(member=X.member.map({True: np.True_, False: np.False_})))).all()


def test_set_params_gives_the_hint_fit_gives_for_a_misplaced_name():
    # GridSearchCV and Pipeline set parameters through set_params, whose error listed the valid
    # names alone, where fit named the member taking the parameter or the near spelling.
    from sklearn.model_selection import GridSearchCV

    from skvae import AutoencoderTransformer, HierarchicalVAETransformer

    with pytest.raises(ValueError, match=r"Invalid parameter 'beta' for estimator AutoencoderTransformer\. 'beta' "
                                         r"is a parameter of ConditionalVAETransformer, .*Valid parameters are"):
        AutoencoderTransformer().set_params(beta=2)
    with pytest.raises(ValueError, match=r"Did you mean 'latent_dims'\?"):
        GridSearchCV(HierarchicalVAETransformer(**FAST), {"latent_dim": [2, 3]}, cv=2).fit(np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"Did you mean 'encoder'\? Arguments for a custom encoder or decoder start "
                                         r"with 'encoder__' or 'decoder__'\. Valid parameters"):
        VAETransformer().set_params(encoder_width=3)  # fit's advice, as docs/custom_modules.md lists it
    with pytest.raises(ValueError, match=r"Invalid parameter 'zzz' for estimator VAETransformer\(\)"):
        VAETransformer().set_params(zzz=1)  # nothing to hint: scikit-learn's own error
    model = VAETransformer().set_params(encoder__width=3, latent_dim=3)  # routed names still pass
    assert model.get_params()["encoder__width"] == 3 and model.latent_dim == 3


def test_sample_names_random_state_when_it_cannot_seed():
    # The constructors' constraints named the parameter; sample's own random_state met numpy's
    # "Seed must be between 0 and 2**32 - 1" or "cannot be used to seed a RandomState instance".
    model = VAETransformer(**FAST).fit(np.random.RandomState(0).rand(40, 3))
    for bad in (-1, 2**32, 1.5, "a"):
        with pytest.raises(ValueError, match=r"random_state must be an int in \[0, 2\*\*32 - 1\], a numpy RandomState "
                                             r"or None; got"):
            model.sample(2, random_state=bad)
    with pytest.raises(ValueError, match=r"pass an int drawn from it, e.g. int\(rng.integers\(2\*\*32\)\)"):
        model.sample(2, random_state=np.random.default_rng(0))
    np.testing.assert_array_equal(model.sample(2, random_state=np.random.RandomState(3)),
                                  model.sample(2, random_state=3))


def test_the_imputers_missing_inverse_transform_says_why():
    imputer = VAEImputer(**FAST).fit(np.random.RandomState(0).rand(40, 3))
    assert not hasattr(imputer, "inverse_transform")  # scikit-learn's available_if, as before
    with pytest.raises(AttributeError, match="has no attribute 'inverse_transform'") as raised:
        imputer.inverse_transform(np.zeros((1, 3)))
    assert "not codes: there is nothing to invert" in str(raised.value.__cause__)


def test_fits_and_exports_work_whatever_the_callers_autograd_mode():
    # A fit inside torch.no_grad() or torch.inference_mode() (or after set_grad_enabled(False))
    # failed in backward with torch's "does not require grad" (at batch_size=1 rewritten as a
    # BatchNorm problem); to_torch inside inference_mode gave a module no backward could train.
    X = np.random.RandomState(0).rand(60, 4)
    reference = VAETransformer(**FAST).fit(X)
    for mode in (torch.no_grad, torch.inference_mode):
        with mode():
            model = VAETransformer(**FAST).fit(X)
            fitted_codes = model.transform(X)
            model.partial_fit(X[:20])
            graph = reference.to_torch()
        assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
        # The fit made inside the mode is the fit made outside it.
        np.testing.assert_array_equal(fitted_codes, reference.transform(X))
        assert model.n_iter_ == FAST["max_iter"] + 1
        graph.train()
        graph(torch.as_tensor(X[:4], dtype=torch.float32)).sum().backward()  # trains further
    with torch.no_grad():
        np.testing.assert_array_equal(VAETransformer(**FAST).fit(X).transform(X), reference.transform(X))


def test_a_users_module_built_under_a_float64_default_is_named_as_the_cause():
    from test_custom_modules import ResidualEncoder

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with pytest.raises(ValueError, match=r"torch's default dtype is torch.float64 \(torch.set_default_dtype\), so "
                                             r"layers built without a dtype hold it"):
            VAETransformer(encoder=ResidualEncoder, **FAST).fit(np.random.RandomState(0).rand(40, 4))
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("Estimator", [VAETransformer, VAEImputer])
def test_an_array_of_dates_or_durations_is_refused_with_the_frame_that_reads_them(Estimator):
    # Read as numbers in their unit: the same dates in days gave codes 9x those in seconds, and NaT -9.2e18.
    dates = np.datetime64("2020-01-01", "s") + np.arange(400).reshape(100, 4) * 86400
    for X in (dates, dates - dates[0, 0]):
        with pytest.raises(ValueError, match=r"X is an array of (datetime|timedelta)64\[s\] values.*pd.DataFrame\(X\)"):
            Estimator(**FAST).fit(X)
    fitted = Estimator(**FAST).fit(dates.astype(np.float64))
    with pytest.raises(ValueError, match=r"X is an array of datetime64\[D\] values"):
        fitted.transform(dates.astype("datetime64[D]"))
    Estimator(**FAST).fit(pd.DataFrame(dates))  # as dates


def test_an_infinite_class_label_is_refused():
    # classes_ became [0., 1., inf], where scikit-learn refuses infinite targets.
    X = np.random.RandomState(0).normal(size=(60, 3))
    y = np.r_[np.inf, np.tile([0.0, 1.0], 30)[1:]]
    with pytest.raises(ValueError, match=r"y holds an infinite label \(position 0\)"):
        ConditionalVAETransformer(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"y holds an infinite label \(position 0\)"):
        ConditionalVAETransformer(**FAST).fit(X, pd.Series(y, dtype=object))
    with pytest.raises(ValueError, match=r"classes holds an infinite label \(position 2\)"):
        ConditionalVAETransformer(**FAST).partial_fit(X, np.tile([0.0, 1.0], 30), classes=[0.0, 1.0, np.inf])


def test_an_unseen_integer_level_is_shown_as_the_known_ones_are():
    # It read "['5'] ... Known: [np.int64(0), np.int64(1), np.int64(2)]", a string among integers.
    frame = pd.DataFrame({"a": np.tile([0, 1, 2], 20), "b": np.random.RandomState(0).rand(60)})
    vae = VAETransformer(**{**FAST, "likelihood": {"a": "categorical"}}).fit(frame)
    with pytest.raises(ValueError, match=r"not seen at fit: \[5\] \(first in row 0\)\. Known: \[0, 1, 2\]\."):
        vae.transform(frame.assign(a=5))
    # Dates of nanoseconds are not their integers (item() of a datetime64[ns] is one).
    levels = pd.DatetimeIndex([pd.Timestamp("2020-01-01") + pd.Timedelta(k, "ns") for k in (1, 2, 3)])
    dated = frame.assign(a=pd.Categorical(np.tile(levels, 20)))
    vae = VAETransformer(**FAST).fit(dated)
    with pytest.raises(ValueError, match=r"Known: \[Timestamp\('2020-01-01 00:00:00\.000000001'\), "):
        vae.transform(dated.assign(a=pd.Categorical([pd.Timestamp("2021-05-05")] * 60)))


def test_rows_of_negative_strides_pass_the_gpus_padding_path(monkeypatch):
    # On a GPU each chunk is padded to one shape through torch.from_numpy, which refuses X[::-1]
    # ("At least one stride in the given numpy array is negative"): transform, scores and the
    # imputer failed there. Simulated on the CPU by taking that path.
    import skvae._data

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    vae = VAETransformer(**FAST).fit(X)
    expected = vae.transform(X[::-1].copy()), vae.score_samples(X[:, ::-1].copy())
    monkeypatch.setattr(skvae._data, "_pads_to_one_shape", lambda device: True)
    # Bitwise: a row's output does not depend on how its chunk is padded.
    np.testing.assert_array_equal(vae.transform(X[::-1]), expected[0])
    np.testing.assert_array_equal(vae.score_samples(X[:, ::-1]), expected[1])
    codes = vae.transform(X)
    np.testing.assert_array_equal(vae.inverse_transform(codes[::-1]), vae.inverse_transform(codes[::-1].copy()))


def test_a_callers_default_torch_device_elsewhere_changes_nothing(tmp_path):
    # torch.set_default_device (a notebook's "cuda"; "meta" here, which holds no data) made skvae's own
    # tensors there: fit, score_samples and load failed in torch's words ("Cannot copy out of meta tensor").
    X = np.random.RandomState(0).rand(200, 5)
    model = VAETransformer(**FAST).fit(X)
    model.save(tmp_path / "model.skvae")
    expected = model.score_samples(X), model.sample(3, random_state=0), model.transform(X)
    torch.set_default_device("meta")
    try:
        refitted = VAETransformer(**FAST).fit(X)
        loaded = load(tmp_path / "model.skvae")
        for fitted in (model, refitted, loaded):
            np.testing.assert_array_equal(fitted.score_samples(X), expected[0])
            np.testing.assert_array_equal(fitted.sample(3, random_state=0), expected[1])
            np.testing.assert_array_equal(fitted.transform(X), expected[2])
    finally:
        torch.set_default_device(None)  # no device context left behind for the tests after
