"""AutoencoderTransformer's own semantics (skvae/_autoencoder.py)."""

import numpy as np
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
