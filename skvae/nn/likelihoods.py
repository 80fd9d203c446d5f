"""Observation models p(x | z), and the registry the estimators' ``likelihood`` names.

A likelihood turns the decoder's output for each row into a log-likelihood
of that row (summed over its observed features, never averaged over rows,
so that the caller decides how a batch is reduced), into the row's expected
values, and into draws. The estimators never test a likelihood's name: they
ask the class or its instance.

Adding a likelihood is one class here and one line in ``LIKELIHOODS``:

* class attributes: ``input`` (what the estimator hands the encoder for
  such a column: ``"standardised"`` values, the ``"values"`` as they are,
  standardised ``"log1p"`` counts, or a ``"one_hot"`` code), ``support``
  (the interval the values must lie in, with ``support_hint``: what to do
  otherwise) and ``discrete``;
* ``__init__(n_features, **options)``, ignoring options it does not use;
* ``n_parameters()``: decoder outputs per row;
* ``log_prob(x, params, mask=None)``, ``mean(params)``,
  ``sample(params, generator)`` and, optionally, ``variance()``.

``mask`` marks observed entries (1) and missing ones (0): a missing entry
adds nothing to a row's log-likelihood, so the bound is one on the
probability of what was observed.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_2PI = math.log(2.0 * math.pi)

# Floor on a learned Gaussian variance, in standardised units: the noise
# standard deviation stays above 0.1% of the feature's.
MIN_VARIANCE = 1e-6


def gaussian_log_prob(x, mean, log_var):
    """Log-density of ``N(mean, diag(exp(log_var)))`` at ``x``, summed over the last axis."""
    return -0.5 * (LOG_2PI + log_var + (x - mean).square() * torch.exp(-log_var)).sum(-1)


def bernoulli_log_prob(x, logits):
    """Bernoulli log-likelihood of ``x`` in [0, 1] given logits, summed over the last axis.

    For ``x`` strictly between 0 and 1 this is the negative binary
    cross-entropy, the usual VAE objective for grey-level images, rather than
    a normalised density.
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def _masked_sum(terms, mask):
    return terms.sum(-1) if mask is None else (terms * mask).sum(-1)


class Likelihood(nn.Module):
    """Base class of the observation models; see the module docstring for the interface."""

    input = "values"
    support = (-math.inf, math.inf)
    support_hint = ""
    discrete = False

    def __init__(self, n_features, **options):
        super().__init__()
        self.n_features = n_features

    @property
    def standardises(self):
        return self.input in ("standardised", "log1p")

    def n_parameters(self):
        """Decoder outputs per row."""
        return self.n_features

    def log_prob(self, x, params, mask=None):
        raise NotImplementedError

    def mean(self, params):
        raise NotImplementedError

    def sample(self, params, generator):
        """A draw of x from p(x | z) for each row."""
        raise NotImplementedError

    def variance(self):
        """Learned per-feature noise variance, in the units the model sees x in; or None."""
        return None


