"""save / load, pickle, joblib, skops and MLflow: every way a model is stored comes back whole."""

import importlib.util
import io
import json
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import MODELS, SMALL
from sklearn.exceptions import ConvergenceWarning
from test_custom_modules import CUSTOM, Decoder, ResidualEncoder

import skvae
from skvae import (
    AutoencoderTransformer,
    ConditionalVAETransformer,
    VAEImputer,
    VAEOutlierDetector,
    VAETransformer,
    VQVAETransformer,
    load,
)

DATA = Path(__file__).resolve().parent / "data"


def _same_model(a, b, X, y=None):
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    np.testing.assert_array_equal(a.sample(3, random_state=0), b.sample(3, random_state=0))
    assert a.get_params() == b.get_params() or repr(a.get_params()) == repr(b.get_params())
    assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == b.n_iter_


@MODELS
def test_save_and_load_give_the_same_model_that_trains_on_the_same(Estimator, tabular, tmp_path):
    model = Estimator(**SMALL).fit(tabular)
    model.save(tmp_path / "model.skvae")
    loaded = load(tmp_path / "model.skvae")
    _same_model(model, loaded, tabular)
    # The optimizer state and the random state come back too: continued
    # training is bitwise the same.
    model.partial_fit(tabular)
    loaded.partial_fit(tabular)
    _same_model(model, loaded, tabular)


@pytest.mark.parametrize("Estimator", [skvae.AutoencoderTransformer, skvae.VQVAETransformer], ids=["AE", "VQ"])
def test_a_stream_saved_or_pickled_between_blocks_goes_on_as_if_it_never_stopped(Estimator, tabular, tmp_path):
    # The statistics pool every block's rows: what they hold so far, and their count, travel too.
    first, second = tabular[:150], tabular[150:]
    model = Estimator(**SMALL, **({"n_codes": 16} if Estimator is skvae.VQVAETransformer else {}))
    model.partial_fit(first)
    model.save(tmp_path / "model.skvae")
    restored = [load(tmp_path / "model.skvae"), pickle.loads(pickle.dumps(model))]
    model.partial_fit(second)
    assert model.n_samples_seen_ == len(tabular)
    for other in restored:
        other.partial_fit(second)
        _same_model(model, other, tabular)
        assert other.n_samples_seen_ == model.n_samples_seen_
        for name in ("latent_mean_", "latent_covariance_", "code_counts_", "code_prior_", "perplexity_"):
            if hasattr(model, name):
                np.testing.assert_array_equal(getattr(other, name), getattr(model, name), err_msg=name)


def test_every_estimator_and_option_round_trips(tabular, tmp_path):
    labels = np.array(["low", "high"])[(tabular[:, 1] > 5).astype(int)]
    cases = [
        (ConditionalVAETransformer(**SMALL), labels),
        (ConditionalVAETransformer(**SMALL), tabular[:, :2]),
        (VAETransformer(**{**SMALL, "random_state": np.random.RandomState(4)}, early_stopping=True,
                        noise_variance="isotropic"), None),
        (skvae.AutoencoderTransformer(**SMALL, sparsity=0.3, corruption="masking"), None),
    ]
    for model, y in cases:
        model.fit(tabular, y)
        path = tmp_path / "model.skvae"
        model.save(path)
        loaded = load(path)
        np.testing.assert_array_equal(loaded.transform(tabular), model.transform(tabular))
        if y is not None:
            np.testing.assert_array_equal(loaded.score_samples(tabular, y), model.score_samples(tabular, y))
            if y.ndim == 1:
                assert list(loaded.classes_) == ["high", "low"]
            continue
        # What these options leave in the fitted model comes back, and training continues alike.
        for name in ("validation_scores_", "best_validation_score_", "best_loss_", "noise_variance_"):
            np.testing.assert_array_equal(np.asarray(getattr(loaded, name, None), dtype=float),
                                          np.asarray(getattr(model, name, None), dtype=float), err_msg=name)
        model.partial_fit(tabular)
        loaded.partial_fit(tabular)
        # _same_model but for get_params: a RandomState parameter is another object after a load.
        np.testing.assert_array_equal(loaded.transform(tabular), model.transform(tabular))
        np.testing.assert_array_equal(loaded.score_samples(tabular), model.score_samples(tabular))
        np.testing.assert_array_equal(loaded.sample(3, random_state=0), model.sample(3, random_state=0))
        assert loaded.loss_curve_ == model.loss_curve_ and loaded.n_iter_ == model.n_iter_


def test_custom_modules_load_only_when_trusted(tabular, tmp_path):
    model = VAETransformer(**SMALL, **CUSTOM).fit(tabular)
    model.save(tmp_path / "custom.skvae")
    with pytest.raises(ValueError, match=r"refers to test_custom_modules:Decoder, test_custom_modules:ResidualEncoder: code outside skvae.*trusted="):
        load(tmp_path / "custom.skvae")
    loaded = load(tmp_path / "custom.skvae", trusted=[ResidualEncoder, "test_custom_modules:Decoder"])
    assert loaded.decoder is Decoder and loaded.encoder__width == 24
    np.testing.assert_array_equal(loaded.transform(tabular), model.transform(tabular))


def small_decoder(in_features, out_features):
    """A function that builds a decoder, as docs/custom_modules.md writes one."""
    return Decoder(in_features, out_features, width=8)


def test_one_trusted_function_is_one_entry_and_other_objects_a_clear_error(tabular, tmp_path):
    model = VAETransformer(**SMALL, decoder=small_decoder).fit(tabular)
    model.save(tmp_path / "function.skvae")
    loaded = load(tmp_path / "function.skvae", trusted=small_decoder)  # TypeError: 'function' object is not iterable
    np.testing.assert_array_equal(loaded.transform(tabular), model.transform(tabular))
    for wrong in (3, [3]):
        with pytest.raises(TypeError, match=r"trusted must be a class, a function, a 'module:QualifiedName' string"):
            load(tmp_path / "function.skvae", trusted=wrong)


