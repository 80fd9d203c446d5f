"""Latent variables: the head on the encoder's features, the draw of z, its penalty and bound.

A latent module maps the encoder's features to its parameters (``forward``),
gives the deterministic code of those parameters (``code``, ``latent_dim``
values: what ``transform`` returns) and the code the decoder reconstructs
a row from (``reconstruction_code``, the same but for a VQ-VAE), draws the code a training step decodes
together with its term of the training loss (``training_sample``; by
default ``rsample`` and ``penalty``; the term is named ``term_name``),
draws codes from its prior for ``sample`` (``draw``) and, when it defines a
probabilistic model, gives a per-row bound on log p(x) (``bound``). The
decoder reads the first ``decoder_dim`` values of a code (all of them, but
for a hierarchy saved when its decoder read the bottom layer alone).
"""

import math

import numpy as np
import torch
from scipy import special
from torch import nn

from .layers import EVAL_ROW_MULTIPLE, Linear, row_mean

LOG_2PI = math.log(2.0 * math.pi)

# The encoder's log-variance is clamped to this range. Far outside the
# training data (an outlier a thousand standard deviations out) a ReLU
# encoder's log-variance grows with the input, and exp() of it overflows
# float32 past 88: scores became inf - inf = NaN. Variances of e^-30 to e^30
# prior units bound every posterior a trained model uses, and the clamped q
# is still a distribution, so the ELBO stays a bound.
LOG_VARIANCE_RANGE = (-30.0, 30.0)

# bound decodes several draws in one batch of at most this many rows: one
# row's 16 draws cost one pass, not 16, and every batch keeps to the sizes
# whose rounding is known not to depend on a row's place (a multiple of
# EVAL_ROW_MULTIPLE rows, skvae.nn.layers).
DECODE_BATCH_ROWS = 1024

# Components of the mixture a Gaussian latent's ``draw`` samples (Ghosh et
# al. 2020 fit 10 to an autoencoder's codes). N(0, I) leaves holes a model's
# codes do not fill and fills regions they leave empty: VAETransformer on
# load_digits (8 dimensions, two seeds) drew digits an SVC of the real ones
# named with a mean confidence of 0.76 from N(0, I) and 0.92 from the
# mixture, and the commonest class took 22-24% of the rows, against 12-13%
# (skvae._prior's final mixture).
MIXTURE_COMPONENTS = 10


def first_rows(params, n_rows):
    """The first ``n_rows`` rows of every tensor in a latent's parameters (a tensor, or tuples of them)."""
    if isinstance(params, torch.Tensor):
        return params[:n_rows]
    return type(params)(first_rows(p, n_rows) for p in params)


