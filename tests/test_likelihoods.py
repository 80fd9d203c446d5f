"""Log-likelihoods and KL (skvae/nn/likelihoods.py, latents.py) against torch.distributions and scipy."""

import math
import numpy as np
import pytest
import torch
from scipy import stats
from torch import distributions as D

from skvae._schema import Schema
from skvae.nn.latents import kl_to_standard_normal, standard_normal_log_prob
from skvae.nn.likelihoods import LIKELIHOODS, BernoulliLikelihood, GaussianLikelihood
from skvae.nn.likelihoods.bernoulli import bernoulli_log_prob
from skvae.nn.likelihoods.gaussian import gaussian_log_prob


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(0)


def test_gaussian_log_prob_matches_references(generator):
    x, mean = torch.randn(50, 7, generator=generator, dtype=torch.float64), torch.randn(50, 7, generator=generator, dtype=torch.float64)
    log_var = torch.randn(7, generator=generator, dtype=torch.float64)
    ours = gaussian_log_prob(x, mean, log_var)
    reference = D.Normal(mean, torch.exp(0.5 * log_var)).log_prob(x).sum(-1)
    torch.testing.assert_close(ours, reference)
    scipy_reference = stats.norm.logpdf(x.numpy(), mean.numpy(), np.exp(0.5 * log_var.numpy())).sum(-1)
    np.testing.assert_allclose(ours.numpy(), scipy_reference, rtol=1e-12)