def test_the_file_runs_no_code_and_says_what_it_holds(tabular, tmp_path):
    VAETransformer(**SMALL).fit(tabular).save(tmp_path / "model.skvae")
    with zipfile.ZipFile(tmp_path / "model.skvae") as archive:
        assert sorted(archive.namelist()) == ["arrays.safetensors", "skvae.json"]
        metadata = json.loads(archive.read("skvae.json"))
    assert metadata["format_version"] == 3 and metadata["estimator"] == "skvae.VAETransformer"
    assert {"skvae", "torch", "scikit-learn", "numpy"} <= set(metadata["versions"])


def _rewrite(source, target, change):
    with zipfile.ZipFile(source) as archive:
        metadata, arrays = json.loads(archive.read("skvae.json")), archive.read("arrays.safetensors")
    change(metadata)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("skvae.json", json.dumps(metadata))
        archive.writestr("arrays.safetensors", arrays)


def test_newer_formats_and_foreign_classes_are_refused(tabular, tmp_path):
    VAETransformer(**SMALL).fit(tabular).save(tmp_path / "model.skvae")
    _rewrite(tmp_path / "model.skvae", tmp_path / "newer.skvae", lambda m: m.update(format_version=4))
    with pytest.raises(ValueError, match=r"format version 4.*reads versions up to 3. Upgrade skvae"):
        load(tmp_path / "newer.skvae")
    _rewrite(tmp_path / "model.skvae", tmp_path / "foreign.skvae", lambda m: m.update(estimator="os.system"))
    with pytest.raises(ValueError, match="not a skvae estimator"):
        load(tmp_path / "foreign.skvae")
    # A later release's new parameter, in the same format: the error read "damaged" alone.

    def later_release(metadata):
        metadata["versions"]["skvae"] = "99.0"
        metadata["params"]["__dict__"].append(["a_later_parameter", 1])

    _rewrite(tmp_path / "model.skvae", tmp_path / "later.skvae", later_release)
    with pytest.raises(ValueError, match=r"saved by skvae 99.0; this is skvae .*no parameter a_later_parameter"):
        load(tmp_path / "later.skvae")


def _entry(pairs, key):
    """The value of ``key`` in a saved ``{"__dict__": [[key, value], ...]}`` mapping's pairs."""
    return next(pair for pair in pairs if pair[0] == key)


@pytest.mark.parametrize("entry, value", [
    ("low", None), ("high", "x"), ("missing_rate", 1.5), ("missing_rate", []), ("step", "x"),
    ("sample_places", -1), ("decimal_places", 2.5), ("_score_seed", -1), ("_score_seed", "x"),
    ("_fitted_architecture", "x"),
])
def test_a_file_with_an_entry_no_fit_writes_is_refused_at_load(tmp_path, entry, value):
    # Each loaded, and failed at a later call with numpy's or Python's bare error (step's at load).
    frame = pd.DataFrame({"a": np.random.RandomState(0).normal(size=60), "c": pd.Categorical(list("xyz") * 20)})
    VAETransformer(**SMALL).fit(frame).save(tmp_path / "model.skvae")

    def change(metadata):
        state = metadata["state"]["__dict__"]
        if entry.startswith("_"):
            _entry(state, entry)[1] = value
        else:
            _entry(_entry(_entry(state, "_schema")[1]["__dict__"], "columns")[1][0]["__dict__"], entry)[1] = value

    _rewrite(tmp_path / "model.skvae", tmp_path / "edited.skvae", change)
    with pytest.raises(ValueError, match=r"edited.skvae is incomplete or damaged: its state does not fit"):
        load(tmp_path / "edited.skvae")
    if entry.startswith("_"):  # a pickle's, named so too (it was a bare TypeError's fragment)
        state = load(tmp_path / "model.skvae").__getstate__()
        state[entry] = value
        with pytest.raises(ValueError, match=r"The pickled VAETransformer is damaged or was edited: its "):
            VAETransformer().__setstate__(state)


def test_numeric_copies_compare_by_shape_too():
    from skvae._state_checks import same

    assert same(np.arange(6.0), np.arange(6.0)) and not same(np.zeros(6), np.zeros((2, 3)))
    assert same({"a": np.array([np.nan, 1.0])}, {"a": np.array([np.nan, 1.0])})


@pytest.mark.parametrize("Estimator, entry", [
    (VQVAETransformer, "codebook_"), (VQVAETransformer, "code_prior_"), (AutoencoderTransformer, "latent_mean_"),
    (AutoencoderTransformer, "latent_covariance_"), (ConditionalVAETransformer, "classes_"),
    (ConditionalVAETransformer, "class_prior_"), (ConditionalVAETransformer, "class_count_"),
])
def test_a_file_or_pickle_whose_attributes_disagree_with_its_network_or_conditions_is_refused(tmp_path, Estimator, entry):
    # codebook_[predict(X)] differed from the quantized codes transform gives, and an edited latent_mean_
    # was reported while sample drew from the network's own; classes_ reordered changed no output.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 3)), np.array(["u", "v"] * 30)
    params = {**SMALL, "n_codes": 8} if Estimator is VQVAETransformer else SMALL
    model = Estimator(**params).fit(X, y) if Estimator is ConditionalVAETransformer else Estimator(**params).fit(X)
    model.save(tmp_path / "model.skvae")

    def change(metadata):
        pair = _entry(metadata["state"]["__dict__"], entry)
        if entry == "classes_":
            pair[1]["__values__"] = pair[1]["__values__"][::-1]
        elif entry == "class_count_":  # the prior's check needs it: without it, an edited prior went through
            pair[1] = None
        else:  # an array's entries are in the safetensors part: the entry is replaced by a list of its values
            pair[1] = (np.asarray(getattr(model, entry)) + 0.5).tolist()

    _rewrite(tmp_path / "model.skvae", tmp_path / "edited.skvae", change)
    with pytest.raises(ValueError, match=rf"edited.skvae is incomplete or damaged: its state does not fit.*{entry}"):
        load(tmp_path / "edited.skvae")
    state = model.__getstate__()
    state[entry] = state[entry][::-1] if entry == "classes_" else None if entry == "class_count_" else \
        np.asarray(state[entry]) + 0.5
    with pytest.raises(ValueError, match=rf"The pickled {Estimator.__name__} is damaged or was edited: .*{entry}"):
        Estimator().__setstate__(state)
    load(tmp_path / "model.skvae")  # the file as saved


