"""The estimator contract both transformers share (skvae/_base.py)."""

import copy
import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from conftest import ESTIMATORS, MODELS, SMALL
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from skvae import AutoencoderTransformer, VAEOutlierDetector, VAETransformer
from skvae._threads import usable_cores
from skvae.nn import Batch


def state_of(estimator):
    """Everything that defines a fitted model, for exact comparison."""
    weights = {k: v.detach().clone() for k, v in estimator.network_.state_dict().items()}
    return weights, list(estimator.loss_curve_), estimator.n_iter_, estimator.n_features_in_


def assert_same_state(a, b):
    (weights_a, *rest_a), (weights_b, *rest_b) = a, b
    assert weights_a.keys() == weights_b.keys()
    for key in weights_a:
        assert torch.equal(weights_a[key], weights_b[key]), key
    assert rest_a == rest_b


# ----------------------------------------------------------------- determinism


@MODELS
def test_same_random_state_gives_identical_model_on_refit_and_clone(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    first = state_of(estimator), estimator.transform(tabular), estimator.score_samples(tabular)
    estimator.fit(tabular)
    cloned = clone(estimator).fit(tabular)
    for other in (estimator, cloned):
        assert_same_state(first[0], state_of(other))
        np.testing.assert_array_equal(first[1], other.transform(tabular))
        np.testing.assert_array_equal(first[2], other.score_samples(tabular))


@MODELS
def test_different_random_states_give_different_models(Estimator, tabular):
    a = Estimator(**{**SMALL, "random_state": 0}).fit(tabular).transform(tabular)
    b = Estimator(**{**SMALL, "random_state": 1}).fit(tabular).transform(tabular)
    assert not np.allclose(a, b)


@MODELS
def test_global_rng_state_is_never_touched(Estimator, tabular):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    for random_state in (None, 0, np.random.RandomState(3)):
        estimator = Estimator(**{**SMALL, "random_state": random_state}).fit(tabular)
        estimator.partial_fit(tabular)
        estimator.transform(tabular)
        estimator.score_samples(tabular)
        estimator.sample(5)
    assert torch.equal(torch_state, torch.get_rng_state())
    after = np.random.get_state()
    assert numpy_state[0] == after[0] and np.array_equal(numpy_state[1], after[1])
    assert numpy_state[2:] == after[2:]


@MODELS
def test_random_state_none_gives_fresh_models(Estimator, tabular):
    a = Estimator(**{**SMALL, "random_state": None}).fit(tabular).transform(tabular)
    b = Estimator(**{**SMALL, "random_state": None}).fit(tabular).transform(tabular)
    assert not np.allclose(a, b)


@MODELS
# Narrow and odd widths (6 features, a linear map) are where MKL rounds a
# row differently by its position in the batch, unless evaluation pads them.
@pytest.mark.parametrize("hidden_layer_sizes", [(16,), (5,), ()])
def test_transform_depends_on_each_row_alone(Estimator, hidden_layer_sizes, tabular):
    estimator = Estimator(**{**SMALL, "hidden_layer_sizes": hidden_layer_sizes}).fit(tabular)
    full = estimator.transform(tabular)
    order = np.random.RandomState(0).permutation(len(tabular))
    np.testing.assert_array_equal(estimator.transform(tabular[order]), full[order])
    for row in (0, 7, 299):
        np.testing.assert_array_equal(estimator.transform(tabular[row : row + 1]), full[row : row + 1])
    scores = estimator.score_samples(tabular)
    np.testing.assert_array_equal(estimator.score_samples(tabular[order]), scores[order])
    np.testing.assert_array_equal(estimator.score_samples(tabular[5:6]), scores[5:6])


@MODELS
def test_outputs_do_not_depend_on_the_size_of_the_call(Estimator, tabular):
    # Calls are evaluated in chunks padded to a multiple of 32 rows, of up to
    # 1024: a row must come out the same from a call of 1 row, of 3 (whose
    # draws a score decodes padded with zero draws), of 17 (odd multiples of
    # 16 once tripped a reduction), of 300, and of 1500 (two chunks).
    estimator = Estimator(**SMALL).fit(tabular)
    X = np.tile(tabular, (5, 1))[:1500]
    codes = estimator.transform(X)
    scores = estimator.score_samples(X)
    decoded = estimator.inverse_transform(codes)
    for size in (1, 3, 17, 300, 1500):
        for row in (0, 7, 299):
            start = min(row, len(X) - size)
            part = slice(start, start + size)
            np.testing.assert_array_equal(estimator.transform(X[part]), codes[part])
            np.testing.assert_array_equal(estimator.score_samples(X[part]), scores[part])
            np.testing.assert_array_equal(estimator.inverse_transform(codes[part]), decoded[part])
    if hasattr(estimator, "kl_per_dim_"):
        iwae = estimator.score_samples(X, n_importance=5)
        np.testing.assert_array_equal(estimator.score_samples(X[40:57], n_importance=5), iwae[40:57])


@MODELS
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_evaluation_never_writes_to_the_callers_rows(Estimator, dtype, tabular):
    # Whole evaluation chunks (multiples of 32 rows) reach the model without a
    # copy: nothing on the way may write to them.
    estimator = Estimator(**SMALL).fit(tabular)
    X = tabular[:256].astype(dtype)
    holes = X.copy()
    holes[::7, 2] = np.nan
    for rows in (X, holes):
        before = rows.copy()
        estimator.inverse_transform(estimator.transform(rows))
        estimator.score_samples(rows)
        np.testing.assert_array_equal(rows, before)


@MODELS
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_follow_input_dtype(Estimator, dtype, tabular):
    X = tabular.astype(dtype)
    estimator = Estimator(**SMALL).fit(X)
    Z = estimator.transform(X)
    assert Z.dtype == dtype
    assert estimator.inverse_transform(Z).dtype == dtype
    assert estimator.fit_transform(X).dtype == dtype
    assert estimator.score_samples(X).dtype == dtype
    assert estimator.sample(2, random_state=0).dtype == np.float64  # no X to follow, as GaussianMixture.sample


def _threads_a_fit_uses(estimator, X, y=None):
    """The most torch threads a fit of a clone runs on, where it runs (a scorer, so in a worker too)."""
    used = [torch.get_num_threads()]
    set_num_threads = torch.set_num_threads

    def recording(n):
        used.append(n)
        set_num_threads(n)

    torch.set_num_threads = recording
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clone(estimator).fit(X)
    finally:
        torch.set_num_threads = set_num_threads
    return float(max(used))


def test_grid_search_n_jobs_matches_serial_and_respects_threads(digits):
    X = digits[0][:400]
    grid = {"beta": [0.5, 1.0, 2.0]}
    params = dict(latent_dim=4, hidden_layer_sizes=(32,), max_iter=8, random_state=0)
    serial = GridSearchCV(VAETransformer(**params), grid, cv=2, n_jobs=1).fit(X)
    parallel = GridSearchCV(VAETransformer(**params), grid, cv=2, n_jobs=2).fit(X)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    manual = VAETransformer(**params, beta=parallel.best_params_["beta"]).fit(X)
    np.testing.assert_array_equal(parallel.best_estimator_.transform(X), manual.transform(X))

    # Each of the 2 workers' fits runs on its share of the cores, not all of them: a network
    # whose step is worth several threads, which it gets where nothing caps it.
    wide = VAETransformer(latent_dim=4, hidden_layer_sizes=(512, 512), max_iter=1, random_state=0)
    if min(usable_cores(), torch.get_num_threads()) >= 2:
        assert _threads_a_fit_uses(wide, X) >= 2
    threads = GridSearchCV(wide, {"beta": [0.5, 1.0]}, cv=2, n_jobs=2, scoring=_threads_a_fit_uses).fit(X)
    expected = max(1, torch.get_num_threads() // 2)
    assert np.all(threads.cv_results_["mean_test_score"] <= expected)


# ------------------------------------------------------------- sklearn usage


@MODELS
def test_cross_val_score_needs_no_scorer(Estimator, tabular):
    scores = cross_val_score(Estimator(**SMALL), tabular, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


@MODELS
def test_set_output_pandas_and_feature_names(Estimator, tabular):
    columns = [f"x{i}" for i in range(tabular.shape[1])]
    frame = pd.DataFrame(tabular, columns=columns, index=np.arange(100, 400))
    estimator = Estimator(**{**SMALL, "latent_dim": 3}).set_output(transform="pandas").fit(frame)
    prefix = Estimator.__name__.lower()
    expected = [f"{prefix}{i}" for i in range(3)]
    assert list(estimator.get_feature_names_out()) == expected
    out = estimator.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == expected and out.index.equals(frame.index)
    assert list(estimator.feature_names_in_) == columns


# ----------------------------------------------------------------- pickling


@MODELS
def test_pickle_and_joblib_round_trip(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    for restored in (pickle.loads(pickle.dumps(estimator)), joblib.load(buffer)):
        np.testing.assert_array_equal(restored.transform(tabular), estimator.transform(tabular))
        np.testing.assert_array_equal(
            restored.score_samples(tabular), estimator.score_samples(tabular)
        )
        np.testing.assert_array_equal(restored.sample(3, random_state=0), estimator.sample(3, random_state=0))
    for restored in (pickle.loads(pickle.dumps(estimator)), joblib.load(io.BytesIO(buffer.getvalue()))):
        _continues_alike(restored, copy.deepcopy(estimator), tabular)  # the optimizer state survives too


@MODELS
def test_pickling_leaves_the_live_estimator_alone(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    attributes = dict(estimator.__dict__)
    pickle.dumps(estimator)
    assert all(estimator.__dict__[name] is value for name, value in attributes.items())
    assert estimator.__dict__.keys() == attributes.keys()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
@MODELS
def test_model_set_for_cuda_loads_and_runs_on_cpu(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    expected = estimator.transform(tabular)
    estimator.set_params(device="cuda")
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.transform(tabular), expected)
    with pytest.raises(ValueError, match="cuda"):
        restored.fit(tabular)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@MODELS
def test_model_trained_on_cuda_pickles_with_cpu_tensors(Estimator, tabular):
    estimator = Estimator(**{**SMALL, "device": "cuda"}).fit(tabular)
    state = pickle.loads(pickle.dumps(estimator)).__dict__
    assert all(p.device.type == "cpu" for p in state["network_"].parameters())
    assert next(estimator.network_.parameters()).device.type == "cuda"


# ---------------------------------------------------------- training options


@MODELS
def test_partial_fit_runs_one_epoch_and_ignores_y(Estimator, tabular):
    estimator = Estimator(**SMALL)
    estimator.partial_fit(tabular, y=["not", "validated"])
    assert estimator.n_iter_ == 1 and len(estimator.loss_curve_) == 1
    estimator.partial_fit(tabular[:50])
    assert estimator.n_iter_ == 2 and len(estimator.loss_curve_) == 2
    with pytest.raises(ValueError, match="features"):
        estimator.partial_fit(tabular[:, :3])


@MODELS
def test_partial_fit_continues_after_fit(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    before = {k: v.clone() for k, v in estimator.network_.state_dict().items()}
    estimator.partial_fit(tabular)
    assert estimator.n_iter_ == SMALL["max_iter"] + 1
    after = estimator.network_.state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in before if k.endswith("weight"))


@MODELS
def test_warm_start_continues_and_cold_start_restarts(Estimator, tabular):
    warm = Estimator(**{**SMALL, "warm_start": True}).fit(tabular).fit(tabular)
    assert warm.n_iter_ == 2 * SMALL["max_iter"]
    assert len(warm.loss_curve_) == 2 * SMALL["max_iter"]
    cold = Estimator(**SMALL).fit(tabular).fit(tabular)
    assert cold.n_iter_ == SMALL["max_iter"]


def test_continued_training_takes_hidden_layer_sizes_pinned_to_what_auto_chose(tabular):
    # It compared the value given with "auto" itself, and refused a network that would not change.
    vae = VAETransformer(max_iter=2, random_state=0).fit(tabular)
    vae.set_params(hidden_layer_sizes=list(vae.hidden_layer_sizes_))
    vae.partial_fit(tabular)
    vae.set_params(warm_start=True).fit(tabular)
    with pytest.raises(ValueError, match=r"cannot change hidden_layer_sizes=\(8,\) \(fitted with 'auto'\)"):
        vae.set_params(hidden_layer_sizes=(8,)).fit(tabular)


def test_continued_training_takes_noise_variance_pinned_to_what_auto_chose(tabular):
    # As hidden_layer_sizes above: per_feature, what "auto" chose here, was refused as a change.
    vae = VAETransformer(max_iter=2, random_state=0).fit(tabular)
    chosen = "per_feature" if tabular.shape[0] >= tabular.shape[1] else "isotropic"
    other = {"per_feature": "isotropic", "isotropic": "per_feature"}[chosen]
    vae.set_params(noise_variance=chosen).partial_fit(tabular)
    vae.set_params(warm_start=True).fit(tabular)
    with pytest.raises(ValueError, match=rf"cannot change noise_variance='{other}' \(fitted with 'auto'\)"):
        vae.set_params(noise_variance=other).fit(tabular)


def test_a_keyword_ending_in_an_underscore_is_refused_at_once_as_python_refuses_pca_s():
    # Fit's check read such a name as a fitted attribute: max_iter_=1 was stored and never read.
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'max_iter_'\. Did you mean 'max_iter'\?"):
        VAETransformer(max_iter_=1)
    with pytest.raises(TypeError, match="'latent_dim_'"):
        AutoencoderTransformer(latent_dim_=1)
    with pytest.raises(TypeError, match="'_samples_from_code_mixture'.*starting with '_' is not a parameter"):
        VAETransformer(_samples_from_code_mixture=False)  # would have replaced the estimator's own state
    with pytest.raises(TypeError, match="'fit' is a method or property of the estimator"):
        VAETransformer(fit=1)  # replaced the method: .fit(X) raised "'int' object is not callable"

    class Tempered(VAETransformer):
        temperature = 1.0  # a class-level default: not a method the keyword would replace

        def __init__(self, latent_dim=2, *, temperature=1.0):
            super().__init__(latent_dim, temperature=temperature)

    assert Tempered(temperature=0.5).get_params()["temperature"] == 0.5  # a declared parameter passes


def test_an_infinity_let_through_by_assume_finite_is_the_value_the_error_names():
    import sklearn

    X = np.random.RandomState(0).rand(20, 3)
    X[3, 1] = np.inf
    # ... and says what helps: no rescaling makes an infinity finite.
    with sklearn.config_context(assume_finite=True), pytest.raises(ValueError) as error:
        VAETransformer(max_iter=1).fit(X)
    assert re.search(r"X\[3, 1\] = inf is infinite: .*Make it a hole \(NaN\)", str(error.value))
    assert "Rescale" not in str(error.value)
    # Beside a hole the column's statistics spoke first: "a standard deviation of inf ... Rescale".
    X[0, 0] = np.nan
    with sklearn.config_context(assume_finite=True), pytest.raises(ValueError, match=r"X\[3, 1\] = inf is infinite"):
        VAETransformer(max_iter=1).fit(sp.csr_matrix(X))
    with sklearn.config_context(assume_finite=True), pytest.raises(ValueError, match=r"X\[3, 1\] = inf is infinite"):
        VAETransformer(max_iter=1).fit(X)


def test_a_frame_with_labels_that_are_not_strings_must_come_in_the_fitted_order():
    # scikit-learn checks string labels only: [2, 0, 1] was read by place, column 2 as column 0.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({0: rng.rand(60), 1: 10 * rng.rand(60), 2: 100 * rng.rand(60)})
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(frame)
    message = r"column labels \[2, 0, 1\] are not those the model was fitted with, \[0, 1, 2\]"
    for call in (vae.transform, vae.score_samples, vae.partial_fit):
        with pytest.raises(ValueError, match=message):
            call(frame[[2, 0, 1]])
    np.testing.assert_array_equal(vae.transform(frame[[0, 1, 2]]), vae.transform(frame.to_numpy()))
    with pytest.raises(ValueError, match=r"\[0, 1, 5\] .* Pass the columns the model was fitted with"):
        vae.transform(frame.set_axis([0, 1, 5], axis=1))
    # Labels none of which were fitted are read by place, as scikit-learn reads them (it warns of strings).
    with pytest.warns(UserWarning, match="X has feature names, but VAETransformer was fitted without"):
        named = vae.transform(frame.set_axis(["a", "b", "c"], axis=1))
    np.testing.assert_array_equal(named, vae.transform(frame))
    # A NaN label (pd.get_dummies(dummy_na=True)) is its own label: NaN != NaN refused the fitted frame.
    dummies = pd.get_dummies(pd.Series([1.0, 2.0, np.nan, 3.0] * 15), dummy_na=True, dtype=float)
    assert dummies.columns.isna().any()
    VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit_transform(dummies)


def test_a_dask_frame_with_labels_that_are_not_strings_must_come_in_the_fitted_order_too():
    # The label check read pandas frames only: a dask frame's [2, 0, 1] was read by place.
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({0: rng.rand(60), 1: 10 * rng.rand(60), 2: 100 * rng.rand(60)})
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(frame)
    with pytest.raises(ValueError, match=r"column labels \[2, 0, 1\] are not those .* Pass X\[\[0, 1, 2\]\]"):
        vae.transform(dd.from_pandas(frame[[2, 0, 1]], npartitions=2))
    np.testing.assert_array_equal(vae.transform(dd.from_pandas(frame, npartitions=2)), vae.transform(frame))
    # scikit-learn does not read a dask frame's string labels either: c, a, b was read as a, b, c.
    # A dask frame is now checked as the same pandas frame is, with the same words.
    named = frame.set_axis(["a", "b", "c"], axis=1)
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(named)
    for bad in (named[["c", "a", "b"]], named.set_axis(["x", "y", "z"], axis=1), frame.set_axis(["x", 1, 2], axis=1)):
        with pytest.raises((ValueError, TypeError)) as from_pandas:
            vae.transform(bad)
        with pytest.raises((ValueError, TypeError)) as from_dask:
            vae.transform(dd.from_pandas(bad, npartitions=2))
        assert (from_dask.type, str(from_dask.value)) == (from_pandas.type, str(from_pandas.value))
    # Labels that are not strings, none of them fitted, are read by place, as in a pandas frame.
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        by_place = vae.transform(dd.from_pandas(frame, npartitions=2))
    np.testing.assert_array_equal(by_place, vae.transform(named))
    # A detector scoring a dask frame with a row its likelihoods cannot take indexed it by position.
    flags = pd.DataFrame((rng.rand(60, 3) > 0.5).astype(float))
    detector = VAEOutlierDetector(VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(8,), max_iter=2,
                                                 random_state=0), contamination=0.1).fit(flags)
    beyond = flags.iloc[:4].copy()
    beyond.iloc[1, 0] = 1.5
    with pytest.warns(UserWarning, match="cannot"):
        scores = detector.score_samples(dd.from_pandas(beyond, npartitions=2))
    np.testing.assert_array_equal(scores, detector.score_samples(beyond.to_numpy()))


def test_a_pyarrow_record_batch_is_read_as_its_table():
    pa = pytest.importorskip("pyarrow")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.rand(60), "b": 10 * rng.rand(60)})
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(frame)
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    np.testing.assert_array_equal(vae.transform(batch), vae.transform(frame))
    # The detector splits and indexes rows itself: scikit-learn took a batch's rows as dicts.
    detector = VAEOutlierDetector(VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0), random_state=0)
    np.testing.assert_array_equal(detector.fit(batch).score_samples(batch), detector.fit(frame).score_samples(frame))


@MODELS
@pytest.mark.parametrize(
    "change",
    [{"latent_dim": 3}, {"hidden_layer_sizes": (8,)}, {"activation": "tanh"}, {"likelihood": "bernoulli"}],
)
def test_continued_training_refuses_a_new_network_shape(Estimator, change, tabular):
    X = (tabular - tabular.min(0)) / np.ptp(tabular, axis=0)  # valid for both likelihoods
    estimator = Estimator(**SMALL).fit(X)
    before = state_of(estimator)
    estimator.set_params(**change)
    name = next(iter(change))
    with pytest.raises(ValueError, match=rf"cannot change {name}=.*\(fitted with .*warm_start=False"):
        estimator.partial_fit(X)
    with pytest.raises(ValueError, match=name):
        estimator.set_params(warm_start=True).fit(X)
    assert_same_state(state_of(estimator), before)
    # A cold fit takes the new shape (at random_state=1: at 0 the 2 x 3 convolutional autoencoder's
    # Bernoulli decoder dies, every unit off for every row, which the fit warns of, as below).
    estimator.set_params(warm_start=False, random_state=1).fit(X)
    assert estimator.transform(X).shape[1] == estimator.latent_dim


def test_a_convolutional_autoencoder_whose_units_all_died_is_warned_of(tabular):
    # It gave every row one output from the 5th epoch at the default learning rate, without a word.
    from skvae import AutoencoderTransformer

    X = (tabular - tabular.min(0)) / np.ptp(tabular, axis=0)
    model = AutoencoderTransformer(image_shape=(2, 3), conv_channels=(4,), likelihood="bernoulli", **SMALL)
    with pytest.warns(UserWarning, match="same output.*try another random_state, or give the network more units"):
        model.fit(X)
    assert len(np.unique(model.inverse_transform(model.transform(X)), axis=0)) == 1


def test_noise_variance_auto_shares_the_variance_only_when_rows_are_fewer_than_columns(tmp_path):
    from skvae import load

    rng = np.random.RandomState(0)
    wide = rng.normal(size=(20, 40)) * np.arange(1, 41)  # fewer rows than columns
    tall = rng.normal(size=(200, 5)) * np.arange(1, 6)
    auto = VAETransformer(max_iter=3, random_state=0).fit(wide)
    shared = VAETransformer(max_iter=3, random_state=0, noise_variance="isotropic").fit(wide)
    # One variance in the units of X, held in float32 through per-feature scales.
    np.testing.assert_allclose(auto.noise_variance_, auto.noise_variance_[0], rtol=1e-3)
    np.testing.assert_array_equal(auto.transform(wide), shared.transform(wide))
    per_feature = VAETransformer(max_iter=3, random_state=0).fit(tall).noise_variance_
    assert per_feature.max() > 2 * per_feature.min()
    # The choice travels with the model, though the parameter still says "auto".
    auto.save(tmp_path / "wide.skvae")
    loaded = load(tmp_path / "wide.skvae")
    assert loaded.noise_variance == "auto"
    np.testing.assert_array_equal(loaded.score_samples(wide), auto.score_samples(wide))


def test_continued_training_refuses_new_noise_variance(tabular):
    vae = VAETransformer(**SMALL).fit(tabular)
    with pytest.raises(ValueError, match="noise_variance='isotropic'"):
        vae.set_params(noise_variance="isotropic").partial_fit(tabular)


@MODELS
def test_partial_fit_uses_the_current_learning_rate(Estimator, tabular):
    def weights_after_second_call(learning_rate):
        estimator = Estimator(**SMALL).partial_fit(tabular)
        estimator.set_params(learning_rate_init=learning_rate).partial_fit(tabular)
        return estimator.network_.state_dict()["latent.head.weight"]

    default = Estimator().learning_rate_init
    start = Estimator(**SMALL).partial_fit(tabular).network_.state_dict()["latent.head.weight"]
    step_default = (weights_after_second_call(default) - start).abs().max()
    step_large = (weights_after_second_call(100 * default) - start).abs().max()
    assert step_large > 10 * step_default


@MODELS
def test_early_stopping_records_validation_scores(Estimator, tabular):
    estimator = Estimator(**{**SMALL, "early_stopping": True, "max_iter": 15}).fit(tabular)
    assert len(estimator.validation_scores_) == estimator.n_iter_
    assert estimator.best_validation_score_ == max(estimator.validation_scores_[_judged(estimator):])
    assert estimator.best_loss_ is None
    plain = Estimator(**{**SMALL, "max_iter": 15}).fit(tabular)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None
    assert plain.best_loss_ == pytest.approx(min(plain.loss_curve_[_judged(plain):]))


def _judged(estimator):
    return getattr(estimator, "kl_warmup", 0)


@MODELS
def test_stopping_rule_stops_before_max_iter(Estimator, tabular):
    # tol larger than any possible improvement: the first judged epoch sets the
    # best loss, and each later one counts as no improvement, so training
    # stops n_iter_no_change + 2 epochs after the warm-up.
    params = {**SMALL, "max_iter": 100, "tol": 1e9, "n_iter_no_change": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator = Estimator(**params).fit(tabular)
    assert estimator.n_iter_ == _judged(estimator) + 5


@MODELS
def test_convergence_warning_at_max_iter(Estimator, tabular):
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(2\)"):
        Estimator(**{**SMALL, "max_iter": 2}).fit(tabular)


def _assert_epoch_lines(out):
    lines = out.strip().splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration 1", "Iteration 2", "Iteration 3"]
    assert all(re.fullmatch(r"Iteration \d, loss = -?\d+\.\d{8}", line) for line in lines)


@MODELS
def test_verbose_2_prints_one_line_per_epoch(Estimator, tabular, capsys):
    Estimator(**{**SMALL, "max_iter": 3, "verbose": 2}).fit(tabular)
    _assert_epoch_lines(capsys.readouterr().out)


def test_verbose_2_says_once_what_the_validation_score_is(tabular, capsys):
    # An autoencoder's loss (half the squared error summed over columns, 0.58) printed above its
    # validation score (minus the mean squared error per entry, -0.23) read as one scale.
    AutoencoderTransformer(**{**SMALL, "max_iter": 3, "verbose": 2, "early_stopping": True}).fit(tabular)
    out = capsys.readouterr().out
    assert out.count("the validation score is score() of the held-out rows, in its units") == 1
    assert out.count("Validation score: ") == 3


@MODELS
def test_verbose_1_without_tqdm_prints_lines(Estimator, tabular, capsys, monkeypatch):
    import skvae._progress

    monkeypatch.setattr(skvae._progress, "_tqdm", lambda: None)
    Estimator(**{**SMALL, "max_iter": 3, "verbose": 1}).fit(tabular)
    _assert_epoch_lines(capsys.readouterr().out)


@MODELS
def test_verbose_1_draws_a_progress_bar(Estimator, tabular, capsys):
    pytest.importorskip("tqdm")
    Estimator(**{**SMALL, "max_iter": 3, "verbose": 1}).fit(tabular)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "3/3" in captured.err and "loss=" in captured.err and Estimator.__name__ in captured.err


def test_a_partial_fit_bar_goes_when_its_epoch_ends(tabular, capsys, monkeypatch):
    tqdm = pytest.importorskip("tqdm.auto").tqdm
    import skvae._progress

    kept = []

    def recorded(*args, **kwargs):
        kept.append(kwargs["leave"])
        return tqdm(*args, **kwargs)

    monkeypatch.setattr(skvae._progress, "_tqdm", lambda: recorded)
    model = VAETransformer(**{**SMALL, "max_iter": 3, "verbose": 1}).fit(tabular)
    model.partial_fit(tabular)
    assert kept == [True, False]  # a stream of a thousand blocks left a thousand bars
    # A fit of one epoch keeps its bar, as MLPRegressor(max_iter=1) prints its line: it was wiped, loss and all.
    VAETransformer(**{**SMALL, "max_iter": 1, "verbose": 1}).fit(tabular)
    assert kept == [True, False, True]


@MODELS
def test_what_is_shown_never_changes_the_result(Estimator, tabular, capsys):
    fitted = [Estimator(**{**SMALL, "max_iter": 3, "verbose": v}).fit(tabular) for v in (0, 1, 2)]
    assert capsys.readouterr().out.count("Iteration 1,") == 1  # verbose=0 prints nothing
    codes = [estimator.transform(tabular) for estimator in fitted]
    np.testing.assert_array_equal(codes[0], codes[1])
    np.testing.assert_array_equal(codes[0], codes[2])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_linear_network_when_no_hidden_layers(Estimator, tabular):
    estimator = Estimator(**{**SMALL, "hidden_layer_sizes": ()}).fit(tabular)
    # One affine map each way, so no activation is ever applied.
    assert len(estimator.network_.encoder.layers) == 0 and len(estimator.network_.decoder.layers) == 1
    linear_layers = [m for m in estimator.network_.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear_layers) == 2


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inverse_transform_is_in_input_units(Estimator, tabular):
    # Units are the shared scaling's business; a 2 x 3 "image" is no model of
    # these data, so the convolutional networks are tested on images instead.
    # Trained to convergence, the 3-factor data is reconstructed to within a
    # small share of each feature's spread (PCA(3): 0.09 to 0.17), whatever
    # its units; a unit mistake would be off by many spreads.
    params = {**SMALL, "max_iter": 200, "n_iter_no_change": 200, "batch_size": 32,
              "learning_rate_init": 3e-3, "latent_dim": 3}
    estimator = Estimator(**params).fit(tabular)
    reconstruction = estimator.inverse_transform(estimator.transform(tabular))
    error = np.sqrt(((reconstruction - tabular) ** 2).mean(0)) / tabular.std(0)
    assert np.all(error < 0.3), error
    sample = estimator.sample(500, random_state=0)
    assert np.all(np.abs(sample.mean(0) - tabular.mean(0)) < tabular.std(0))


@MODELS
def test_sample_is_reproducible_and_validated(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    np.testing.assert_array_equal(estimator.sample(4, random_state=1), estimator.sample(4, random_state=1))
    assert not np.allclose(estimator.sample(4, random_state=1), estimator.sample(4, random_state=2))
    for bad in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match="n_samples"):
            estimator.sample(bad)


# ------------------------------------------------------------ errors and atomicity


@MODELS
def test_unfitted_model_raises_not_fitted(Estimator, tabular):
    estimator = Estimator(**SMALL)
    for method in ("transform", "inverse_transform", "score_samples", "score"):
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(tabular)
    with pytest.raises(NotFittedError):
        estimator.sample()
    with pytest.raises(NotFittedError):
        estimator.get_feature_names_out()


BAD_INPUTS = {
    "inf": (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), "infinity"),
    "1-D": (lambda X: X[:, 0], "Expected a 2-dimensional container|Expected 2D array"),
    "empty": (lambda X: X[:0], "0 sample"),
    "strings": (lambda X: np.full(X.shape, "a"), "could not convert|dtype|array holding strings"),
}


@MODELS
@pytest.mark.parametrize("bad", BAD_INPUTS)
def test_bad_input_raises_and_leaves_model_unchanged(Estimator, bad, tabular):
    corrupt, message = BAD_INPUTS[bad]
    estimator = Estimator(**SMALL).fit(tabular)
    before = state_of(estimator), estimator.transform(tabular)
    untouched = pickle.loads(pickle.dumps(estimator))
    for method in ("fit", "partial_fit", "transform", "score_samples"):
        with pytest.raises(ValueError, match=message):
            getattr(estimator, method)(corrupt(tabular))
    assert_same_state(before[0], state_of(estimator))
    np.testing.assert_array_equal(before[1], estimator.transform(tabular))
    _continues_alike(estimator, untouched, tabular)


def _continues_alike(estimator, untouched, X):
    """The optimizer's and the random state survived too: training on goes exactly as from a copy."""
    estimator.partial_fit(X)
    untouched.partial_fit(X)
    np.testing.assert_array_equal(estimator.transform(X), untouched.transform(X))
    assert estimator.loss_curve_ == untouched.loss_curve_


@MODELS
def test_wrong_number_of_features(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6 features"):
        estimator.transform(tabular[:, :5])
    with pytest.raises(ValueError, match="latent_dim=2"):
        estimator.inverse_transform(np.zeros((3, 5)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_refit_with_other_features_failing_late_restores_everything(Estimator, digits, tabular):
    # X passes the generic checks (and would reset n_features_in_) but fails
    # the Bernoulli range check: the earlier fitted model must survive intact.
    estimator = Estimator(**{**SMALL, "likelihood": "bernoulli"}).fit(digits[0][:200])
    before = state_of(estimator), estimator.transform(digits[0][:20])
    with pytest.raises(ValueError, match=r'likelihood="bernoulli" needs X in \[0, 1\]; got min=.*MinMaxScaler'):
        estimator.fit(tabular)
    assert_same_state(before[0], state_of(estimator))
    np.testing.assert_array_equal(before[1], estimator.transform(digits[0][:20]))


@MODELS
def test_diverging_training_raises_and_leaves_model_unchanged(Estimator, tabular):
    estimator = Estimator(**SMALL).fit(tabular)
    before = state_of(estimator)
    untouched = pickle.loads(pickle.dumps(estimator))
    estimator.set_params(learning_rate_init=1e30, warm_start=True)
    # Values 1e20 standard deviations out are blamed, where no learning rate would help.
    with pytest.raises(ValueError, match="diverged.*a lower learning rate cannot help"):
        estimator.fit(tabular * 1e20)
    assert_same_state(before, state_of(estimator))
    _continues_alike(estimator.set_params(learning_rate_init=untouched.learning_rate_init), untouched, tabular)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bernoulli_range_checked_in_every_method_that_reads_x(Estimator, digits):
    X = digits[0][:200]
    estimator = Estimator(**{**SMALL, "likelihood": "bernoulli"}).fit(X)
    for method in ("fit", "partial_fit", "score_samples"):
        with pytest.raises(ValueError, match=r"got min=-0\.3, max=4\.1"):
            getattr(estimator, method)(np.clip(X * 5 - 0.3, -0.3, 4.1))


@MODELS
@pytest.mark.parametrize(
    "params",
    [
        {"latent_dim": 0},
        {"latent_dim": 1.5},
        {"activation": "swish"},
        {"likelihood": "laplace"},
        {"batch_size": 0},
        {"batch_size": "big"},
        {"learning_rate_init": 0},
        {"max_iter": 0},
        {"tol": -1},
        {"validation_fraction": 1.0},
        {"device": "tpu"},
        {"early_stopping": "yes"},
    ],
)
def test_invalid_parameters_are_rejected_at_fit(Estimator, params, tabular):
    with pytest.raises(InvalidParameterError, match=f"'{next(iter(params))}' parameter"):
        Estimator(**params).fit(tabular)


@MODELS
@pytest.mark.parametrize("sizes", [(0,), (16, -2), ("a",), (1.5,)])
def test_invalid_hidden_layer_sizes(Estimator, sizes, tabular):
    with pytest.raises((ValueError, TypeError), match="hidden_layer_sizes"):
        Estimator(hidden_layer_sizes=sizes).fit(tabular)


@MODELS
def test_early_stopping_with_too_few_rows(Estimator, tabular):
    with pytest.raises(ValueError, match="validation_fraction=0.1 of the 3 samples"):
        Estimator(**{**SMALL, "early_stopping": True}).fit(tabular[:3])


def test_gpu_evaluation_pads_every_chunk_to_one_shape_and_gives_the_same_outputs(tabular, monkeypatch):
    # The GPU's evaluation path (every chunk padded on the device to one shape),
    # run on the CPU: 300 rows in chunks of 64, the last one partial.
    import scipy.sparse as sp

    import skvae._data
    from skvae import ConditionalVAETransformer, VAEImputer

    y = np.arange(len(tabular)) % 3
    holes = tabular.copy()
    holes[::7, 2] = np.nan
    read_only = tabular.copy()
    read_only.flags.writeable = False
    vae = VAETransformer(**SMALL).fit(tabular)
    cvae = ConditionalVAETransformer(**SMALL).fit(tabular, y)
    imputer = VAEImputer(**SMALL).fit(holes)

    def outputs():
        Z = vae.transform(tabular)
        return [Z, vae.transform(tabular[7:12]), vae.inverse_transform(Z), vae.score_samples(tabular),
                vae.score_samples(tabular[7:12]), vae.transform(sp.csr_matrix(tabular)), vae.transform(read_only),
                cvae.transform(tabular, y=y), cvae.inverse_transform(Z, y=y), cvae.inverse_transform(Z),
                imputer.transform(holes), cvae.score_samples(tabular), cvae.score_samples(tabular[7:12])]

    expected = outputs()
    monkeypatch.setattr(skvae._data, "GPU_EVAL_CHUNK_ROWS", 64)
    monkeypatch.setattr(skvae._data, "_pads_to_one_shape", lambda device: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a read-only X is copied, not handed to torch.from_numpy
        padded = outputs()
    for got, want in zip(padded, expected):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(padded[1], padded[0][7:12])
    np.testing.assert_array_equal(padded[4], padded[3][7:12])
    np.testing.assert_array_equal(padded[12], padded[11][7:12])
    # Wide data take fewer rows per chunk, a multiple of 32 (the cap here is 64).
    assert skvae._data.gpu_chunk_rows(10) == 64
    assert skvae._data.gpu_chunk_rows(skvae._data.GPU_EVAL_VALUES // 40 + 1) == 32


def test_cuda_requested_without_cuda_is_a_clear_error(tabular):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match='device="cuda" but torch.cuda.is_available'):
        VAETransformer(**SMALL, device="cuda").fit(tabular)
    # "auto" falls back to the CPU.
    assert VAETransformer(**SMALL, device="auto").fit(tabular).transform(tabular).shape == (300, 2)


def test_device_cuda_is_the_current_device_by_its_index(monkeypatch):
    # torch.device("cuda") != torch.device("cuda:0"), where a fitted model's tensors are: a model served
    # with device="cuda" was moved again at every call.
    from skvae._data import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert resolve_device("cuda") == resolve_device("auto") == torch.device("cuda", 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device("cpu") == torch.device("cpu")


def test_parameters_follow_mlp_vocabulary():
    from sklearn.neural_network import MLPRegressor

    shared = set(MLPRegressor().get_params()) & set(VAETransformer().get_params())
    assert {
        "hidden_layer_sizes", "activation", "batch_size", "learning_rate_init", "max_iter",
        "tol", "n_iter_no_change", "early_stopping", "validation_fraction", "shuffle",
        "warm_start", "random_state", "verbose",
    } <= shared
    assert set(AutoencoderTransformer().get_params()) - {"sparsity"} < set(VAETransformer().get_params())
    with pytest.raises(TypeError):
        VAETransformer(2, (16,))  # everything after latent_dim is keyword-only


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_tiny_but_varying_features_are_standardised_not_treated_as_constant(Estimator, tabular):
    def scale(estimator):
        return estimator.network_.columns.standardisation()[1]

    tiny = Estimator(**SMALL).fit(tabular * 1e-16)
    np.testing.assert_allclose(scale(tiny), scale(Estimator(**SMALL).fit(tabular)) * 1e-16)
    constant = Estimator(**SMALL).fit(np.c_[tabular, np.full(len(tabular), 1e4)])
    assert scale(constant)[-1] == 1.0


@MODELS
def test_fit_trains_in_float32_under_a_float64_torch_default(Estimator, tabular):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        estimator = Estimator(**SMALL).fit(tabular)
        estimator.partial_fit(tabular)
        assert estimator.transform(tabular).dtype == np.float64
        assert np.isfinite(estimator.score(tabular))
    finally:
        torch.set_default_dtype(previous)
    assert all(p.dtype == torch.float32 for p in estimator.network_.parameters())


def test_evaluation_sees_the_rows_training_saw(tabular):
    # One front serves training and evaluation: the model applied to the
    # training rows gives transform's codes, bitwise.
    estimator = VAETransformer(**SMALL).fit(tabular)
    loc, scale = estimator.network_.columns.standardisation()
    trained_on = torch.from_numpy(((tabular - loc) / scale).astype(np.float32))
    with torch.no_grad():
        codes = estimator.network_.code(Batch(trained_on))
    np.testing.assert_array_equal(codes.double().numpy(), estimator.transform(tabular))


@MODELS
def test_a_value_far_out_moves_its_code_only_a_little(Estimator, tabular):
    # A value far beyond any Gaussian draw (a data error) would otherwise
    # drive its row's code, and in training the network, ever further out.
    from skvae.nn.likelihoods.base import INPUT_BOUND

    model = Estimator(**SMALL).fit(tabular)
    mean, std = tabular.mean(axis=0), tabular.std(axis=0)
    rows = np.repeat(mean[None, :], 4, axis=0)
    rows[:, 1] += std[1] * np.array([INPUT_BOUND / 2, INPUT_BOUND + 1, 1e6, 1e12])
    codes = model.transform(rows)
    assert np.all(np.isfinite(codes))
    # Read as about 38 standard deviations, not 1e12: the code stays near the others ...
    assert np.abs(codes[3] - codes[0]).max() < 50 * np.abs(codes[1] - codes[0]).max()
    # ... and still apart from the nearer ones: the reading keeps the values' order.
    assert not np.array_equal(codes[2], codes[3])
    # The likelihood scores the value itself: the farther out, the less likely.
    scores = model.score_samples(rows)
    assert scores[0] > scores[1] > scores[2] > scores[3]


def test_a_warm_start_fit_beyond_the_first_fits_ranges_warns_that_sample_keeps_them():
    # sample kept to 1990-2020 after a warm fit on 2005-2035, without a word.
    rng = np.random.RandomState(0)
    first = pd.DataFrame({"x": rng.normal(size=120), "year": rng.randint(1990, 2021, 120)})
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0).fit(first)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(first.iloc[::-1])  # the same rows: nothing to say
        numbers = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
        numbers.fit(first.to_numpy(float) / 7).fit((first.to_numpy(float) / 7).astype(np.float32))  # rounded up
        shares = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
        shares.fit(first / 7).fit((first / 7).astype(np.float32))  # a float32 frame likewise
        numbers.fit(first.to_numpy(float) / 7).fit((first.to_numpy(float) / 7).astype(np.float16))  # float16
        numbers.fit(first.to_numpy(float) / 7).fit(pd.DataFrame(first.to_numpy(float) / 7).astype(np.float16))  # a frame
    with pytest.warns(UserWarning, match=r"keeps the first fit's column ranges.*\['year'\].*warm_start=False"):
        vae.fit(first.assign(year=first["year"] + 15))
    # Beyond by less than float32's step there, in float64 values: still beyond.
    cents = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    cents.fit(first.assign(year=first["year"] * 50_000))
    with pytest.warns(UserWarning, match=r"keeps the first fit's column ranges.*\['year'\]"):
        cents.fit(first.assign(year=first["year"] * 50_000 + 4))
    # An integer column's new extreme that happens to be a float32 (1.7e9, a multiple of 128) too.
    seconds = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    seconds.fit(first.assign(year=np.arange(120) + 1_699_999_871))
    with pytest.warns(UserWarning, match=r"keeps the first fit's column ranges.*\['year'\]"):
        seconds.fit(first.assign(year=np.arange(120) + 1_699_999_881))
    assert vae.sample(500, random_state=0)["year"].max() <= 2020


def test_a_float64_warm_start_after_a_float32_fit_warns_only_of_values_beyond_float32_rounding():
    # The same X in float64 lies past its float32 extremes by their rounding: every column was
    # reported beyond the first fit's ranges.
    X = np.random.RandomState(0).normal(size=(120, 4))
    vae = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X.astype(np.float32))
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    with pytest.warns(UserWarning, match=r"keeps the first fit's column ranges.*\[0, 1, 2, 3\]"):
        vae.fit(X * 1.001)


def test_other_libraries_parameter_names_are_answered_with_skvae_s():
    # PCA's n_components, a torch loop's epochs, an imputer's fill_value were refused with advice
    # about custom encoders' 'encoder__' arguments alone.
    from skvae import HierarchicalVAETransformer, VAEImputer

    X = np.random.RandomState(0).rand(40, 3)
    for estimator, message in (
        (VAETransformer(n_components=2), r"'n_components'. The code's size is latent_dim \(PCA's n_components\).$"),
        (HierarchicalVAETransformer(n_components=2), r"The code's size is latent_dims "),
        (VAETransformer(epochs=5), r"Epochs are max_iter, as in MLPRegressor.$"),
        (VAETransformer(add_indicator=True), r"'add_indicator' is a parameter of VAEImputer.$"),
        # fill_value read "Did you mean 'min_value'?", a bound; estimator named the detector alone.
        (VAEImputer(fill_value=0), r"not a constant \(SimpleImputer's fill_value\); min_value and max_value"),
        (VAEImputer(estimator=None), r"where IterativeImputer takes a regressor as its estimator"),
        (VAEImputer(initial_strategy="mean"), r"no first fill \(IterativeImputer's initial_strategy\)"),
    ):
        with pytest.raises(ValueError, match=message):
            estimator.fit(X)


def test_a_dask_dataframe_is_fitted_as_the_same_pandas_frame():
    # fit read a dask frame as one float array: no column likelihoods or names, array outputs, and a
    # string or nullable integer column could not be fitted at all.
    dd = pytest.importorskip("dask.dataframe")
    from skvae import VAEOutlierDetector

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"height": 170 + 10 * rng.normal(size=60), "income": np.exp(10 + rng.normal(size=60)),
                          "city": rng.choice(["Lima", "Oslo"], 60), "visits": pd.array([1, pd.NA, 3] * 20, dtype="Int64")})
    lazy = dd.from_pandas(frame, npartitions=2)
    small = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = VAETransformer(**small).fit(lazy.compute())  # dask's dtypes: pyarrow strings
        model = VAETransformer(**small).fit(lazy)
        # The detector's float contamination fits its base on X as given: the same frame too.
        detector = VAEOutlierDetector(VAETransformer(**small), contamination=0.1).fit(lazy)
    assert model.column_likelihoods_ == expected.column_likelihoods_
    np.testing.assert_array_equal(model.transform(frame), expected.transform(frame))
    pd.testing.assert_frame_equal(model.sample(5, random_state=0), expected.sample(5, random_state=0))
    assert detector.estimator_.column_likelihoods_ == expected.column_likelihoods_


def test_a_lazy_frame_is_read_without_a_warning():
    # narwhals warned, on every call with a dask frame, that it is dropping dask.
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(np.random.RandomState(0).normal(size=(40, 2)), columns=["a", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(vae.transform(dd.from_pandas(frame, npartitions=2)), vae.transform(frame))
