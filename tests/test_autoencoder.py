"""AutoencoderTransformer's own semantics (skvae/_autoencoder.py)."""

import numpy as np
import pandas as pd
import pytest

from skvae import AutoencoderTransformer

PARAMS = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)


def test_gaussian_score_is_the_standardised_reconstruction_error(tabular):
    ae = AutoencoderTransformer(3, **PARAMS).fit(tabular)
    reconstruction = ae.inverse_transform(ae.transform(tabular))
    expected = -(((tabular - reconstruction) / tabular.std(0)) ** 2).mean(1)
    np.testing.assert_allclose(ae.score_samples(tabular), expected, rtol=1e-4, atol=1e-5)
    # Unit-free: rescaling a feature changes neither the model nor its score.
    factors = np.array([1e3, 1.0, 1e-2, 1.0, 7.0, 1.0])
    rescaled = AutoencoderTransformer(3, **PARAMS).fit(tabular * factors)
    np.testing.assert_allclose(rescaled.score(tabular * factors), ae.score(tabular), atol=1e-3)
    assert -1.0 < ae.score(tabular) < 0.0  # better than predicting every feature's mean


def test_bernoulli_score_is_the_error_in_input_units(digits):
    X = digits[0][:300]
    ae = AutoencoderTransformer(4, likelihood="bernoulli", **PARAMS).fit(X)
    expected = -((X - ae.inverse_transform(ae.transform(X))) ** 2).mean(1)
    np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-4, atol=1e-6)
    assert np.all((ae.inverse_transform(ae.transform(X)) >= 0) & (ae.inverse_transform(ae.transform(X)) <= 1))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_the_score_reads_a_constant_column_as_inverse_transform_gives_it(likelihood):
    # inverse_transform gives a column constant at fit its value; the score read the decoder's own
    # output there, which a short fit had not learnt (-0.069 where the misses gave -0.014).
    rng = np.random.RandomState(0)
    X = np.c_[rng.rand(200, 3), np.zeros(200), np.ones(200)]
    ae = AutoencoderTransformer(likelihood=likelihood, hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(X)
    scale = np.concatenate([part.scale.numpy() for part in ae.network_.columns.parts]) \
        if likelihood == "gaussian" else 1.0
    expected = -(((X - ae.inverse_transform(ae.transform(X))) / scale) ** 2).mean(1)
    np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-5, atol=1e-7)


def test_sample_draws_from_the_gaussian_of_the_training_codes(tabular):
    ae = AutoencoderTransformer(2, **PARAMS).fit(tabular)
    codes = ae.transform(tabular)
    np.testing.assert_allclose(ae.latent_mean_, codes.mean(0), atol=1e-5)
    np.testing.assert_allclose(ae.latent_covariance_, np.cov(codes.T, bias=True), rtol=1e-3, atol=1e-6)
    # sample() decodes codes drawn from that Gaussian with the given seed.
    rng = np.random.RandomState(5)
    drawn = rng.multivariate_normal(ae.latent_mean_, ae.latent_covariance_, size=4)
    np.testing.assert_allclose(ae.sample(4, random_state=5, from_likelihood=False), ae.inverse_transform(drawn))


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_loss_curve_is_the_training_objective(likelihood, digits):
    X = digits[0][:300]
    ae = AutoencoderTransformer(4, likelihood=likelihood, **PARAMS).fit(X)
    assert len(ae.loss_curve_) == ae.n_iter_
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.best_loss_ == min(ae.loss_curve_)