def test_bernoulli_log_prob_matches_references(generator):
    logits = 3 * torch.randn(40, 9, generator=generator, dtype=torch.float64)
    binary = torch.bernoulli(torch.full((40, 9), 0.4, dtype=torch.float64), generator=generator)
    ours = bernoulli_log_prob(binary, logits)
    torch.testing.assert_close(ours, D.Bernoulli(logits=logits).log_prob(binary).sum(-1))
    scipy_reference = stats.bernoulli.logpmf(binary.numpy(), torch.sigmoid(logits).numpy()).sum(-1)
    np.testing.assert_allclose(ours.numpy(), scipy_reference, rtol=1e-9)
    # Grey levels: the cross-entropy x log p + (1 - x) log(1 - p).
    grey = torch.rand(40, 9, generator=generator, dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = (grey * torch.log(p) + (1 - grey) * torch.log1p(-p)).sum(-1)
    torch.testing.assert_close(bernoulli_log_prob(grey, logits), expected)


def test_bernoulli_log_prob_is_stable_for_extreme_logits():
    logits = torch.tensor([[-200.0, 200.0]])
    value = bernoulli_log_prob(torch.tensor([[0.0, 1.0]]), logits)
    assert torch.isfinite(value).all() and value.item() == pytest.approx(0.0, abs=1e-6)


def test_standard_normal_log_prob_matches_scipy(generator):
    z = torch.randn(30, 4, generator=generator, dtype=torch.float64)
    expected = stats.multivariate_normal(np.zeros(4), np.eye(4)).logpdf(z.numpy())
    np.testing.assert_allclose(standard_normal_log_prob(z).numpy(), expected, rtol=1e-12)


def test_analytic_kl_matches_torch_and_monte_carlo(generator):
    mu = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    log_var = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    ours = kl_to_standard_normal(mu, log_var)
    q, prior = D.Normal(mu, torch.exp(0.5 * log_var)), D.Normal(0.0, 1.0)
    torch.testing.assert_close(ours, D.kl_divergence(q, prior))
    # Monte Carlo: E_q[log q(z) - log p(z)] from 200,000 draws, within 4 standard errors.
    z = q.sample((200_000,))
    samples = q.log_prob(z) - prior.log_prob(z)
    estimate, error = samples.mean(0), samples.std(0) / np.sqrt(len(samples))
    assert torch.all((estimate - ours).abs() < 4 * error + 1e-3)


def _statistics(floor=None, scale=(1.0, 1.0, 1.0)):
    """Column statistics whose resolution gives each feature the variance floor ``floor`` (resolution**2 / 12)."""
    scale = np.asarray(scale, dtype=float)
    resolution = None if floor is None else np.sqrt(12 * np.broadcast_to(floor, 3)) * scale
    out = {"mean": np.zeros(3), "scale": scale}
    if resolution is not None:
        out["resolution"] = resolution
    return out


def test_gaussian_likelihood_variance_floor_and_gradient():
    likelihood = GaussianLikelihood(3, noise_variance="per_feature", statistics=_statistics(1e-4))
    with torch.no_grad():
        likelihood.raw_variance.fill_(-50.0)
    variance = torch.exp(likelihood.log_variance())
    torch.testing.assert_close(variance, torch.full((3,), 1e-4), rtol=1e-4, atol=0)
    # Starts at variance 1 + floor, the variance of standardised data.
    fresh = GaussianLikelihood(3, noise_variance="per_feature", statistics=_statistics(1e-4))
    torch.testing.assert_close(torch.exp(fresh.log_variance()), torch.full((3,), 1 + 1e-4))
    fresh.log_prob(torch.ones(2, 3), torch.zeros(2, 3)).sum().backward()
    assert fresh.raw_variance.grad.abs().min() > 0


def test_shared_variance_is_shared_in_input_units():
    scale = np.array([0.01, 1.0, 300.0])
    log_scale = torch.log(torch.tensor(scale, dtype=torch.float32))
    likelihood = GaussianLikelihood(3, noise_variance="isotropic", statistics=_statistics(scale=scale))
    with torch.no_grad():
        likelihood.raw_variance.fill_(0.7)
    # The learned part is shared in input units; the floor (1e-6 of each
    # feature's variance) is added per feature.
    learned = torch.exp(likelihood.log_variance()) - 1e-6
    input_variance = learned * torch.exp(2 * log_scale)
    torch.testing.assert_close(input_variance, input_variance[0].expand(3), rtol=1e-4, atol=0)
    per_feature = GaussianLikelihood(3, noise_variance="per_feature", statistics=_statistics(scale=scale))
    assert torch.equal(per_feature.log_variance_offset, torch.zeros(3))


def test_variance_floor_per_feature():
    likelihood = GaussianLikelihood(3, noise_variance="per_feature", statistics=_statistics(np.array([0.0, 0.1, 2.0])))
    with torch.no_grad():
        likelihood.raw_variance.fill_(-50.0)
    torch.testing.assert_close(torch.exp(likelihood.log_variance()), torch.tensor([1e-6, 0.1, 2.0]))


def test_likelihood_means():
    output = torch.tensor([[-1.0, 0.0, 2.0]])
    assert torch.equal(GaussianLikelihood(3, noise_variance="per_feature").mean(output), output)
    assert torch.equal(GaussianLikelihood(3).mean(output), output)
    torch.testing.assert_close(BernoulliLikelihood(3).mean(output), torch.sigmoid(output))
    x = torch.tensor([[0.0, 1.0, 1.0]])
    # Without a learned variance: minus half the squared error, the autoencoder's loss.
    torch.testing.assert_close(GaussianLikelihood(3).log_prob(x, output), torch.tensor([-0.5 * (1 + 1 + 1)]))
    assert GaussianLikelihood(3).variance() is None and BernoulliLikelihood(3).variance() is None


def test_registry_holds_classes_the_estimators_ask():
    assert set(LIKELIHOODS) == {"gaussian", "lognormal", "bernoulli", "categorical", "poisson",
                                "negative_binomial"}
    assert "mean" in LIKELIHOODS["gaussian"].statistics and "mean" not in LIKELIHOODS["bernoulli"].statistics
    assert LIKELIHOODS["bernoulli"].support == (0.0, 1.0)
    with pytest.raises(ValueError, match=r'likelihood="bernoulli" needs X in \[0, 1\]; got min=0.5, max=2.*MinMaxScaler'):
        Schema.fit(np.zeros((1, 2)), "bernoulli").check(np.array([[0.5, 2.0]]), fitted=False)
    # A fitted model's likelihood changes only by a refit, which the advice names.
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\].*fitted with it.*refit with likelihood=\"gaussian\""):
        Schema.fit(np.zeros((1, 2)), "bernoulli").check(np.array([[0.5, 2.0]]))
    Schema.fit(np.zeros((1, 2)), "gaussian").check(np.array([[-3.0, 1e9]]))  # anything finite
    assert LIKELIHOODS["bernoulli"](7).n_parameters() == 7


