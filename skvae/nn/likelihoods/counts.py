"""Count columns: Poisson, and negative binomial for over-dispersed counts."""

import torch
from torch import nn
from torch.nn import functional as F

from .base import Likelihood, encoder_input, masked_sum, standardised


class CountLikelihood(Likelihood):
    """What the count likelihoods share: the encoder reads standardised ``log1p`` counts.

    The likelihood scores the raw counts; the decoder gives each feature's
    log-mean. The discriminator compares ``log1p`` of counts with a smooth
    stand-in for ``log1p`` of the mean, whose raw scale would swamp other
    columns.
    """

    support = (0.0, float("inf"))
    support_hint = 'Counts cannot be negative; use likelihood="gaussian" for real values.'
    inputs_clamped = True  # the encoder reads log1p(max(x, 0))
    discrete = True
    statistics = ("mean", "scale")
    targets_are_inputs = False

    def __init__(self, n_features, *, statistics=None, **options):
        super().__init__(n_features, statistics=statistics)
        mean = torch.zeros(n_features) if statistics is None else torch.as_tensor(statistics["mean"])
        scale = torch.ones(n_features) if statistics is None else torch.as_tensor(statistics["scale"])
        self.register_buffer("input_loc", mean.double())
        self.register_buffer("input_scale", scale.double())

    @staticmethod
    def transform_input(values):
        return torch.log1p(values.clamp_min(0))

    def encode(self, values):
        return encoder_input(standardised(self.transform_input(values), self.input_loc, self.input_scale)), values.float()

    def mean(self, params):
        return torch.exp(params)

    def initial_output_bias(self):
        # Each column's typical count (log1p's mean, undone): from a rate of 1, counts near
        # 1,000 were still decoded at 12 after 20 epochs (a review's probe). Never below a rate
        # of 1: sparse counts (1% nonzero) started at 0.014, where each nonzero entry pulled
        # with its whole count and the zeros pushed back with next to nothing; the encoder
        # threw a few rows' codes hundreds of standard deviations out to single them out, and
        # exp of their decoded log-rates overflowed in the first epoch (NaN from 5,000 rows).
        return torch.log(torch.expm1(self.input_loc).clamp_min(1.0)).float()

    def squared_error(self, target, params):
        """The error of the mean count on the standardised ``log1p`` scale the encoder reads counts on."""
        observed = (self.transform_input(target.double()) - self.input_loc) / self.input_scale
        expected = (self.transform_input(self.pinned_mean(params)) - self.input_loc) / self.input_scale
        return (observed - expected).square()

    def view(self, params):
        return F.softplus(params)

    def observed_view(self, target):
        return torch.log1p(target)


class PoissonLikelihood(CountLikelihood):
    """Poisson counts; the decoder gives each feature's log-rate. ``mode`` is ``floor(rate)``."""

    def log_prob(self, target, params, mask=None):
        # In float64, training too: the terms are each about count x log-rate and cancel to a few
        # nats; in float32 from counts near 1e7 that left noise (a loss below zero, a negative
        # binomial decoding 1e8 counts at 1.44e8).
        target, log_rate = target.double(), params.double()
        terms = target * log_rate - torch.exp(log_rate) - torch.lgamma(target + 1.0)
        return masked_sum(terms, mask).to(params.dtype)

    def mode(self, params):
        return torch.floor(torch.exp(params))

    def sample(self, params, generator):
        return poisson(torch.exp(params), generator)


class NegativeBinomialLikelihood(CountLikelihood):
    """Negative binomial counts with a learned dispersion per feature, as scvi-tools models counts.

    The decoder gives each feature's log-mean mu; ``theta`` (the inverse
    dispersion, learned per feature) sets the variance ``mu + mu**2 / theta``:
    over-dispersed counts, which a Poisson (variance mu) cannot fit.
    ``mode`` is ``floor(mu (theta - 1) / theta)``, 0 for theta <= 1.
    """

    def __init__(self, n_features, **options):
        super().__init__(n_features, **options)
        self.log_theta = nn.Parameter(torch.zeros(n_features, dtype=torch.float32))

    def log_prob(self, target, params, mask=None):
        target, log_mean, log_theta = target.double(), params.double(), self.log_theta.double()  # see Poisson's
        theta = torch.exp(log_theta)
        log_total = torch.logaddexp(log_theta, log_mean)  # log(theta + mu)
        terms = (
            torch.lgamma(target + theta) - torch.lgamma(theta) - torch.lgamma(target + 1.0)
            + theta * (log_theta - log_total) + target * (log_mean - log_total)
        )
        return masked_sum(terms, mask).to(params.dtype)

    def mode(self, params):
        theta = torch.exp(self.log_theta).to(params.dtype)
        return torch.floor(torch.exp(params) * (theta - 1.0).clamp_min(0) / theta)

    def sample(self, params, generator):
        # A gamma-Poisson mixture: rate ~ Gamma(theta, theta / mu).
        theta = torch.exp(self.log_theta).expand_as(params).to(params.dtype)
        rate = standard_gamma(theta, generator) * torch.exp(params) / theta
        return poisson(rate, generator)


# torch.poisson draws through a 64-bit integer: from 2**63 on it returns -2**63 (which clipping to the
# column's range made its smallest value, in every row). There a Poisson's relative spread is below
# 1e-9, and its normal approximation, N(rate, rate), is exact to far below float64's resolution.
POISSON_LIMIT = 2.0**62


def poisson(rate, generator):
    """Poisson draws of ``rate`` from ``generator``; rates past ``POISSON_LIMIT`` by the normal approximation."""
    beyond = rate > POISSON_LIMIT
    draws = torch.poisson(torch.where(beyond, torch.zeros_like(rate), rate), generator=generator)
    if bool(beyond.any()):  # only then a draw more: other rates' draws are as they were
        noise = torch.randn(rate.shape, generator=generator, device=rate.device, dtype=rate.dtype)
        draws = torch.where(beyond, torch.round(rate + noise * torch.sqrt(rate)), draws)
    return draws


def standard_gamma(alpha, generator):
    """Gamma(alpha, 1) draws from ``generator`` (Marsaglia & Tsang 2000); torch's own takes none."""
    boost = alpha < 1
    shape = torch.where(boost, alpha + 1.0, alpha)
    d = shape - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    out = torch.empty_like(alpha)
    todo = torch.ones_like(alpha, dtype=torch.bool)
    while todo.any():
        x = torch.randn(alpha.shape, generator=generator, device=alpha.device, dtype=alpha.dtype)
        u = torch.rand(alpha.shape, generator=generator, device=alpha.device, dtype=alpha.dtype)
        v = (1.0 + c * x) ** 3
        accept = (v > 0) & (torch.log(u) < 0.5 * x**2 + d - d * v + d * torch.log(v.clamp_min(1e-30)))
        take = todo & accept
        out = torch.where(take, d * v, out)
        todo = todo & ~accept
    if boost.any():
        u = torch.rand(alpha.shape, generator=generator, device=alpha.device, dtype=alpha.dtype)
        out = torch.where(boost, out * u ** (1.0 / alpha), out)
    return out
