"""Observation models p(x | z) and the Gaussian KL term, in pure torch.

Every log-density here is per sample: summed over the feature (or latent)
axis, never averaged over rows, so that callers decide how a batch is reduced.
That is the scaling the ELBO needs: reconstruction and KL both summed over
dimensions, then averaged over the batch.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_2PI = math.log(2.0 * math.pi)


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


def standard_normal_log_prob(z):
    """Log-density of ``N(0, I)`` at ``z``, summed over the last axis."""
    return -0.5 * (LOG_2PI + z.square()).sum(-1)


def kl_to_standard_normal(mu, log_var):
    """``KL(N(mu, diag(exp(log_var))) || N(0, I))`` per latent dimension (not summed)."""
    return 0.5 * (mu.square() + torch.exp(log_var) - 1.0 - log_var)


class GaussianLikelihood(nn.Module):
    """Gaussian p(x | z) with a learned, homoscedastic observation variance.

    The variance does not depend on z: with a linear decoder the model is then
    exactly probabilistic PCA (``shared_variance=True``) or factor analysis
    (one variance per feature).

    Parameters
    ----------
    n_features : int
        Dimension of x.
    shared_variance : bool
        One variance for all features instead of one per feature.
    min_variance : float
        Floor added to the learned variance, so that a constant feature cannot
        send the likelihood to infinity.
    log_scale : tensor of shape (n_features,) or None
        When x arrives standardised, the log of each feature's scale. A
        shared variance is then shared in the original units, as
        probabilistic PCA's is: in standardised units feature j gets
        ``variance * exp(2 * (mean(log_scale) - log_scale[j]))``.
    """

    def __init__(self, n_features, *, shared_variance, min_variance, log_scale=None):
        super().__init__()
        # Starts at variance ~1: the estimators standardise x before training.
        self.raw_variance = nn.Parameter(
            torch.zeros(1 if shared_variance else n_features, dtype=torch.float32)
        )
        self.log_min_variance = math.log(min_variance)
        offset = torch.zeros(n_features, dtype=torch.float32)
        if shared_variance and log_scale is not None:
            log_scale = torch.as_tensor(log_scale, dtype=torch.float32)
            offset = 2.0 * (log_scale.mean() - log_scale)
        self.register_buffer("log_variance_offset", offset)

    def log_variance(self):
        # log(min_variance + exp(raw)): a smooth floor that keeps its gradient.
        floored = self.log_min_variance + F.softplus(self.raw_variance - self.log_min_variance)
        return floored + self.log_variance_offset

    def log_prob(self, x, decoder_output):
        return gaussian_log_prob(x, decoder_output, self.log_variance())

    def mean(self, decoder_output):
        return decoder_output


class BernoulliLikelihood(nn.Module):
    """Bernoulli p(x | z) whose decoder output is the logit of each feature."""

    def log_prob(self, x, decoder_output):
        return bernoulli_log_prob(x, decoder_output)

    def mean(self, decoder_output):
        return torch.sigmoid(decoder_output)


class SquaredErrorLikelihood(nn.Module):
    """Gaussian p(x | z) with unit variance, without its constant: ``-0.5 * ||x - mean||^2``.

    The plain autoencoder's squared-error loss, written as a likelihood so
    both estimators share one interface.
    """

    def log_prob(self, x, decoder_output):
        return -0.5 * (x - decoder_output).square().sum(-1)

    def mean(self, decoder_output):
        return decoder_output