def draw_batches(noise):
    """``noise`` padded with zero draws, and how many draws to decode at once, for ``bound``.

    ``noise`` is ``(n_draws, rows, latent_dim)``. A batch of draws decodes
    as one matrix of ``draws x rows`` rows, and that count must be a
    multiple of ``EVAL_ROW_MULTIPLE`` for a row's bits not to depend on it:
    an evaluation chunk's rows are (skvae._data), but a call of one row
    decodes only that row's draws (``skvae._random.RowNoise``), 16 of them,
    so they are padded to 32 with zero draws, whose results the caller
    drops. Returns the padded noise and the draws per batch.
    """
    n_draws, n_rows = noise.shape[:2]
    # Draws per EVAL_ROW_MULTIPLE rows: 1 for a whole evaluation chunk.
    unit = EVAL_ROW_MULTIPLE // math.gcd(n_rows, EVAL_ROW_MULTIPLE)
    per_batch = max(unit, DECODE_BATCH_ROWS // n_rows // unit * unit)
    n_padded = -(-n_draws // unit) * unit
    if n_padded > n_draws:
        noise = torch.cat([noise, noise.new_zeros((n_padded - n_draws, *noise.shape[1:]))])
    return noise, per_batch


def standard_normal_log_prob(z):
    """Log-density of ``N(0, I)`` at ``z``, summed over the last axis."""
    return -0.5 * (LOG_2PI + z.square()).sum(-1)


def kl_to_standard_normal(mu, log_var):
    """``KL(N(mu, diag(exp(log_var))) || N(0, I))`` per latent dimension (not summed)."""
    return 0.5 * (mu.square() + torch.exp(log_var) - 1.0 - log_var)


def gaussian_kl(q, p):
    """``KL(N(q_mu, exp(q_log_var)) || N(p_mu, exp(p_log_var)))`` per dimension (not summed)."""
    (q_mu, q_log_var), (p_mu, p_log_var) = q, p
    return 0.5 * (p_log_var - q_log_var + (torch.exp(q_log_var) + (q_mu - p_mu).square()) * torch.exp(-p_log_var)
                  - 1.0)


class Latent(nn.Module):
    """What every latent shares: its sizes, and a training draw made of ``rsample`` and ``penalty``."""

    term_name = None  # the name of the latent's own term of the training loss

    def __init__(self, latent_dim, decoder_dim=None):
        super().__init__()
        self.latent_dim = latent_dim
        self.decoder_dim = latent_dim if decoder_dim is None else decoder_dim

    def reconstruction_code(self, params):
        """The code whose decoding is the model's own reconstruction of a row: ``code``, but for a latent
        whose decoder trained on other codes (a VQ-VAE's codebook vectors)."""
        return self.code(params)

    def training_sample(self, params, generator, **penalty_options):
        """The code a training step decodes, and the latent's term of the loss (or None).

        ``penalty_options`` hold the rows' ``weight`` (``Batch.weight``) and the family's own options.
        """
        return self.rsample(params, generator), self.penalty(params, **penalty_options)

    def encoding_gap(self, target, params):
        """How far each row's latent parameters ``params`` are from ``target``, summed over dimensions."""
        raise NotImplementedError(f"{type(self).__name__} cannot learn an encoding without the condition.")

    def draw(self, n_samples, rng):
        """``n_samples`` draws for ``sample``, float64 numpy, from the RandomState ``rng``.

        They are codes (from the prior, or from what a latent fitted to the
        training codes), or, for a latent whose prior needs
        its networks (a hierarchy), standard normals that ``from_prior``
        turns into codes.
        """
        return rng.standard_normal((n_samples, self.latent_dim))

    def from_prior(self, draws):
        """Codes from the tensor of what ``draw`` gave."""
        return draws


class DeterministicLatent(Latent):
    """A code z = W h + b: the plain autoencoder's latent, with no penalty.

    It has no prior of its own: ``draw`` samples the Gaussian fitted to the
    training codes (``fit_prior``), its buffers ``code_mean`` and
    ``code_covariance``.
    """

    def __init__(self, in_features, latent_dim, *, activation="relu", generator=None):
        super().__init__(latent_dim)
        self.head = Linear(in_features, latent_dim, activation=activation, generator=generator)
        self.register_buffer("code_mean", torch.zeros(latent_dim, dtype=torch.float64))
        self.register_buffer("code_covariance", torch.eye(latent_dim, dtype=torch.float64))

    def fit_prior(self, mean, covariance):
        # On the module's device, where its other buffers are (a GPU model's stayed on the CPU).
        device = self.code_mean.device
        self.code_mean = torch.as_tensor(mean, dtype=torch.float64, device=device)
        self.code_covariance = torch.as_tensor(covariance, dtype=torch.float64, device=device)

    def draw(self, n_samples, rng):
        return rng.multivariate_normal(self.code_mean.cpu().numpy(), self.code_covariance.cpu().numpy(),
                                       size=n_samples)

    def forward(self, features):
        return self.head(features)

    def code(self, params):
        return params

    def rsample(self, params, generator):
        return params

    def penalty(self, params, weight=None):
        return None


class GaussianLatent(Latent):
    """q(z | x) = N(mu, diag(exp(log_var))) with the prior N(0, I) (Kingma & Welling 2014).

    One affine head gives both mu and log_var; z is drawn with the
    reparameterisation trick. The bound uses the prior N(0, I); ``draw``
    samples the Gaussian mixture fitted to the training codes
    (``fit_mixture``: its buffers ``mixture_weights``, ``mixture_means``
    and ``mixture_factors``, the Cholesky factors of the covariances, at
    most ``MIXTURE_COMPONENTS``, unused ones of weight 0), and N(0, I) until
    one is fitted (``mixture_fitted``).
    """

    term_name = "kl"

    def __init__(self, in_features, latent_dim, *, activation="relu", generator=None):
        super().__init__(latent_dim)
        self.head = Linear(in_features, 2 * latent_dim, activation=activation, generator=generator)
        self.register_buffer("mixture_fitted", torch.tensor(False))
        self.register_buffer("mixture_weights", torch.zeros(MIXTURE_COMPONENTS, dtype=torch.float64))
        self.register_buffer("mixture_means", torch.zeros(MIXTURE_COMPONENTS, latent_dim, dtype=torch.float64))
        self.register_buffer("mixture_factors",
                             torch.eye(latent_dim, dtype=torch.float64).repeat(MIXTURE_COMPONENTS, 1, 1))

    def fit_mixture(self, weights, means, covariances):
        """Sample from the mixture of Gaussians ``weights``, ``means``, ``covariances`` (float64 numpy)."""
        n_components = len(weights)
        self.mixture_weights = torch.zeros_like(self.mixture_weights)
        self.mixture_weights[:n_components] = torch.as_tensor(weights, dtype=torch.float64)
        self.mixture_means = torch.zeros_like(self.mixture_means)
        self.mixture_means[:n_components] = torch.as_tensor(means, dtype=torch.float64)
        factors = torch.linalg.cholesky(torch.as_tensor(covariances, dtype=torch.float64))
        self.mixture_factors = self.mixture_factors.clone()
        self.mixture_factors[:n_components] = factors
        self.mixture_fitted = torch.tensor(True, device=self.mixture_fitted.device)

    def clear_mixture(self):
        """Sample from N(0, I) again."""
        self.mixture_fitted = torch.zeros_like(self.mixture_fitted)

    def draw(self, n_samples, rng):
        if not bool(self.mixture_fitted):
            return rng.standard_normal((n_samples, self.latent_dim))
        # Each row's component from one more normal of its own, so that a row's draw is the
        # same whatever n_samples is (the first rows of sample(5) are those of sample(500)).
        normals = rng.standard_normal((n_samples, self.latent_dim + 1))
        weights = self.mixture_weights.cpu().numpy()
        edges = np.cumsum(weights / weights.sum())
        components = np.minimum(np.searchsorted(edges, special.ndtr(normals[:, -1]), side="right"),
                                np.flatnonzero(weights)[-1])
        draws = np.ascontiguousarray(normals[:, :-1])
        means, factors = self.mixture_means.cpu().numpy(), self.mixture_factors.cpu().numpy()
        for k in np.unique(components):
            rows = components == k
            draws[rows] = means[k] + draws[rows] @ factors[k].T
        return draws

    def forward(self, features):
        mu, log_var = self.head(features).chunk(2, dim=-1)
        return mu, log_var.clamp(*LOG_VARIANCE_RANGE)

    def code(self, params):
        return params[0]

    def rsample(self, params, generator):
        mu, log_var = params
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + noise * torch.exp(0.5 * log_var)

    def kl(self, params):
        """KL of each row's posterior to the prior, per latent dimension."""
        return kl_to_standard_normal(*params)

    def encoding_gap(self, target, params):
        """``KL(target || params)`` of each row, summed over dimensions: how far ``params`` is from ``target``."""
        return gaussian_kl(target, params).sum(-1)

    def penalty(self, params, *, kl_weight=1.0, free_bits=0.0, weight=None):
        """``kl_weight`` times the KL summed over dimensions, averaged over the batch (rows by ``weight``).

        With ``free_bits`` each dimension's batch-mean KL is clamped from
        below at that many nats (Kingma et al. 2016).
        """
        kl = self.kl(params)
        if free_bits > 0:
            kl_term = row_mean(kl, weight).clamp(min=free_bits).sum()
        else:
            kl_term = row_mean(kl.sum(-1), weight)
        return kl_weight * kl_term

    def bound(self, params, noise, n_importance, log_likelihood):
        """Per-row ELBO (``n_importance=1``) or IWAE bound (Burda et al. 2016).

        ``noise`` holds standard-normal draws of shape ``(n_draws, rows,
        latent_dim)``, ``n_draws`` a multiple of ``n_importance``; the bound
        is averaged over the ``n_draws / n_importance`` groups. It is
        computed for the first ``rows`` rows of ``params`` (the others pad
        an evaluation chunk). ``log_likelihood(z)`` gives log p(x | z) for
        codes of shape ``(draws, rows, latent_dim)``, as ``(draws, rows)``.
        The arithmetic after the networks runs in float64, so that rows far
        outside the training data get finite, very low bounds rather than
        float32's inf.
        """
        n_draws, n_rows = noise.shape[:2]
        mu, log_var = first_rows(params, n_rows)
        std = torch.exp(0.5 * log_var)  # z is decoded in float32, as the networks compute
        noise, per_batch = draw_batches(noise)
        log_px, log_prior, log_q = [], [], []
        for start in range(0, noise.shape[0], per_batch):
            draws = noise[start : start + per_batch]  # (draws, rows, latent_dim)
            z = mu + std * draws
            log_px.append(log_likelihood(z).double())
            if n_importance > 1:
                log_prior.append(standard_normal_log_prob(z.double()))
                # log q(z | x) = log N(noise; 0, I) - sum(log sigma)
                log_q.append(standard_normal_log_prob(draws.double()) - 0.5 * log_var.double().sum(-1))
        # Draws go on the last axis, (rows, draws): a reduction across rows'
        # columns (over the first axis) rounds a row by its position for some
        # numbers of rows; one along each row's own memory does not.
        log_px = torch.cat(log_px)[:n_draws].T.contiguous()
        if n_importance == 1:
            return log_px.mean(-1) - self.kl((mu.double(), log_var.double())).sum(-1)
        log_weights = log_px + torch.cat(log_prior)[:n_draws].T - torch.cat(log_q)[:n_draws].T
        log_weights = log_weights.contiguous().view(n_rows, -1, n_importance)
        return (torch.logsumexp(log_weights, dim=-1) - math.log(n_importance)).mean(-1)