@pytest.mark.parametrize("entry, value", [
    ("_trained_classes", [1.0, 0.0]), ("_trained_classes", [True]), ("_class_hole_rates", [[0.5, 0.5]]),
    ("_class_hole_rates", [[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), ("_class_hole_rates", "x"),
])
def test_a_conditional_file_or_pickle_with_per_class_facts_of_another_kind_is_refused(tmp_path, entry, value):
    # Read by a class's index at the next call: each loaded, and that call failed with numpy's bare error
    # (or, rates beyond [0, 1], drew holes at them).
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 3)), np.array(["u", "v"] * 30)
    X[::7, 1] = np.nan
    model = ConditionalVAETransformer(**SMALL).fit(X, y)
    model.save(tmp_path / "model.skvae")
    _rewrite(tmp_path / "model.skvae", tmp_path / "edited.skvae",
             lambda metadata: _entry(metadata["state"]["__dict__"], entry).__setitem__(1, value))
    with pytest.raises(ValueError, match=rf"edited.skvae is incomplete or damaged: its state does not fit.*{entry}"):
        load(tmp_path / "edited.skvae")
    state = model.__getstate__()
    state[entry] = np.asarray(value) if entry != "_class_hole_rates" or value != "x" else value
    with pytest.raises(ValueError, match=rf"The pickled ConditionalVAETransformer is damaged or was edited: {entry}"):
        ConditionalVAETransformer().__setstate__(state)
    loaded = load(tmp_path / "model.skvae")  # the file as saved
    np.testing.assert_array_equal(loaded.transform(X, y), model.transform(X, y))


@pytest.mark.parametrize("offset", [float("nan"), float("inf"), True, "x", None])
def test_a_detector_file_with_a_threshold_no_fit_sets_or_none_is_refused(tmp_path, offset):
    # A NaN offset_ loaded, and predict called every row an inlier; without one, predict's bare AttributeError.
    X = np.random.RandomState(0).normal(size=(60, 3))
    VAEOutlierDetector(VAETransformer(**SMALL), contamination=0.1, random_state=0).fit(X).save(tmp_path / "det.skvae")

    def change(metadata):
        state = metadata["state"]["__dict__"]
        if offset is None:
            state.remove(_entry(state, "offset_"))
        else:
            _entry(state, "offset_")[1] = offset

    _rewrite(tmp_path / "det.skvae", tmp_path / "edited.skvae", change)
    with pytest.raises(ValueError, match=r"edited.skvae is incomplete or damaged: its state (does not fit|lacks)"):
        load(tmp_path / "edited.skvae")
    detector = load(tmp_path / "det.skvae")  # the file as saved
    if offset is not None:  # a pickle is held to the same rule
        state = {**detector.__getstate__(), "offset_": offset}
        with pytest.raises(ValueError, match=r"The pickled VAEOutlierDetector is damaged or was edited: offset_ "):
            pickle.loads(pickle.dumps(detector)).__setstate__(state)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(detector)).score_samples(X), detector.score_samples(X))


@pytest.mark.parametrize("edit", ["schema categories", "dtype categories", "column_categories_",
                                  "column_likelihoods_", "censored_bounds_"])
def test_a_file_whose_copies_of_its_columns_disagree_is_refused(tmp_path, edit):
    frame = pd.DataFrame({"a": np.random.RandomState(0).normal(size=60), "c": pd.Categorical(list("xyz") * 20)})
    VAETransformer(**SMALL).fit(frame).save(tmp_path / "model.skvae")
    reordered = {"__values__": ["z", "y", "x"], "dtype": "|O"}

    def change(metadata):
        state = metadata["state"]["__dict__"]
        column = _entry(_entry(state, "_schema")[1]["__dict__"], "columns")[1][1]["__dict__"]  # "c"
        if edit == "schema categories":  # transform read x as index 2, and nothing said so
            _entry(column, "categories")[1] = reordered
        elif edit == "dtype categories":  # inverse_transform gave z for x
            _entry(_entry(column, "dtype")[1]["__dict__"], "categories")[1] = reordered
        elif edit == "column_categories_":  # what exported graphs are documented to read
            _entry(state, edit)[1] = {"__dict__": [["c", reordered]]}
        elif edit == "column_likelihoods_":
            _entry(state, edit)[1] = {"__dict__": [["a", "poisson"], ["c", "categorical"]]}
        else:
            _entry(state, edit)[1] = {"__dict__": [["a", {"__tuple__": [0.0, None]}]]}

    _rewrite(tmp_path / "model.skvae", tmp_path / "edited.skvae", change)
    with pytest.raises(ValueError, match=r"edited.skvae is incomplete or damaged: its state does not fit"):
        load(tmp_path / "edited.skvae")
    load(tmp_path / "model.skvae")  # the file as saved


def test_a_nan_column_label_still_round_trips_and_an_edited_pickle_is_refused(tmp_path):
    x = np.random.RandomState(0).normal(size=60)
    frame = pd.DataFrame({np.nan: x, 2.5: pd.Categorical(["a", "b"] * 30)})
    model = VAETransformer(**SMALL).fit(frame)
    # Pickle makes a new NaN for each copy of the label, and NaN equals no other NaN.
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).transform(frame), model.transform(frame))
    model.save(tmp_path / "model.skvae")
    np.testing.assert_array_equal(load(tmp_path / "model.skvae").transform(frame), model.transform(frame))
    state = model.__getstate__()
    state["column_likelihoods_"] = {np.nan: "poisson", 2.5: "categorical"}
    with pytest.raises(ValueError, match=r"The pickled VAETransformer is damaged or was edited: column_likelihoods_"):
        VAETransformer().__setstate__(state)


