"""A hierarchy of Gaussian latent layers: ladder inference, top-down generation.

The generative model, from the top layer L down to the data::

    p(z_L) = N(0, I),   p(z_i | z_{i+1}) = N(mu_i(z_{i+1}), diag(sigma_i(z_{i+1})^2)),   p(x | z_1)

The inference model is the ladder VAE's (Sønderby et al. 2016): a
deterministic bottom-up pass over the encoder's features gives, for every
layer, a Gaussian estimate N(mu_hat_i, sigma_hat_i^2) of z_i from x; the
top layer's posterior is that estimate, and each lower layer's is the
precision-weighted combination of its estimate and the top-down prior given
the layer above::

    q(z_i | x, z_{i+1}) proportional to N(z_i; mu_hat_i, sigma_hat_i^2) p(z_i | z_{i+1})

so inference and generation share the top-down networks, and an upper
layer gets its gradient through the prior of the layer below as well as
through its own KL. A plain bottom-up stack, q(z_1 | x) q(z_2 | z_1) (Burda
et al. 2016), hides x from every layer but the first, and its upper layers
are known to collapse to the prior.

A code is every layer's value, bottom layer first (``latent_dims[0]``
values of z_1, then z_2, ...). The decoder reads every layer, p(x | z_1,
..., z_L), as hierarchical VAEs with skip connections do (BIVA, NVAE): read
through z_1 alone, a (4, 2) hierarchy squeezed 28 x 28 digits through 4
dimensions and bounded log p(x) 10.7 nats below a one-layer VAE of size 6
(benchmarks/family_images.py). Models saved when the decoder read z_1 alone
load as they were.
"""

import itertools
import math
from numbers import Real

import torch
from torch import nn
from torch.nn import functional as F

from .latents import (
    LOG_2PI,
    LOG_VARIANCE_RANGE,
    Latent,
    draw_batches,
    first_rows,
    gaussian_kl,
    kl_to_standard_normal,
    standard_normal_log_prob,
)
from .layers import Linear, mlp, row_mean
from .model import noise_variance
from .variational import ACTIVE_UNIT_KL, VariationalModel


def gaussian_log_prob(z, mu, log_var):
    """Log-density of ``N(mu, diag(exp(log_var)))`` at ``z``, summed over the last axis."""
    return -0.5 * (LOG_2PI + log_var + (z - mu).square() * torch.exp(-log_var)).sum(-1)


def precision_weighted(estimate, prior):
    """The Gaussian proportional to the product of two: the ladder's posterior of a lower layer.

    Written with sigmoids of the log-variance difference, which neither
    overflow nor lose the smaller precision when the two differ by e^60.
    """
    (mu_hat, log_var_hat), (mu_prior, log_var_prior) = estimate, prior
    difference = log_var_prior - log_var_hat
    weight = torch.sigmoid(difference)  # the bottom-up estimate's share of the precision
    mu = weight * mu_hat + torch.sigmoid(-difference) * mu_prior
    return mu, log_var_hat + F.logsigmoid(difference)


def _gaussian(values):
    mu, log_var = values.chunk(2, dim=-1)
    return mu, log_var.clamp(*LOG_VARIANCE_RANGE)


