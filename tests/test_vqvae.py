"""VQVAETransformer: one code per row, EMA codebook, predict / sample / score under a code prior."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_script
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from skvae import load
from skvae._vqvae import VQVAETransformer

FAST = dict(latent_dim=3, n_codes=16, hidden_layer_sizes=(32,), max_iter=5, random_state=0)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:400]


@pytest.fixture(scope="module")
def fitted(X):
    return VQVAETransformer(likelihood="bernoulli", **FAST).fit(X)


def _state(model):
    return {k: v.clone() for k, v in model.network_.state_dict().items()}, list(model.loss_curve_)


def _same_state(a, b):
    return a[1] == b[1] and a[0].keys() == b[0].keys() and all(torch.equal(a[0][k], b[0][k]) for k in a[0])


def test_same_random_state_gives_a_bitwise_identical_model(fitted, X):
    again = VQVAETransformer(likelihood="bernoulli", **FAST).fit(X)
    assert _same_state(_state(fitted), _state(again))
    np.testing.assert_array_equal(again.codebook_, fitted.codebook_)
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    other = VQVAETransformer(likelihood="bernoulli", **{**FAST, "random_state": 1}).fit(X)
    assert not np.array_equal(other.codebook_, fitted.codebook_)


def test_outputs_are_deterministic_and_row_independent(fitted, X):
    rows = [7, 123, 399]
    for method in ("transform", "predict", "score_samples"):
        full = getattr(fitted, method)(X)
        np.testing.assert_array_equal(getattr(fitted, method)(X[rows]), full[rows], err_msg=method)
        np.testing.assert_array_equal(getattr(fitted, method)(X[::-1])[::-1], full, err_msg=method)
    # Evaluation never moves the codebook (its EMA updates run only while training).
    np.testing.assert_array_equal(fitted.network_.latent.codebook.double().numpy(), fitted.codebook_)


def test_predict_is_the_nearest_codebook_vector_to_transform(fitted, X):
    codes = fitted.predict(X)
    assert codes.dtype == np.int64 and codes.shape == (400,)
    distances = ((fitted.transform(X)[:, None, :] - fitted.codebook_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(codes, distances.argmin(1))


def test_transform_quantized_returns_the_codebook_vector_without_refitting(fitted, X):
    continuous = fitted.transform(X)
    quantized = pickle.loads(pickle.dumps(fitted)).set_params(transform_quantized=True)
    np.testing.assert_allclose(quantized.transform(X), fitted.codebook_[fitted.predict(X)], rtol=1e-6)
    assert not np.allclose(quantized.transform(X), continuous)
    np.testing.assert_array_equal(fitted.transform(X), continuous)  # the original is untouched
    torch_quantized = quantized.to_torch()
    with torch.no_grad():
        out = torch_quantized(torch.as_tensor(X[:5], dtype=torch.float32)).numpy()
    np.testing.assert_allclose(out, fitted.codebook_[fitted.predict(X[:5])], rtol=1e-5)


def test_fitted_usage_statistics(fitted, X):
    counts = fitted.code_counts_
    np.testing.assert_array_equal(counts, np.bincount(fitted.predict(X), minlength=16))
    np.testing.assert_allclose(fitted.code_prior_, (counts + 1) / (400 + 16))
    share = counts[counts > 0] / 400
    assert fitted.perplexity_ == pytest.approx(np.exp(-(share * np.log(share)).sum()))
    assert fitted.codebook_.shape == (16, 3) and fitted.codebook_.dtype == np.float64


def test_score_samples_is_the_reconstruction_plus_the_log_prior(fitted, X):
    codes = fitted.predict(X)
    p = fitted.inverse_transform(fitted.codebook_[codes])
    log_likelihood = (X * np.log(p) + (1 - X) * np.log1p(-p)).sum(1)
    expected = log_likelihood + np.log(fitted.code_prior_[codes])
    np.testing.assert_allclose(fitted.score_samples(X), expected, rtol=1e-4)
    assert fitted.score(X) == pytest.approx(fitted.score_samples(X).mean())


def test_gaussian_score_is_a_density_in_the_units_of_x(X):
    X = X[:, X.std(0) > 0]  # a constant column has no density to rescale
    scale = 1000.0
    small = VQVAETransformer(**FAST, likelihood="gaussian").fit(X)
    large = VQVAETransformer(**FAST, likelihood="gaussian").fit(X * scale)
    np.testing.assert_array_equal(large.predict(X * scale), small.predict(X))
    # Scaling every column by s lowers a density by n_features * log(s).
    expected = small.score_samples(X) - X.shape[1] * np.log(scale)
    np.testing.assert_allclose(large.score_samples(X * scale), expected, rtol=1e-4)


def test_sample_decodes_codes_drawn_from_the_prior(fitted):
    rng = np.random.RandomState(3)
    codes = rng.choice(16, size=50, p=fitted.code_prior_)
    # Sampled rows stay within each column's training range.
    low, high = (fitted._schema.clipped(np.full((1, fitted.n_features_in_), bound)) for bound in (-np.inf, np.inf))
    expected = np.clip(fitted.inverse_transform(fitted.codebook_[codes]), low, high)
    np.testing.assert_array_equal(fitted.sample(50, random_state=3), expected)
    # At most n_codes distinct rows: one decoder mean per code.
    assert len(np.unique(fitted.sample(200, random_state=0), axis=0)) <= 16


def test_dead_codes_are_revived_so_most_of_the_codebook_is_used(X):
    model = VQVAETransformer(likelihood="bernoulli", **{**FAST, "n_codes": 32, "max_iter": 30}).fit(X)
    assert (model.code_counts_ > 0).sum() >= 28 and model.perplexity_ > 20  # measured: 30 and 25.5


def test_more_codes_than_rows_in_a_batch(X):
    model = VQVAETransformer(**{**FAST, "n_codes": 80, "batch_size": 50}).fit(X[:100])
    assert np.all(np.isfinite(model.codebook_)) and np.all(np.isfinite(model.score_samples(X[:100])))


def test_pickle_and_save_load_round_trips_are_bitwise(fitted, X, tmp_path):
    fitted.save(tmp_path / "vq.skvae")
    for restored in (pickle.loads(pickle.dumps(fitted)), load(tmp_path / "vq.skvae")):
        assert type(restored) is VQVAETransformer
        for method in ("transform", "predict", "score_samples"):
            np.testing.assert_array_equal(getattr(restored, method)(X), getattr(fitted, method)(X))
        np.testing.assert_array_equal(restored.sample(5, random_state=0), fitted.sample(5, random_state=0))
        for name in ("codebook_", "code_counts_", "code_prior_"):
            np.testing.assert_array_equal(getattr(restored, name), getattr(fitted, name))
        assert restored.perplexity_ == fitted.perplexity_
    # The EMA buffers come back too: continued training is bitwise the same.
    copy, loaded = pickle.loads(pickle.dumps(fitted)), load(tmp_path / "vq.skvae")
    copy.partial_fit(X)
    loaded.partial_fit(X)
    assert _same_state(_state(copy), _state(loaded))


def test_convolutional_network(X):
    model = VQVAETransformer(likelihood="bernoulli", image_shape=(8, 8), conv_channels=(8,), **FAST).fit(X)
    assert model.transform(X[:5]).shape == (5, 3) and model.sample(4, random_state=0).shape == (4, 64)
    np.testing.assert_array_equal(model.predict(X[:9])[[3]], model.predict(X[3:4]))


def test_early_stopping_and_pandas_output(X):
    model = VQVAETransformer(**{**FAST, "max_iter": 8}, early_stopping=True).fit(X)
    assert len(model.validation_scores_) == model.n_iter_ and np.all(np.isfinite(model.validation_scores_))
    frame = model.set_output(transform="pandas").transform(pd.DataFrame(X))
    assert list(frame.columns) == ["vqvaetransformer0", "vqvaetransformer1", "vqvaetransformer2"]


def test_a_failed_call_changes_nothing(fitted, X):
    model = pickle.loads(pickle.dumps(fitted))
    before = _state(model)
    counts = model.code_counts_
    with pytest.raises(ValueError, match="Training diverged"):
        # Refused after its counts were added to the stream's: they are not kept, nor added in place.
        model.set_params(learning_rate_init=1e4, batch_size=400).partial_fit(X * 0 + X.max(0))
    assert model.code_counts_ is counts and counts.sum() == model.n_samples_seen_ == len(X)
    np.testing.assert_array_equal(counts, fitted.code_counts_)
    with pytest.raises(ValueError, match="cannot change n_codes=8 \\(fitted with 16\\)"):
        model.set_params(n_codes=8, learning_rate_init=1e-3).partial_fit(X)
    with pytest.raises(ValueError, match=r'likelihood="bernoulli" needs X in \[0, 1\]'):
        model.set_params(n_codes=16).partial_fit(X * 16)
    assert _same_state(before, _state(model))
    np.testing.assert_array_equal(model.codebook_, fitted.codebook_)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_codes": 0}, "'n_codes' parameter .* must be an int in the range \\[1, inf\\)"),
        ({"commitment_cost": -1.0}, "'commitment_cost' parameter .* in the range \\[0.0, inf\\)"),
        ({"transform_quantized": "yes"}, "'transform_quantized' parameter .* must be an instance of 'bool'"),
    ],
)
def test_invalid_parameters_are_clear_errors(X, params, message):
    with pytest.raises(InvalidParameterError, match=message):
        VQVAETransformer(**params).fit(X)


def test_benchmark_quick_run(tmp_path):
    result = run_script("vqvae", "--quick", "--output", tmp_path)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "vqvae.csv")
    assert {"VQVAETransformer", "VAETransformer", "AutoencoderTransformer", "PCA"} <= set(table["model"])
    assert np.all(np.isfinite(table["test_mse"]))
    assert "| model" in result.stdout


def test_max_iter_warning_is_a_convergence_warning(X):
    with pytest.warns(ConvergenceWarning):
        VQVAETransformer(**{**FAST, "max_iter": 1}, tol=0.0).fit(X[:100])


def test_more_codes_than_training_rows_warn_as_kmeans_refuses_more_clusters_than_rows():
    # 64 codes on 30 rows: 0.45 of code_prior_ sat on codes no row took, which sample drew from.
    import warnings

    X = np.random.RandomState(0).normal(size=(30, 4))
    with pytest.warns(UserWarning, match=r"n_codes=64 is more than the 30 training rows, so at least 34"):
        model = VQVAETransformer(2, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X)  # a stream's later blocks (code_prior_ counts them all) are not told again
        VQVAETransformer(2, n_codes=30, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    bigger = VQVAETransformer(2, n_codes=30, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(
        np.tile(X, (2, 1)))
    with pytest.warns(UserWarning, match="n_codes=30 is more than the 20 training rows"):
        bigger.set_params(warm_start=True).fit(X[:20])  # a fit sets code_prior_ from its own rows


def test_code_indices_given_to_inverse_transform_are_refused_with_the_vectors_to_pass(fitted, X):
    # scikit-learn's "Reshape your data using array.reshape(-1, 1)" would, at latent_dim=1, decode the
    # indices themselves as code values, silently.
    codes = fitted.predict(X[:5])
    with pytest.raises(ValueError, match=r"look like code indices from predict. Pass codebook_\[codes\]"):
        fitted.inverse_transform(codes)
    assert fitted.inverse_transform(fitted.codebook_[codes]).shape == (5, X.shape[1])


def test_the_divergence_check_judges_the_codebook_reconstructions_the_decoder_trained_on():
    # It decoded the continuous z_e, which the decoder never saw: a sound fit of a 20-row table was
    # refused as diverged (6.0 standard deviations off, its own reconstructions 0.7-1.0).
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(300, 2))
    X = (Z @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(300, 5)))[:20]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VQVAETransformer(n_codes=8, learning_rate_init=0.01, batch_size=16, max_iter=60,
                                 random_state=16).fit(X)
    rebuilt = model.inverse_transform(model.codebook_[model.predict(X)])
    assert (np.sqrt(((rebuilt - X) ** 2).mean(axis=0)) / X.std(axis=0) < 2).all()


def test_partial_fit_sums_the_code_counts_of_every_block(X):
    # Blocks of 32 rows over 64 codes: one block's counts left code_prior_ mostly Laplace smoothing.
    model = VQVAETransformer(likelihood="bernoulli", **{**FAST, "n_codes": 64})
    expected = np.zeros(64, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 64 codes on a first block of 32 rows
        for block in np.array_split(X[:160], 5):
            model.partial_fit(block)
            # Each block's codes as its call left them: later calls move the model.
            expected += np.bincount(model.predict(block), minlength=64)
    np.testing.assert_array_equal(model.code_counts_, expected)
    assert model.code_counts_.sum() == model.n_samples_seen_ == 160
    np.testing.assert_array_equal(model.code_prior_, (expected + 1) / (160 + 64))
    np.testing.assert_array_equal(model.network_.latent.code_prior.numpy(), model.code_prior_)  # what sample draws
    frequencies = expected[expected > 0] / 160
    assert model.perplexity_ == pytest.approx(np.exp(-np.sum(frequencies * np.log(frequencies))), rel=1e-12)
    # A fit, warm start included, counts its own rows afresh; a partial_fit then adds to them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # X[:100] reaches beyond the first block's ranges
        model.set_params(warm_start=True, max_iter=1).fit(X[:100])
    assert model.n_samples_seen_ == 100
    np.testing.assert_array_equal(model.code_counts_, np.bincount(model.predict(X[:100]), minlength=64))
    model.partial_fit(X[100:150])
    assert model.n_samples_seen_ == model.code_counts_.sum() == 150