class GaussianLikelihood(Likelihood):
    """Gaussian p(x | z) with a learned variance that does not depend on z.

    With a linear decoder the model is then exactly probabilistic PCA
    (``noise_variance="isotropic"``) or factor analysis (``"per_feature"``).
    ``noise_variance=None`` fixes the variance at 1 and drops the constant:
    ``log_prob`` is then minus half the squared error, the plain
    autoencoder's loss.

    Parameters
    ----------
    n_features : int
        Dimension of x.

    noise_variance : {"per_feature", "isotropic"} or None
        One learned variance per feature, one shared, or none.

    log_scale : tensor of shape (n_features,) or None
        Log of each feature's scale when x arrives standardised. A shared
        variance is shared in the original units, as probabilistic PCA's
        is: in standardised units feature j gets ``variance * (mean_scale /
        scale_j)**2`` with the geometric mean of the scales.

    min_variance : float, tensor of shape (n_features,) or None, default=1e-6
        Floor added to the learned variance of each feature (in the units
        the model sees x in), so that a constant feature cannot send the
        likelihood to infinity; values below 1e-6 are raised to it.
    """

    input = "standardised"

    def __init__(self, n_features, *, noise_variance=None, log_scale=None, min_variance=MIN_VARIANCE,
                 **options):
        super().__init__(n_features)
        if noise_variance is None:
            self.raw_variance = None
            return
        shared = noise_variance == "isotropic"
        # Starts at variance ~1: the estimators standardise x before training.
        self.raw_variance = nn.Parameter(torch.zeros(1 if shared else n_features, dtype=torch.float32))
        floor = torch.as_tensor(MIN_VARIANCE if min_variance is None else min_variance, dtype=torch.float32)
        floor = floor.clamp_min(MIN_VARIANCE)
        self.register_buffer("log_min_variance", torch.log(floor).expand(n_features).clone())
        offset = torch.zeros(n_features, dtype=torch.float32)
        if shared and log_scale is not None:
            log_scale = torch.as_tensor(log_scale, dtype=torch.float32)
            offset = 2.0 * (log_scale.mean() - log_scale)
        self.register_buffer("log_variance_offset", offset)

    def log_variance(self):
        # log(min_variance + exp(raw + offset)): a smooth floor that keeps its gradient.
        raw = self.raw_variance + self.log_variance_offset
        return self.log_min_variance + F.softplus(raw - self.log_min_variance)

    def log_prob(self, x, params, mask=None):
        if self.raw_variance is None:
            if mask is None:
                return -0.5 * (x - params).square().sum(-1)
            return _masked_sum(-0.5 * (x - params).square(), mask)
        if mask is None:
            return gaussian_log_prob(x, params, self.log_variance())
        log_var = self.log_variance()
        return _masked_sum(-0.5 * (LOG_2PI + log_var + (x - params).square() * torch.exp(-log_var)), mask)

    def mean(self, params):
        return params

    def sample(self, params, generator):
        std = torch.ones_like(params) if self.raw_variance is None else torch.exp(0.5 * self.log_variance())
        return params + std * torch.randn(params.shape, generator=generator, device=params.device,
                                          dtype=params.dtype)

    def variance(self):
        if self.raw_variance is None:
            return None
        return torch.exp(self.log_variance())


class BernoulliLikelihood(Likelihood):
    """Bernoulli p(x | z) whose decoder output is the logit of each feature."""

    support = (0.0, 1.0)
    support_hint = 'Scale X (e.g. MinMaxScaler) or use likelihood="gaussian".'

    def log_prob(self, x, params, mask=None):
        if mask is None:
            return bernoulli_log_prob(x, params)
        return _masked_sum(-F.binary_cross_entropy_with_logits(params, x, reduction="none"), mask)

    def mean(self, params):
        return torch.sigmoid(params)

    def sample(self, params, generator):
        return torch.bernoulli(torch.sigmoid(params), generator=generator)


class CategoricalLikelihood(Likelihood):
    """One categorical distribution per feature; the decoder gives each category's logit.

    x holds each feature's category index (0 to k-1, as floats).

    Parameters
    ----------
    n_features : int
        Categorical features.

    n_categories : sequence of int
        Categories of each feature; the decoder outputs their sum.
    """

    input = "one_hot"
    discrete = True

    def __init__(self, n_features, *, n_categories=None, **options):
        super().__init__(n_features)
        self.n_categories = [int(k) for k in (n_categories or [2] * n_features)]
        bounds = torch.tensor([0, *torch.tensor(self.n_categories).cumsum(0).tolist()])
        self.register_buffer("bounds", bounds)

    def n_parameters(self):
        return sum(self.n_categories)

    def _groups(self, params):
        return params.split(self.n_categories, dim=-1)

    def log_prob(self, x, params, mask=None):
        terms = []
        for column, logits in enumerate(self._groups(params)):
            index = x[..., column : column + 1].long().clamp(0, logits.shape[-1] - 1)
            terms.append(torch.log_softmax(logits, -1).gather(-1, index))
        return _masked_sum(torch.cat(terms, -1), mask)

    def mean(self, params):
        """Each feature's most probable category."""
        return torch.stack([logits.argmax(-1).to(params.dtype) for logits in self._groups(params)], -1)

    def probabilities(self, params):
        return [torch.softmax(logits, -1) for logits in self._groups(params)]

    def sample(self, params, generator):
        draws = []
        for probabilities in self.probabilities(params):
            flat = probabilities.reshape(-1, probabilities.shape[-1])
            draw = torch.multinomial(flat, 1, generator=generator).reshape(probabilities.shape[:-1])
            draws.append(draw.to(params.dtype))
        return torch.stack(draws, -1)