@pytest.mark.parametrize("edit, message", [
    (lambda state: state.update(n_features_in_=3), r"2 columns and 0 unread ones for n_features_in_=3"),
    (lambda state: state.update(feature_names_in_=np.array(["a", "c"], dtype=object)),
     r"columns \['a', 'b'\] for feature_names_in_ \['a', 'c'\]"),
])
def test_a_pickle_whose_columns_disagree_with_its_feature_attributes_is_refused(edit, message):
    frame = pd.DataFrame({"a": np.arange(40.0), "b": pd.Categorical(["x", "y"] * 20)})
    state = VAETransformer(**SMALL).fit(frame).__getstate__()
    edit(state)
    with pytest.raises(ValueError, match=r"The pickled VAETransformer is damaged or was edited: " + message):
        VAETransformer().__setstate__(state)


@pytest.mark.parametrize("name, entry", [
    ("_rng", {"__RandomState__": ["MT19937", 5, 3, 0, 0.0]}),  # TypeError: 'int' object is not subscriptable
    ("feature_names_in_", {"__values__": ["a"], "dtype": "V3"}),  # TypeError: a bytes-like object is required
    ("hidden_layer_sizes_", {"__tuple__": 5}),  # TypeError: 'int' object is not iterable
    ("column_likelihoods_", {"__dict__": [["a"]]}),  # ValueError: not enough values to unpack
    ("n_iter_", {"__values__": ["x"], "dtype": "<M8[ns]"}),  # ValueError: invalid literal for int()
    ("n_iter_", {"__array__": ["a list"]}),  # TypeError: unhashable type
])
def test_an_entry_save_could_not_have_written_is_named_damaged(tmp_path, name, entry):
    frame = pd.DataFrame({"a": np.random.RandomState(0).normal(size=60), "b": np.arange(60.0)})
    VAETransformer(**SMALL).fit(frame).save(tmp_path / "model.skvae")
    _rewrite(tmp_path / "model.skvae", tmp_path / "edited.skvae",
             lambda metadata: _entry(metadata["state"]["__dict__"], name).__setitem__(1, entry))
    # Each was the bare Python error, naming neither the file nor what was wrong with it.
    with pytest.raises(ValueError, match=r"edited.skvae is incomplete or damaged: an entry __\w+__ cannot be read"):
        load(tmp_path / "edited.skvae")