class LadderLatent(Latent):
    """Gaussian latent layers of ``latent_dims`` (bottom first), with ladder inference.

    Parameters
    ----------
    in_features : int
        Width of the encoder's features: the bottom-up pass starts there.

    latent_dims : sequence of int
        Sizes of the layers z_1, ..., z_L, bottom first; at least two.

    activation : str, default="relu"
        Activation of the bottom-up and top-down hidden layers.

    generator : torch.Generator or None, default=None
        Source of the initial weights.

    decoder_reads_every_layer : bool, default=True
        Whether the decoder reads every layer's value, or the bottom layer's.

    linear : bool, default=False
        Whether the hierarchy's own networks have no hidden layers (Notes).

    Notes
    -----
    The networks the hierarchy adds all have the encoder's feature width w:
    a dense layer per step up (d_{i+1} = act(W d_i + b), d_1 the encoder's
    features), an affine head per layer to (mu_hat_i, log sigma_hat_i^2),
    and per lower layer a prior network z_{i+1} -> w -> (mu_i, log
    sigma_i^2). ``forward`` returns the bottom-up estimates, one
    ``(mu_hat, log_var_hat)`` pair per layer; the top-down pass, which needs
    the layer above's value, runs in ``code``, ``training_sample`` and
    ``bound``. ``linear=True`` (for an encoder without hidden layers) keeps none of
    the hidden layers: every head reads the encoder's features and each
    prior network is one affine map.
    """

    term_name = "kl"

    def __init__(self, in_features, latent_dims, *, activation="relu", generator=None,
                 decoder_reads_every_layer=True, linear=False):
        latent_dims = tuple(int(d) for d in latent_dims)
        if len(latent_dims) < 2:
            raise ValueError(f"A hierarchy needs at least two layers; got latent_dims={latent_dims}.")
        super().__init__(sum(latent_dims), decoder_dim=None if decoder_reads_every_layer else latent_dims[0])
        self.latent_dims = latent_dims
        width = in_features
        self.up = nn.ModuleList(
            mlp([width] if linear else [width, width], activation, generator, activate_last=True)
            for _ in latent_dims[1:]
        )
        self.heads = nn.ModuleList(
            Linear(width, 2 * dim, activation=activation, generator=generator) for dim in latent_dims
        )
        self.priors = nn.ModuleList(
            mlp([above, 2 * below] if linear else [above, width, 2 * below], activation, generator)
            for below, above in itertools.pairwise(latent_dims)
        )

    @property
    def n_layers(self):
        return len(self.latent_dims)

    def layer_slice(self, layer):
        """The columns of layer ``layer`` (0 = bottom) in a code."""
        start = sum(self.latent_dims[:layer])
        return slice(start, start + self.latent_dims[layer])

    def forward(self, features):
        estimates, deterministic = [], features
        for layer, head in enumerate(self.heads):
            if layer > 0:
                deterministic = self.up[layer - 1](deterministic)
            estimates.append(_gaussian(head(deterministic)))
        return tuple(estimates)

    def prior(self, layer, z_above):
        """``(mu, log_var)`` of p(z_layer | z_{layer+1}) for a lower layer."""
        return _gaussian(self.priors[layer](z_above))

    def top_down(self, params, draw):
        """The posterior pass from the top: ``draw(layer, posterior)`` gives each layer's value.

        Returns the values, posteriors and priors of the layers, bottom
        first; the top layer's prior is N(0, I), given as None.
        """
        n = self.n_layers
        values, posteriors, priors = [None] * n, [None] * n, [None] * n
        posteriors[-1] = params[-1]
        values[-1] = draw(n - 1, posteriors[-1])
        for layer in range(n - 2, -1, -1):
            priors[layer] = self.prior(layer, values[layer + 1])
            posteriors[layer] = precision_weighted(params[layer], priors[layer])
            values[layer] = draw(layer, posteriors[layer])
        return values, posteriors, priors

    def code(self, params):
        """Every layer's posterior mean, bottom first, each given the means of the layers above."""
        values, _, _ = self.top_down(params, lambda layer, posterior: posterior[0])
        return torch.cat(values, dim=-1)

    def from_layer(self, z, layer):
        """Layer ``layer``'s codes alone (its ``latent_dims[layer]`` columns) as full codes the decoder reads.

        The layers below take their prior means given it (``descend``);
        what ``inverse_transform`` of that layer's codes decodes.
        """
        columns = self.layer_slice(layer)
        return self.descend(F.pad(z, (columns.start, self.latent_dim - columns.stop)), layer)

    def descend(self, codes, layer, noise=None):
        """Codes of the layers from ``layer`` down, generated from that layer's value.

        ``codes`` holds z_layer in its columns for that layer; each layer
        below gets its prior mean given the layer above, plus the prior's
        standard deviation times ``noise`` (standard normal codes, the same
        shape) when given: ancestral sampling. The layers above ``layer``
        come back as 0, and the decoder, which reads every layer, reads
        them so: one layer's codes decode as far as they can alone.
        """
        out = torch.zeros_like(codes)
        columns = self.layer_slice(layer)
        out[..., columns] = codes[..., columns]
        above = codes[..., columns]
        for below in range(layer - 1, -1, -1):
            mu, log_var = self.prior(below, above)
            if noise is not None:
                mu = mu + torch.exp(0.5 * log_var) * noise[..., self.layer_slice(below)]
            out[..., self.layer_slice(below)] = mu
            above = mu
        return out

    def from_prior(self, draws):
        """Ancestral sampling: the top layer is the draw itself, each lower one its prior mean plus its std times the draw."""
        return self.descend(draws, self.n_layers - 1, noise=draws)

    def layer_kls(self, posteriors, priors):
        """Each layer's KL to its prior, per dimension: a list of ``(..., dim)`` tensors, bottom first."""
        return [kl_to_standard_normal(*q) if p is None else gaussian_kl(q, p) for q, p in zip(posteriors, priors)]

    def kl(self, params):
        """Each row's KL per dimension, layers concatenated bottom first, the layers above at their means.

        The top layer's is to N(0, I); a lower layer's, to its prior given
        the posterior mean of the layer above: what it holds beyond that layer.
        """
        _, posteriors, priors = self.top_down(params, lambda layer, posterior: posterior[0])
        return torch.cat(self.layer_kls(posteriors, priors), dim=-1)

    def _free_bits(self, free_bits):
        if isinstance(free_bits, Real):
            return (float(free_bits),) * self.n_layers
        return tuple(float(f) for f in free_bits)

    def training_sample(self, params, generator, *, kl_weight=1.0, free_bits=0.0, weight=None):
        """A reparameterised draw of every layer, top first, and ``kl_weight`` times the summed KLs.

        Each lower layer's KL is analytic given the drawn layer above.
        ``free_bits`` (one value, or one per layer, bottom first) clamps
        each dimension's batch-mean KL from below (Kingma et al. 2016).
        """

        def draw(layer, posterior):
            mu, log_var = posterior
            noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            return mu + noise * torch.exp(0.5 * log_var)

        values, posteriors, priors = self.top_down(params, draw)
        kl_term = 0.0
        for kl, floor in zip(self.layer_kls(posteriors, priors), self._free_bits(free_bits)):
            kl_term = kl_term + (row_mean(kl, weight).clamp(min=floor).sum() if floor > 0
                                 else row_mean(kl.sum(-1), weight))
        return torch.cat(values, dim=-1), kl_weight * kl_term

    def bound(self, params, noise, n_importance, log_likelihood):
        """Per-row ELBO (``n_importance=1``) or IWAE bound, as ``GaussianLatent.bound``.

        ``noise`` is ``(n_draws, rows, latent_dim)``, split by layer. The
        ELBO is log p(x | z_1, ..., z_L) (the decoder reads every layer)
        minus every layer's KL, each lower layer's analytic given the drawn
        layer above, averaged over the draws. The IWAE weights are
        log p(x | z_1, ..., z_L) + sum_i log p(z_i | z_{i+1}) +
        log p(z_L) - sum_i log q(z_i | x, z_{i+1}). The networks run in
        float32; the densities after them in float64.
        """
        n_draws, n_rows = noise.shape[:2]
        params = first_rows(params, n_rows)
        noise, per_batch = draw_batches(noise)
        log_weights = []
        for start in range(0, noise.shape[0], per_batch):
            draws = noise[start : start + per_batch]  # (draws, rows, latent_dim)

            def draw(layer, posterior, draws=draws):
                mu, log_var = posterior
                return mu + torch.exp(0.5 * log_var) * draws[..., self.layer_slice(layer)]

            values, posteriors, priors = self.top_down(params, draw)
            log_px = log_likelihood(torch.cat(values, dim=-1)).double()
            posteriors = [(mu.double(), log_var.double()) for mu, log_var in posteriors]
            priors = [None if p is None else (p[0].double(), p[1].double()) for p in priors]
            if n_importance == 1:
                kl = sum(kl.sum(-1) for kl in self.layer_kls(posteriors, priors))
                log_weights.append(log_px - kl)
                continue
            log_w = log_px
            for layer, (value, (_, log_var), prior) in enumerate(zip(values, posteriors, priors)):
                value = value.double()
                log_w = log_w + (standard_normal_log_prob(value) if prior is None else gaussian_log_prob(value, *prior))
                # log q(z | .) = log N(noise; 0, I) - sum(log sigma)
                log_w = log_w - (standard_normal_log_prob(draws[..., self.layer_slice(layer)].double())
                                 - 0.5 * log_var.sum(-1))
            log_weights.append(log_w)
        # (rows, draws), each row's draws in its own memory: see GaussianLatent.bound.
        log_weights = torch.cat(log_weights)[:n_draws].T.contiguous()
        if n_importance == 1:
            return log_weights.mean(-1)
        log_weights = log_weights.view(n_rows, -1, n_importance)
        return (torch.logsumexp(log_weights, dim=-1) - math.log(n_importance)).mean(-1)


class LadderVAEModel(VariationalModel):
    """The ladder VAE: ``VariationalModel`` whose statistics are per layer, bottom first."""

    @classmethod
    def make_latent(cls, in_features, spec, generator):
        # Without hidden layers (the built-in encoder's), none in the hierarchy either: its own networks
        # at the input's width had grown with its square (5.4 million weights for 2,308 columns).
        linear = spec.get("linear_without_hidden_layers", False) and spec["encoder"] is None \
            and not spec["hidden_layer_sizes"]
        return LadderLatent(in_features, spec["latent_dims"], activation=spec["activation"], generator=generator,
                            decoder_reads_every_layer=spec.get("decoder_reads_every_layer", False), linear=linear)

    def statistics(self, blocks, previous=None):
        kl_per_dim = self.kl_per_dim(blocks)
        layers = [kl_per_dim[self.latent.layer_slice(i)].copy() for i in range(self.latent.n_layers)]
        return {
            "kl_per_dim_": layers,
            "n_active_units_": [int((kl > ACTIVE_UNIT_KL).sum()) for kl in layers],
            "noise_variance_": noise_variance(self),
        }