def test_a_censored_gaussian_scores_a_bound_by_scipys_tail_probability(generator):
    """Tobit: on a censored bound, log P(at or beyond it), free of the density's change of units; past it, the density."""
    from skvae.nn.likelihoods import GaussianLikelihood

    loc, scale = np.array([5.0, 0.0]), np.array([2.0, 0.5])
    statistics = {"mean": loc, "scale": scale, "censor_low": [-np.inf, 0.0], "censor_high": [10.0, np.inf]}
    likelihood = GaussianLikelihood(2, statistics=statistics, censored=[(False, True), (True, False)],
                                    noise_variance="per_feature")
    with torch.no_grad():
        likelihood.raw_variance.copy_(torch.tensor([-1.0, 0.5]))
    x = torch.tensor([[10.0, 0.0], [12.0, -1.0], [7.0, 0.3], [2.0, 0.0]], dtype=torch.float64)
    _, target = likelihood.encode(x)
    mu = torch.randn(4, 2, generator=generator)
    sigma = torch.exp(0.5 * likelihood.log_variance()).detach().numpy()
    m, t = mu.numpy().astype(np.float64), target.numpy().astype(np.float64)
    bound_high, bound_low = (10.0 - loc[0]) / scale[0], (0.0 - loc[1]) / scale[1]
    # The rows' scores subtract sum(log scale) (densities of standardised values to X's
    # units); the likelihood adds it back for each censored entry.
    expected = np.stack([
        np.where(t[:, 0] == bound_high, stats.norm.logsf(bound_high, m[:, 0], sigma[0]) + np.log(scale[0]),
                 stats.norm.logpdf(t[:, 0], m[:, 0], sigma[0])),
        np.where(t[:, 1] == bound_low, stats.norm.logcdf(bound_low, m[:, 1], sigma[1]) + np.log(scale[1]),
                 stats.norm.logpdf(t[:, 1], m[:, 1], sigma[1])),
    ], 1)
    np.testing.assert_allclose(likelihood.log_prob(target, mu).detach().numpy(), expected.sum(1), rtol=1e-5)
    mask = torch.tensor([[1.0, 0.0]] * 4)
    np.testing.assert_allclose(likelihood.log_prob(target, mu, mask).detach().numpy(), expected[:, 0], rtol=1e-5)
    # What lies past a bound decodes as the bound, exactly; the rest as a Gaussian's values do.
    decoded = likelihood.to_values(torch.tensor([[3.0, -3.0], [0.5, 1.0]])).numpy()
    np.testing.assert_array_equal(decoded[0], [10.0, 0.0])
    np.testing.assert_allclose(decoded[1], [6.0, 0.5], rtol=1e-6)


def test_lognormal_log_prob_is_scipys_lognormal_density_of_one_plus_x(generator):
    """With loc 0 and scale 1 the target is log1p(x): the density is that of x in X's units."""
    from skvae.nn.likelihoods import LogNormalLikelihood

    likelihood = LogNormalLikelihood(4, noise_variance="per_feature").double()
    with torch.no_grad():
        likelihood.raw_variance.copy_(torch.randn(4, generator=generator))
    x = torch.rand(30, 4, generator=generator, dtype=torch.float64) * 50
    _, target = likelihood.encode(x)
    mu = torch.randn(30, 4, generator=generator, dtype=torch.float64)
    sigma = torch.exp(0.5 * likelihood.log_variance()).detach().numpy()
    expected = stats.lognorm.logpdf(1 + x.numpy(), s=sigma, scale=np.exp(mu.numpy())).sum(-1)
    np.testing.assert_allclose(likelihood.log_prob(target.double(), mu).detach().numpy(), expected, rtol=1e-5)
    # The point value, mean and mode alike, is the log-normal's median; no decoded value is negative.
    for point in (likelihood.mean(mu), likelihood.mode(mu)):
        np.testing.assert_allclose(likelihood.to_values(point).detach().numpy(),
                                   np.maximum(np.expm1(mu.numpy()), 0), rtol=1e-10)
    draws = likelihood.to_values(likelihood.sample(mu - 3, generator))
    assert draws.min() >= 0