class PoissonLikelihood(Likelihood):
    """Poisson counts; the decoder gives each feature's log-rate."""

    input = "log1p"
    support = (0.0, math.inf)
    support_hint = 'Counts cannot be negative; use likelihood="gaussian" for real values.'
    discrete = True

    def log_prob(self, x, params, mask=None):
        terms = x * params - torch.exp(params) - torch.lgamma(x + 1.0)
        return _masked_sum(terms, mask)

    def mean(self, params):
        return torch.exp(params)

    def sample(self, params, generator):
        return torch.poisson(torch.exp(params), generator=generator)


class NegativeBinomialLikelihood(Likelihood):
    """Negative binomial counts with a learned dispersion per feature, as scvi-tools models counts.

    The decoder gives each feature's log-mean mu; ``theta`` (the inverse
    dispersion, learned per feature) sets the variance ``mu + mu**2 / theta``:
    over-dispersed counts, which a Poisson (variance mu) cannot fit.
    """

    input = "log1p"
    support = (0.0, math.inf)
    support_hint = 'Counts cannot be negative; use likelihood="gaussian" for real values.'
    discrete = True

    def __init__(self, n_features, **options):
        super().__init__(n_features)
        self.log_theta = nn.Parameter(torch.zeros(n_features, dtype=torch.float32))

    def log_prob(self, x, params, mask=None):
        log_theta = self.log_theta
        theta = torch.exp(log_theta)
        log_total = torch.logaddexp(log_theta, params)  # log(theta + mu)
        terms = (
            torch.lgamma(x + theta) - torch.lgamma(theta) - torch.lgamma(x + 1.0)
            + theta * (log_theta - log_total) + x * (params - log_total)
        )
        return _masked_sum(terms, mask)

    def mean(self, params):
        return torch.exp(params)

    def sample(self, params, generator):
        # A gamma-Poisson mixture: rate ~ Gamma(theta, theta / mu).
        theta = torch.exp(self.log_theta).expand_as(params)
        rate = _standard_gamma(theta, generator) * torch.exp(params) / theta
        return torch.poisson(rate, generator=generator)

    def variance(self):
        return None


def _standard_gamma(alpha, generator):
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


class MixedLikelihood(Likelihood):
    """One likelihood per group of columns, summed: a row of mixed types.

    Parameters
    ----------
    parts : list of (Likelihood, int, int)
        Each part, the number of x columns and of decoder outputs it reads,
        in order: x and the decoder output are the parts' columns side by
        side.
    """

    def __init__(self, parts):
        super().__init__(sum(width for _, width, _ in parts))
        self.parts = nn.ModuleList(part for part, _, _ in parts)
        self.widths = [width for _, width, _ in parts]
        self.outputs = [outputs for _, _, outputs in parts]

    def n_parameters(self):
        return sum(self.outputs)

    def _split(self, x, params):
        return zip(self.parts, x.split(self.widths, -1), params.split(self.outputs, -1))

    def log_prob(self, x, params, mask=None):
        masks = [None] * len(self.parts) if mask is None else mask.split(self.widths, -1)
        return sum(part.log_prob(xs, ps, m) for (part, xs, ps), m in zip(self._split(x, params), masks))

    def mean(self, params):
        return torch.cat([part.mean(ps) for part, ps in zip(self.parts, params.split(self.outputs, -1))], -1)

    def sample(self, params, generator):
        return torch.cat(
            [part.sample(ps, generator) for part, ps in zip(self.parts, params.split(self.outputs, -1))], -1
        )


LIKELIHOODS = {
    "gaussian": GaussianLikelihood,
    "bernoulli": BernoulliLikelihood,
    "categorical": CategoricalLikelihood,
    "poisson": PoissonLikelihood,
    "negative_binomial": NegativeBinomialLikelihood,
}