def _saved_models_module():
    spec = importlib.util.spec_from_file_location("make_saved_models", DATA / "make_saved_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["vae_format1", "cvae_format1", "mixed_format2", "dtypes_format3"])
def test_files_saved_by_an_earlier_version_still_load(name):
    model = load(DATA / f"{name}.skvae")
    expected = np.load(DATA / f"{name}_expected.npz")
    makers = _saved_models_module()
    X = makers.mixed() if name.startswith("mixed") else makers.dtypes() if name.startswith("dtypes") else expected["X"]
    if name.startswith("dtypes"):  # every dtype comes back as it was saved
        saved = pd.read_pickle(DATA / f"{name}_sample.pkl")
        sample = model.sample(4, random_state=0, from_likelihood=False)  # the saved rows are decoder means
        assert dict(sample.dtypes) == dict(saved.dtypes) == dict(X.dtypes)
        for column in ("text", "count", "small"):
            pd.testing.assert_series_equal(sample[column], saved[column])
        # Dates within a microsecond: float64 holds nanoseconds since 1970 to 256 ns.
        assert (sample["when"] - saved["when"]).abs().max() <= pd.Timedelta(1, "us")
    # Float32 networks: other CPUs may round the last bits differently.
    np.testing.assert_allclose(model.transform(X), expected["transform"], rtol=1e-5, atol=1e-6)
    expected_scores = expected["score_samples"]
    if name.startswith("mixed"):
        # Format 2's skvae took the density of a row with holes in X's units with every Gaussian
        # column's log-scale; the density is of the observed entries, so only theirs count now.
        _, scale = model.network_.columns.standardisation()
        expected_scores = expected_scores + (X[["a", "b", "c"]].isna().to_numpy() * np.log(scale)).sum(1)
    np.testing.assert_allclose(model.score_samples(X), expected_scores, rtol=1e-4, atol=1e-3)
    sample = model.sample(4, random_state=0, from_likelihood=False)  # the saved rows are decoder means
    if name.startswith("cvae"):
        # Its labels were drawn then from the codes' own stream (now from one seeded by it, so that
        # the first rows do not depend on n_samples): the saved rows decode that stream's draws,
        # and sample decodes today's.
        from skvae._random import draw_seed

        def decoded(labels, rng):
            codes = rng.standard_normal((4, model.latent_dim))
            return np.clip(model.inverse_transform(codes, labels), expected["X"].min(0), expected["X"].max(0))

        rng = np.random.RandomState(0)
        labels = np.random.RandomState(draw_seed(rng)).choice(len(model.classes_), size=4, p=model.class_prior_)
        np.testing.assert_array_equal(sample, decoded(model.classes_[labels], rng))
        rng = np.random.RandomState(0)
        sample = decoded(model.classes_[rng.choice(len(model.classes_), size=4, p=model.class_prior_)], rng)
    if name.startswith("mixed"):
        assert list(sample.columns) == list(X.columns) and sample["kind"].dtype == X["kind"].dtype
        sample = sample[["a", "b", "c", "count"]].to_numpy(dtype=float)
    if name.startswith("dtypes"):
        sample = sample[["f32", "nullable"]].to_numpy(dtype=float)
    np.testing.assert_allclose(sample, expected["sample"], rtol=1e-5, atol=1e-6)


@MODELS
def test_pickles_hold_no_torch_objects(Estimator, tabular):
    model = Estimator(**SMALL).fit(tabular)
    data = pickle.dumps(model)
    assert b"torch" not in data
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    for restored in (pickle.loads(data), joblib.load(buffer)):
        np.testing.assert_array_equal(restored.transform(tabular), model.transform(tabular))
        assert isinstance(restored.network_, torch.nn.Module)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
def test_a_model_set_for_a_gpu_loads_and_runs_on_the_cpu(tabular, tmp_path):
    model = VAETransformer(**SMALL).fit(tabular)
    expected = model.transform(tabular)
    model.set_params(device="cuda")
    model.save(tmp_path / "gpu.skvae")
    loaded = load(tmp_path / "gpu.skvae")
    np.testing.assert_array_equal(loaded.transform(tabular), expected)
    assert next(loaded.network_.parameters()).device.type == "cpu"


def test_skops_round_trip(tabular, tmp_path):
    sio = pytest.importorskip("skops.io")
    model = ConditionalVAETransformer(**SMALL).fit(tabular, (tabular[:, 0] > 0).astype(int))
    sio.dump(model, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert untrusted == ["skvae._conditional.ConditionalVAETransformer"]
    loaded = sio.load(tmp_path / "model.skops", trusted=untrusted)
    np.testing.assert_array_equal(loaded.transform(tabular), model.transform(tabular))


def test_mlflow_log_model_with_its_default_format(tabular, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("skops.io")
    model = VAETransformer(**SMALL).fit(tabular)
    # A local file store, for the test; MLflow prefers a database for real use.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(f"file:{tmp_path / 'runs'}")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="vae", skops_trusted_types=["skvae._vae.VAETransformer"])
    loaded = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.transform(tabular), model.transform(tabular))


def test_arrow_backed_columns_read_back_in_their_dtypes(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import decimal
    import pickle

    rng = np.random.RandomState(0)
    n = 120
    frame = pd.DataFrame({
        "x": rng.normal(size=n),
        "price": pd.array([decimal.Decimal(f"{v:.2f}") for v in rng.uniform(1, 50, n)],
                          dtype=pd.ArrowDtype(pa.decimal128(10, 2))),
        "colour": pd.Series(pa.array(rng.choice(["red", "green", "blue"], n)).dictionary_encode(), dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))),
        "city": pd.array(rng.choice(["a", "b"], n), dtype=pd.ArrowDtype(pa.string())),
    })
    model = VAETransformer(**SMALL).fit(frame)
    # Pickled and saved, these read back as errors ("data type ... not understood", "damaged"),
    # and string[pyarrow] as pandas' StringDtype.
    model.save(tmp_path / "arrow.skvae")
    for copy in (pickle.loads(pickle.dumps(model)), load(tmp_path / "arrow.skvae")):
        pd.testing.assert_frame_equal(copy.sample(5, random_state=0), model.sample(5, random_state=0))
        pd.testing.assert_frame_equal(copy.inverse_transform(copy.transform(frame[:5])),
                                      model.inverse_transform(model.transform(frame[:5])))
    assert dict(model.sample(2, random_state=0).dtypes) == dict(frame.dtypes)


def test_a_numpy_learning_rate_continues_alike_after_save_and_load(tmp_path):
    X = np.random.RandomState(0).rand(200, 5)
    model = VAETransformer(learning_rate_init=np.float32(1e-3), warm_start=True, hidden_layer_sizes=(16,),
                           max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
        model.save(tmp_path / "model.skvae")
        loaded = load(tmp_path / "model.skvae")
        np.testing.assert_array_equal(loaded.fit(X).score_samples(X), model.fit(X).score_samples(X))


@pytest.mark.parametrize("unit", ["datetime64[us]", "timedelta64[s]"])
def test_date_and_duration_labels_of_any_unit_save_and_load(tmp_path, unit):
    # pandas 3 parses dates to microseconds: their labels were refused by save (ns alone passed).
    X = np.random.RandomState(0).normal(size=(40, 3))
    y = np.array([0, 86_400, 172_800, 0] * 10).astype(unit)
    model = ConditionalVAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    model.save(tmp_path / "model.skvae")
    loaded = load(tmp_path / "model.skvae")
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.transform(X, y), model.transform(X, y))


def test_a_file_that_reported_noise_variance_for_a_censored_column_loads_with_none(tmp_path):
    # Files saved before noise_variance_ became None for censored columns held the censored
    # column's Gaussian spread; loaded, they say what a fit says now.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": np.clip(2 * rng.normal(size=300), None, 1.0), "b": rng.normal(size=300)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(frame)
    assert model.censored_bounds_ == {"a": (None, 1.0)} and model.noise_variance_ is None
    model.noise_variance_ = np.array([3.3, 0.7])  # as such a file holds it
    model.save(tmp_path / "old.skvae")
    assert load(tmp_path / "old.skvae").noise_variance_ is None


class MyVAE(VAETransformer):
    pass


def test_a_subclass_is_refused_at_save_not_at_load(tabular, tmp_path):
    # save wrote "skvae.MyVAE", which load then refused; a subclass named VAETransformer loaded as the
    # base class, its own transform silently gone.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MyVAE(**SMALL).fit(tabular[:100])
    with pytest.raises(TypeError, match="Cannot save a MyVAE.*joblib or pickle"):
        model.save(tmp_path / "model.skvae")
    assert not (tmp_path / "model.skvae").exists()
    assert type(pickle.loads(pickle.dumps(model))) is MyVAE


def test_metadata_routing_requests_save_and_load(tmp_path):
    # set_partial_fit_request(classes=True) made the model unsavable: "Cannot save state._metadata_request".
    import sklearn

    rng = np.random.RandomState(0)
    X, y = rng.rand(60, 3), rng.randint(0, 2, 60)
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConditionalVAETransformer(**SMALL).set_partial_fit_request(classes=True).fit(X, y)
        model.save(tmp_path / "model.skvae")
        loaded = load(tmp_path / "model.skvae")
        again = pickle.loads(pickle.dumps(model))
    for other in (loaded, again):
        assert other._metadata_request._serialize() == model._metadata_request._serialize() == {
            "fit": {"sample_weight": None}, "partial_fit": {"classes": True, "sample_weight": None}}
        np.testing.assert_array_equal(other.transform(X, y), model.transform(X, y))


class ScriptEncoder(ResidualEncoder):
    """Stands for a class defined in a script or notebook (module __main__), which no import reaches."""


ScriptEncoder.__module__ = "__main__"


def test_a_class_of_the_running_script_is_saved_with_a_warning_and_loaded_with_a_way_on(tabular, tmp_path):
    # save wrote a reference to __main__:ScriptEncoder without a word; load, told to trust it, then
    # failed with getattr's "module '__main__' has no attribute 'ScriptEncoder'".
    model = VAETransformer(**SMALL, encoder=ScriptEncoder).fit(tabular)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(tmp_path / "script.skvae")
    # Once, though the class is referenced from the parameters and the fitted state (three times).
    (warning,) = [w for w in caught if "__main__" in str(w.message)]
    assert re.search(r"__main__:ScriptEncoder.*defines \(or imports\) ScriptEncoder before it loads", str(warning.message))
    with pytest.raises(ImportError, match=r"refers to __main__:ScriptEncoder, which load cannot find .*the running "
                                          r"script or notebook \(__main__\), which must define or import it"):
        load(tmp_path / "script.skvae", trusted=["__main__:ScriptEncoder"])


def test_a_loaded_model_counts_its_work_before_any_call_can_share_it(tabular, tmp_path):
    # The count hooked the shared model's layers at its first call: a loaded model served from threads
    # at once counted the other threads' passes too, and cached 100-700 times its work.
    model = VAETransformer(**SMALL).fit(tabular)
    count = model.network_._multiply_adds_per_row
    model.save(tmp_path / "model.skvae")
    for restored in (pickle.loads(pickle.dumps(model)), load(tmp_path / "model.skvae")):
        assert restored.network_._multiply_adds_per_row == count


def _rewrite_arrays(source, target, change_arrays, change_state=None):
    """``source`` with its arrays (and optionally its state's entries, a dict) edited, re-zipped: checksums pass."""
    from safetensors.numpy import load as load_arrays
    from safetensors.numpy import save as save_arrays

    with zipfile.ZipFile(source) as archive:
        metadata, arrays = json.loads(archive.read("skvae.json")), load_arrays(archive.read("arrays.safetensors"))
    change_arrays(arrays)
    if change_state is not None:
        entries = dict(metadata["state"]["__dict__"])
        change_state(entries)
        metadata["state"]["__dict__"] = [[key, value] for key, value in entries.items()]
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("skvae.json", json.dumps(metadata))
        archive.writestr("arrays.safetensors", save_arrays(arrays))


def test_an_edited_file_that_passes_the_zip_checksums_is_refused_not_run(tabular, tmp_path):
    # Each loaded before: moments of other shapes than their parameters made partial_fit's fused
    # Adam write past them (a crash, or corrupted memory); NaN in a buffer changed sample's rows or
    # blamed the user's data; float16 or integer weights were cast silently; a state entry named
    # "transform" hid the method; a damaged random state raised a bare IndexError.
    model = VAETransformer(**SMALL).fit(tabular)
    model.save(tmp_path / "model.skvae")
    key = next(k for k in _arrays_of(tmp_path / "model.skvae") if k.endswith(".exp_avg"))
    weight = next(k for k in _arrays_of(tmp_path / "model.skvae") if k.endswith("layers.0.weight"))
    buffer = next(k for k in _arrays_of(tmp_path / "model.skvae") if k.endswith("mixture_weights"))

    def setter(name, function):
        return lambda arrays: arrays.update({name: function(arrays[name])})

    edits = {
        "moments": (setter(key, lambda a: a[:1].copy()), None, "optimizer state of parameter"),
        "moment_nan": (setter(key, lambda a: np.full_like(a, np.nan)), None, "optimizer state is not all finite"),
        "buffer_nan": (setter(buffer, lambda a: np.full_like(a, np.nan)), None, "statistics hold NaN"),
        "float16": (setter(weight, lambda a: a.astype(np.float16)), None, "another dtype than the model's"),
        "int32": (setter(weight, lambda a: a.astype(np.int32)), None, "another dtype than the model's"),
        "float64": (setter(weight, lambda a: a.astype(np.float64) + 1 / 3), None, "another dtype than the model's"),
        "method": (lambda arrays: None, lambda state: state.update(transform=1), r"names \['transform'\]"),
        "rng": (lambda arrays: None, lambda state: state.update(_rng=[1]), "state does not fit"),
        "step": (lambda arrays: None, lambda state: _replace_pair(state["_optimizer_state"], "step", 5),
                 "optimizer state does not fit"),
    }
    for name, (change_arrays, change_state, message) in edits.items():
        _rewrite_arrays(tmp_path / "model.skvae", tmp_path / f"{name}.skvae", change_arrays, change_state)
        with pytest.raises(ValueError, match=f"incomplete or damaged.*{message}"):
            load(tmp_path / f"{name}.skvae")
    _same_model(model, load(tmp_path / "model.skvae"), tabular)  # the unedited file still loads as it was


def _replace_pair(encoded, name, value):
    """Set the first ``[name, ...]`` entry of an encoded mapping, wherever it is nested, to ``value``."""
    if isinstance(encoded, list):
        if len(encoded) == 2 and encoded[0] == name:
            encoded[1] = value
            return True
        return any(_replace_pair(item, name, value) for item in encoded)
    if isinstance(encoded, dict):
        return any(_replace_pair(item, name, value) for item in encoded.values())
    return False


def _arrays_of(path):
    from safetensors.numpy import load as load_arrays

    with zipfile.ZipFile(path) as archive:
        return load_arrays(archive.read("arrays.safetensors"))


def test_save_and_load_take_a_binary_file_object_and_refuse_a_text_one(tabular, tmp_path):
    # A file object was given to os.fspath: "expected str, bytes or os.PathLike object", as joblib
    # takes them.
    model = VAETransformer(**SMALL).fit(tabular)
    buffer = io.BytesIO()
    model.save(buffer)
    with pytest.raises(ValueError, match=r"nothing left to read: if save wrote to it, call its seek\(0\)"):
        load(buffer)  # was "not a file written by skvae's save ... File is not a zip file"
    buffer.seek(0)
    _same_model(model, load(buffer), tabular)
    model.save(tmp_path / "model.skvae")
    with open(tmp_path / "model.skvae", "rb") as handle:
        _same_model(model, load(handle), tabular)
    with open(tmp_path / "text.skvae", "w") as handle, pytest.raises(TypeError, match="mode 'wb'"):
        model.save(handle)
    with open(tmp_path / "model.skvae") as handle, pytest.raises(TypeError, match="mode 'rb'"):
        load(handle)


@pytest.mark.parametrize("stem", ["m" * 240, "\N{GRINNING FACE}" * 60], ids=["ascii", "four_byte_characters"])
def test_a_failed_save_keeps_the_file_there_whatever_the_name(stem, tabular, tmp_path, monkeypatch):
    # The partial file's name was the target's lengthened: a name near the system's limit (or a
    # crashed save's leftover partial file) sent save to write in place, and a failed write there
    # left a truncated file where a good one was.
    import errno
    import os

    path = tmp_path / (stem + ".skvae")  # 246 bytes: one or four to a character
    VAETransformer(**SMALL).fit(tabular).save(path)
    before = path.read_bytes()

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    other = VAETransformer(**{**SMALL, "latent_dim": 3}).fit(tabular)
    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", full_disk)
        with pytest.raises(OSError, match="No space left"):
            other.save(path)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]
    other.save(path)
    assert load(path).latent_dim == 3