def test_partial_fit_pools_the_code_moments_of_every_block():
    # Two blocks from different regions: the Gaussian sample draws from must cover both, as
    # IncrementalPCA's mean_ and var_ cover every batch, not the last block's rows alone.
    rng = np.random.RandomState(0)
    first, second = rng.normal(size=(120, 5)), rng.normal(size=(80, 5)) + 2.0
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(16,), random_state=0)
    ae.partial_fit(first)
    codes_first = ae.transform(first)  # each block's codes as its call left them
    ae.partial_fit(second)
    codes_second = ae.transform(second)
    expected_mean = (120 * codes_first.mean(0) + 80 * codes_second.mean(0)) / 200
    np.testing.assert_allclose(ae.latent_mean_, expected_mean, rtol=1e-10, atol=1e-12)
    assert np.abs(ae.latent_mean_ - codes_second.mean(0)).max() > 0.05  # not the last block's
    pooled = np.cov(np.vstack([codes_first, codes_second]).T, bias=True)
    np.testing.assert_allclose(ae.latent_covariance_, pooled, rtol=1e-8, atol=1e-12)
    assert ae.n_samples_seen_ == 200
    np.testing.assert_array_equal(ae.network_.latent.code_mean.numpy(), ae.latent_mean_)  # what sample draws from
    # A fit, warm start included, starts afresh from its own rows; a partial_fit then goes on from them.
    for refit in (ae.set_params(warm_start=True, max_iter=2), AutoencoderTransformer(2, max_iter=2, random_state=0)):
        refit.fit(first)
        assert refit.n_samples_seen_ == 120
        np.testing.assert_allclose(refit.latent_mean_, refit.transform(first).mean(0), rtol=1e-10, atol=1e-12)
        refit.partial_fit(second)
        assert refit.n_samples_seen_ == 200
    # A model saved before the count was kept holds one call's moments of unknown count: they restart.
    del ae.n_samples_seen_
    ae.partial_fit(first)
    assert ae.n_samples_seen_ == 120
    np.testing.assert_allclose(ae.latent_mean_, ae.transform(first).mean(0), rtol=1e-10, atol=1e-12)


def test_partial_fit_pools_the_residual_variance_its_draws_use():
    # sample(from_likelihood=True) draws each Gaussian column around its decoded value with the mean
    # squared reconstruction error: it was the last block's alone, beside code moments of every block.
    rng = np.random.RandomState(0)
    first, second = rng.normal(size=(120, 5)), 1.5 * rng.normal(size=(80, 5))
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(16,), random_state=0)

    def draw_variance():  # each call trains a copy of the model, kept where it succeeds
        (part,) = ae.network_.columns.parts
        return part.draw_variance.numpy().copy()

    def standardised_errors(X):
        (part,) = ae.network_.columns.parts
        return ((X - ae.inverse_transform(ae.transform(X))) / part.scale.numpy()) ** 2

    ae.partial_fit(first)
    first_variance = draw_variance()
    np.testing.assert_allclose(first_variance, standardised_errors(first).mean(0), rtol=1e-5)
    ae.partial_fit(second)
    expected = (120 * first_variance + standardised_errors(second).sum(0)) / 200
    np.testing.assert_allclose(draw_variance(), expected, rtol=1e-5)
    assert np.abs(draw_variance() - standardised_errors(second).mean(0)).max() > 0.1  # not the last block's
    ae.fit(second)  # a fit starts afresh
    np.testing.assert_allclose(draw_variance(), standardised_errors(second).mean(0), rtol=1e-5)


def test_a_refused_partial_fit_leaves_the_pooled_moments_as_they_were(monkeypatch):
    import skvae._base

    rng = np.random.RandomState(0)
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(16,), random_state=0)
    ae.partial_fit(rng.normal(size=(60, 4))).partial_fit(rng.normal(size=(60, 4)) + 2)
    before = {name: getattr(ae, name) for name in ("latent_mean_", "latent_covariance_", "n_samples_seen_")}
    saved = {name: np.copy(value) for name, value in before.items()}

    def refuse(*args, **kwargs):  # after the statistics have been merged
        raise ValueError("refused")

    monkeypatch.setattr(skvae._base, "check_not_diverged", refuse)
    with pytest.raises(ValueError, match="refused"):
        ae.partial_fit(rng.normal(size=(60, 4)))
    for name, value in before.items():
        assert getattr(ae, name) is value
        np.testing.assert_array_equal(value, saved[name])
    np.testing.assert_array_equal(ae.network_.latent.code_mean.numpy(), saved["latent_mean_"])


def test_the_score_reads_a_censored_column_as_inverse_transform_gives_it():
    # A row on the censored bound, reconstructed there, was charged the decoder's unbounded miss:
    # 98 of 400 rows were off the documented formula (-0.241 where it gives -0.208).
    rng = np.random.default_rng(0)
    z = rng.normal(size=400)
    frame = pd.DataFrame({"rain": np.maximum(2 * z + rng.normal(size=400) - 1, 0.0) - 5,
                          "g": z + 0.3 * rng.normal(size=400)})
    ae = AutoencoderTransformer(1, hidden_layer_sizes=(16,), max_iter=30, random_state=0).fit(frame)
    assert ae.censored_bounds_ == {"rain": (-5.0, None)}
    X = frame.to_numpy()
    expected = -(((X - ae.inverse_transform(ae.transform(frame)).to_numpy()) / X.std(0)) ** 2).mean(1)
    np.testing.assert_allclose(ae.score_samples(frame), expected, rtol=1e-5, atol=1e-7)