def test_a_lognormal_column_is_a_gaussian_of_its_log1p_in_x_units():
    """Same fit as the Gaussian on log1p(X): equal codes, and scores apart by exactly the Jacobian."""
    from skvae import VAETransformer

    rng = np.random.RandomState(0)
    X = np.exp(rng.normal(1, 1, (200, 3)))
    settings = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=8, random_state=0)
    lognormal = VAETransformer(likelihood="lognormal", **settings).fit(X)
    gaussian = VAETransformer(likelihood="gaussian", **settings).fit(np.log1p(X))
    np.testing.assert_array_equal(lognormal.transform(X), gaussian.transform(np.log1p(X)))
    np.testing.assert_allclose(lognormal.score_samples(X),
                               gaussian.score_samples(np.log1p(X)) - np.log1p(X).sum(1), rtol=1e-6)
    # exp would turn a decoder's extrapolation into huge values: decoded values stay in the training range.
    far = lognormal.inverse_transform(np.array([[60.0, 60.0], [-60.0, -60.0], [60.0, -60.0], [-60.0, 60.0]]))
    assert np.all(far >= 0) and np.all(far <= X.max(0) * (1 + 1e-9))
    np.testing.assert_allclose(far.max(0), X.max(0))  # each column reaches its bound in some direction
    # Values below 0 are read as 0 by the encoder, and said so; scoring them is refused.
    with pytest.warns(UserWarning, match=r"fitted as lognormal on \[0, inf\], hold values from -4.87"):
        np.testing.assert_array_equal(lognormal.transform(X - 5), lognormal.transform(np.maximum(X - 5, 0)))
    message = r'likelihood="lognormal" needs X in \[0, inf\]; got min=-4.87.*refit with likelihood="gaussian"'
    with pytest.raises(ValueError, match=message):
        lognormal.score_samples(X - 5)


def test_a_lognormal_columns_variance_floor_is_measured_on_the_log_scale_with_or_without_holes():
    """A hole in the column must not measure the floor's step in X's units (1000 for rounded thousands)."""
    from skvae import VAETransformer

    rng = np.random.RandomState(0)
    X = np.round(rng.lognormal(10, 1.5, (300, 1)), -3)
    holed = X.copy()
    holed[0, 0] = np.nan
    settings = dict(likelihood="lognormal", latent_dim=1, hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    floors = [VAETransformer(**settings).fit(data).network_.columns.parts[0].log_min_variance
              for data in (X, holed)]
    np.testing.assert_allclose(floors[1].numpy(), floors[0].numpy(), atol=0.05)
    assert float(floors[1].exp()) < 1e-3


def test_encoder_input_is_the_value_within_the_bound_and_compressed_beyond():
    from skvae.nn.likelihoods.base import INPUT_BOUND, encoder_input

    inside = torch.linspace(-INPUT_BOUND, INPUT_BOUND, 1001)
    assert torch.equal(encoder_input(inside), inside)
    values = torch.linspace(-1e6, 1e6, 200001)
    read = encoder_input(values)
    assert torch.all(torch.diff(read) > 0)  # order kept: rare values stay apart
    assert read.abs().max() < INPUT_BOUND + 15  # 1e6 standard deviations read as about 24


def test_a_plain_row_beyond_the_bound_gets_its_own_targets():
    # The encoder reads such a row compressed, the likelihood must score the value itself.
    from skvae.nn import ColumnCodec

    codec = ColumnCodec(["gaussian", "gaussian"])  # loc 0, scale 1: values are their standardised selves
    near = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    far = torch.tensor([[0.5, -200.0]], dtype=torch.float64)
    assert codec.encode(near)[1] is None
    inputs, targets, mask = codec.encode(far)
    assert float(inputs[0, 1]) == pytest.approx(-(10 + math.log1p(190)), rel=1e-6)
    assert float(targets[0, 1]) == -200.0
