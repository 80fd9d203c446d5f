"""Observation models p(x | z), and the registry the estimators' ``likelihood`` names.

A likelihood turns the decoder's output for each row into a log-likelihood
of that row (summed over features, never averaged over rows, so that the
caller decides how a batch is reduced) and into the row's expected value.
The estimators never test a likelihood's name: they ask the class or its
instance.

Adding a likelihood is one class here and one line in ``LIKELIHOODS``:

* class attributes ``standardises`` (whether the estimator standardises each
  feature of X, with its mean and standard deviation, before the model sees
  it, and maps outputs back) and ``support`` (the interval X's values must
  lie in, with ``support_hint``, what to do otherwise);
* ``__init__(n_features, **options)``, ignoring options it does not use;
* ``n_parameters()``: decoder outputs per row;
* ``log_prob(x, params)``, ``mean(params)`` and, optionally, ``variance()``.
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


class Likelihood(nn.Module):
    """Base class of the observation models; see the module docstring for the interface."""

    standardises = False
    support = (-math.inf, math.inf)
    support_hint = ""

    def __init__(self, n_features, **options):
        super().__init__()
        self.n_features = n_features

    def n_parameters(self):
        """Decoder outputs per row."""
        return self.n_features

    def log_prob(self, x, params):
        raise NotImplementedError

    def mean(self, params):
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

    standardises = True

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

    def log_prob(self, x, params):
        if self.raw_variance is None:
            return -0.5 * (x - params).square().sum(-1)
        return gaussian_log_prob(x, params, self.log_variance())

    def mean(self, params):
        return params

    def variance(self):
        if self.raw_variance is None:
            return None
        return torch.exp(self.log_variance())


class BernoulliLikelihood(Likelihood):
    """Bernoulli p(x | z) whose decoder output is the logit of each feature."""

    support = (0.0, 1.0)
    support_hint = 'Scale X (e.g. MinMaxScaler) or use likelihood="gaussian".'

    def log_prob(self, x, params):
        return bernoulli_log_prob(x, params)

    def mean(self, params):
        return torch.sigmoid(params)


LIKELIHOODS = {
    "gaussian": GaussianLikelihood,
    "bernoulli": BernoulliLikelihood,
}