class MarkedEncoder(ResidualEncoder):
    """A user's encoder keeping a NaN mark and a running mean that turns float64 as it trains."""

    def __init__(self, in_features, width=16):
        super().__init__(in_features, width)
        self.register_buffer("calibrated_at", torch.full((2,), float("nan")))
        self.register_buffer("running_mean", torch.zeros(in_features))

    def forward(self, x):
        if self.training:
            self.running_mean = 0.9 * self.running_mean + 0.1 * x.detach().double().mean(0)
        return super().forward(x)


def test_a_users_module_keeps_its_own_buffers_and_a_file_object_of_any_kind_round_trips(tabular, tmp_path, tmpdir):
    # From a review of this stop's refusals: a user's module may keep NaN as a mark and change its
    # buffers' dtypes (load refused, pickle and deepcopy raised); pytest's tmpdir paths (py.path,
    # which has read and write) were taken for file objects; a raw file's short writes truncated
    # the file silently; a text file not of io.TextIOBase got a bare TypeError.
    import copy
    import tempfile

    model = VAETransformer(**SMALL, encoder=MarkedEncoder).fit(tabular)
    assert model.network_.encoder.running_mean.dtype == torch.float64
    model.save(tmp_path / "marked.skvae")
    for restored in (load(tmp_path / "marked.skvae", trusted=[MarkedEncoder]), copy.deepcopy(model),
                     pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(restored.transform(tabular), model.transform(tabular))
    plain = VAETransformer(**SMALL).fit(tabular)
    plain.save(tmpdir.join("py_path.skvae"))
    _same_model(plain, load(tmpdir.join("py_path.skvae")), tabular)

    class ShortWrites(io.RawIOBase):
        def __init__(self):
            self.taken = bytearray()

        def writable(self):
            return True

        def write(self, data):
            data = bytes(data)[:4096]
            self.taken += data
            return len(data)

    short = ShortWrites()
    plain.save(short)
    _same_model(plain, load(io.BytesIO(bytes(short.taken))), tabular)

    class WouldBlock(io.RawIOBase):  # a non-blocking raw file that takes nothing: None, not a count
        def writable(self):
            return True

        def write(self, data):
            return None

    with pytest.raises(BlockingIOError, match="took no bytes"):
        plain.save(WouldBlock())
    with tempfile.NamedTemporaryFile("w") as text, pytest.raises(TypeError, match="mode 'wb'"):
        plain.save(text)
    with tempfile.NamedTemporaryFile("r") as text, pytest.raises(TypeError, match="mode 'rb'"):
        load(text)
    with pytest.raises(ValueError, match="not a file written by skvae's save"):
        buffer = io.BytesIO()
        plain.save(buffer)
        load(io.BytesIO(buffer.getvalue()[100:]))
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as bundle, bundle.open("model.skvae", "w") as member:
        plain.save(member)  # a member reads bytes, though its mode is "r"
    with zipfile.ZipFile(tmp_path / "bundle.zip") as bundle, bundle.open("model.skvae") as member:
        _same_model(plain, load(member), tabular)
    # The fitted network's modules, not the parameters set since, say which buffers are the user's.
    model.set_params(encoder=None).save(tmp_path / "reset.skvae")
    np.testing.assert_array_equal(load(tmp_path / "reset.skvae", trusted=[MarkedEncoder]).transform(tabular),
                                  model.transform(tabular))


def _refused_with_unread(saved, tmp_path, fitted, edit):
    """A saved imputer whose ``["unread", fitted]`` entry reads ``edit`` instead is refused as damaged."""

    def edited(metadata):
        text = json.dumps(metadata)
        assert text.count(f'["unread", {fitted}]') == 1
        metadata.clear()
        metadata.update(json.loads(text.replace(f'["unread", {fitted}]', f'["unread", {edit}]')))

    _rewrite(saved, tmp_path / "edited.skvae", edited)
    with pytest.raises(ValueError, match="incomplete or damaged"):
        load(tmp_path / "edited.skvae")


@pytest.mark.parametrize("unread", ['[[7, 7]]', '[["1", 1]]', '[[1, 1], [1, 1]]', '[]'])
def test_an_imputers_unread_columns_that_do_not_fit_its_columns_are_refused(tmp_path, unread):
    X = np.random.RandomState(0).normal(size=(60, 4))
    X[:, 1] = np.nan
    with pytest.warns(UserWarning, match="without any observed values"):
        VAEImputer(**SMALL).fit(X).save(tmp_path / "imputer.skvae")
    _refused_with_unread(tmp_path / "imputer.skvae", tmp_path, "[[1, 1]]", unread)


def test_a_frame_imputers_unread_column_moved_or_renamed_is_refused(tmp_path):
    X = pd.DataFrame(np.random.RandomState(0).normal(size=(60, 4)), columns=list("abcd"))
    X["b"] = np.nan
    with pytest.warns(UserWarning, match="without any observed values"):
        VAEImputer(**SMALL).fit(X).save(tmp_path / "imputer.skvae")
    for edit in ('[[0, "b"]]', '[[1, "zz"]]'):  # another column read in its place; a name X never had
        _refused_with_unread(tmp_path / "imputer.skvae", tmp_path, '[[1, "b"]]', edit)


def _levels_of_other_kinds(n):
    import datetime
    import decimal

    rng = np.random.RandomState(0)
    instants = pd.Series(pd.date_range("2020-01-01", periods=4, freq="h", tz="Europe/Paris"))
    return {
        "cut": pd.cut(rng.normal(50, 15, n), [0, 30, 50, 70, 100]),
        "cut_dates": pd.cut(pd.Series(pd.date_range("2020-01-01", periods=n, freq="D")), 4),
        "zoned": pd.Categorical(instants.sample(n, replace=True, random_state=0).to_numpy()),
        "dates": [datetime.date(2020, 1, 1 + k % 5) for k in range(n)],
        "times": [datetime.time(9 + k % 4, 30) for k in range(n)],
        "decimals": [decimal.Decimal("1.5") if k % 2 else "x" for k in range(n)],
        "periods": pd.Categorical(pd.period_range("2020-01", periods=3, freq="M")[np.arange(n) % 3]),
        "bytes": [b"yes" if k % 3 else b"no" for k in range(n)],
    }


@pytest.mark.parametrize("kind", list(_levels_of_other_kinds(4)))
def test_levels_of_pandas_and_database_kinds_are_saved(tmp_path, kind):
    # pd.cut's intervals, zoned timestamps, a database's dates, times and decimals: fit took them as
    # categories, and save refused them ("Cannot save ... of type Interval"); pickle kept them.
    X = pd.DataFrame({"c": _levels_of_other_kinds(120)[kind], "f": np.random.RandomState(1).normal(size=120)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VAETransformer(**SMALL).fit(X)
    model.save(tmp_path / "model.skvae")
    loaded = load(tmp_path / "model.skvae")
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    pd.testing.assert_frame_equal(loaded.sample(20, random_state=0), model.sample(20, random_state=0))
    pd.testing.assert_frame_equal(loaded.inverse_transform(loaded.transform(X)),
                                  model.inverse_transform(model.transform(X)))
    assert [type(level) for level in loaded._schema.columns[0].categories] == \
        [type(level) for level in model._schema.columns[0].categories]


@pytest.mark.parametrize("kind", ["periods", "bytes"])
def test_class_labels_of_other_kinds_are_saved(tmp_path, kind):
    from skvae import ConditionalVAETransformer

    y = np.asarray(_levels_of_other_kinds(120)[kind], dtype=object)
    X = np.random.RandomState(1).normal(size=(120, 3))
    model = ConditionalVAETransformer(**SMALL).fit(X, y)
    model.save(tmp_path / "model.skvae")  # refused: "Cannot save state._conditions.classes of type bytes"
    loaded = load(tmp_path / "model.skvae")
    assert list(loaded.classes_) == list(model.classes_) and type(loaded.classes_[0]) is type(model.classes_[0])
    np.testing.assert_array_equal(loaded.transform(X, y), model.transform(X, y))
    np.testing.assert_array_equal(loaded.sample(5, y=y[:5], random_state=0), model.sample(5, y=y[:5], random_state=0))


@pytest.mark.parametrize("zone", ["dateutil/Europe/Paris", "tzutc", "tzoffset", "tzlocal", "zoneinfo UTC", "CET fixed"])
def test_time_zones_of_every_kind_are_saved_pickled_and_copied(tmp_path, zone):
    # A dateutil zone's dtype was written by a name pandas does not read ("datetime64[us,
    # tzfile('/usr/share/zoneinfo/Europe/Paris')]"): load called the file damaged, pickle.loads and
    # deepcopy failed. A fixed offset named "CET" came back as the zone CET, summer time and all.
    import copy
    import datetime
    import zoneinfo

    import dateutil.tz

    tz = {"tzutc": dateutil.tz.tzutc(), "tzoffset": dateutil.tz.tzoffset(None, 3600), "tzlocal": dateutil.tz.tzlocal(),
          "zoneinfo UTC": zoneinfo.ZoneInfo("UTC"),
          "CET fixed": datetime.timezone(datetime.timedelta(hours=1), "CET")}.get(zone, zone)
    when = pd.Series(pd.date_range("2020-03-20", periods=120, freq="D")).dt.tz_localize(tz)
    X = pd.DataFrame({"x": np.random.RandomState(0).normal(size=120), "when": when,
                      "level": pd.Categorical(when.iloc[np.arange(120) % 3].to_numpy())})
    model = VAETransformer(**SMALL).fit(X)
    model.save(tmp_path / "model.skvae")
    for copied in (load(tmp_path / "model.skvae"), pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(copied.transform(X), model.transform(X))
        pd.testing.assert_frame_equal(copied.sample(10, random_state=0), model.sample(10, random_state=0))
        drawn_zone = copied.sample(1, random_state=0)["when"].dt.tz
        assert drawn_zone.utcoffset(datetime.datetime(2020, 7, 1)) == when.dt.tz.utcoffset(datetime.datetime(2020, 7, 1))


def test_a_level_entry_no_save_writes_is_refused(tmp_path):
    X = pd.DataFrame({"c": _levels_of_other_kinds(60)["cut"], "f": np.random.RandomState(1).normal(size=60)})
    VAETransformer(**SMALL).fit(X).save(tmp_path / "model.skvae")

    def damage(node):
        if isinstance(node, dict):
            if "__interval__" in node:
                node["__interval__"] = "x"
            for value in node.values():
                damage(value)
        elif isinstance(node, list):
            for value in node:
                damage(value)

    _rewrite(tmp_path / "model.skvae", tmp_path / "edited.skvae", damage)
    with pytest.raises(ValueError, match=r"edited.skvae is incomplete or damaged.*__interval__"):
        load(tmp_path / "edited.skvae")
