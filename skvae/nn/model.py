"""The model: encoder -> latent -> decoder -> likelihood, and the maths that joins them.

``AutoencoderModel`` computes what the estimators need from standardised
float32 rows: the training loss of a minibatch, the per-row bound on
log p(x), the deterministic code and the decoded mean. It knows nothing of
numpy, scikit-learn or the input's units.

A conditional model also takes a condition per row, ``(batch, n_condition +
1)``: the condition's encoding, then a column that is 1 where the condition
is missing (and the rest 0). The encoder reads ``[x, condition]``, the
decoder ``[z, condition]``.
"""

import torch
from torch import nn

from .corruption import CORRUPTIONS


def missing_condition(condition):
    """Conditions of the same shape that say "missing": zeros with the last column 1."""
    missing = torch.zeros_like(condition)
    missing[..., -1] = 1.0
    return missing


class AutoencoderModel(nn.Module):
    """An autoencoder assembled from its four parts.

    Parameters
    ----------
    encoder : nn.Module
        Rows ``(batch, n_features)`` (with the condition appended, for a
        conditional model) to features ``(batch, k)``.

    latent : nn.Module
        Features to the latent's parameters, and the rules for drawing and
        penalising codes (``skvae.nn.latents``).

    decoder : nn.Module
        Codes ``(batch, latent_dim)`` (with the condition appended) to the
        likelihood's parameters.

    likelihood : nn.Module
        The observation model p(x | z) (``skvae.nn.likelihoods``).
    """

    def __init__(self, encoder, latent, decoder, likelihood):
        super().__init__()
        self.encoder = encoder
        self.latent = latent
        self.decoder = decoder
        self.likelihood = likelihood

    @property
    def latent_dim(self):
        return self.latent.latent_dim

    def encode(self, x, condition=None):
        """The latent's parameters for each row (for a Gaussian latent, ``(mu, log_var)``)."""
        if condition is not None:
            x = torch.cat([x, condition], dim=-1)
        return self.latent(self.encoder(x))

    def code(self, x, condition=None):
        """The deterministic code of each row: mu(x), or the autoencoder's code."""
        return self.latent.code(self.encode(x, condition))

    def decode(self, z, condition=None):
        """The likelihood's parameters for each code."""
        if condition is not None:
            z = torch.cat([z, condition], dim=-1)
        return self.decoder(z)

    def reconstruct(self, z, condition=None):
        """The mean of p(x | z) for each code."""
        return self.likelihood.mean(self.decode(z, condition))

    def log_likelihood(self, x, z, condition=None):
        """log p(x | z) of each row."""
        return self.likelihood.log_prob(x, self.decode(z, condition))

    def code_scale(self):
        """How strongly each code dimension drives the decoder: the norm of its input weights.

        Scaling a code dimension by s and the decoder's weights on it by 1/s
        changes nothing the decoder computes; a penalty on ``|z| *
        code_scale`` is unchanged too, where one on ``|z|`` alone could be
        met by shrinking z. A decoder without an ``input_layer`` (a user's
        module) gets scale 1.
        """
        layer = getattr(self.decoder, "input_layer", None)
        if layer is None:
            return None
        return layer.weight[:, : self.latent_dim].norm(dim=0)

    def loss(self, x, *, generator, condition=None, condition_dropout=0.0, corruption=None,
             corruption_level=0.0, sparsity=0.0, **penalty_options):
        """Training loss of the minibatch ``x``: minus the mean log-likelihood plus penalties.

        Parameters
        ----------
        x : tensor of shape (batch, n_features)
            The (standardised) rows; the likelihood scores these.
        generator : torch.Generator
            Every random draw of the step: codes, corruption, dropped conditions.
        condition : tensor of shape (batch, n_condition + 1) or None
            The rows' conditions, for a conditional model.
        condition_dropout : float
            Share of rows whose condition the encoder does not see (it gets
            the missing-condition input instead), so that it learns to
            encode without one. The decoder always sees the condition.
        corruption : {"gaussian", "masking"} or None
            Corrupt the encoder's input (``skvae.nn.corruption``); the
            likelihood still scores the clean rows: a denoising autoencoder.
        corruption_level : float
            The corruption's noise scale or masked fraction.
        sparsity : float
            Weight of the L1 penalty on the codes, ``mean_rows sum_j |z_j| *
            code_scale_j`` (see ``code_scale``).
        **penalty_options
            For the latent's ``penalty`` (a Gaussian latent: ``kl_weight``,
            ``free_bits``).
        """
        encoder_input = x if corruption is None else CORRUPTIONS[corruption](x, corruption_level, generator)
        encoder_condition = condition
        if condition is not None and condition_dropout > 0:
            dropped = torch.rand(x.shape[0], 1, generator=generator, device=x.device) < condition_dropout
            encoder_condition = torch.where(dropped, missing_condition(condition), condition)
        params = self.encode(encoder_input, encoder_condition)
        z = self.latent.rsample(params, generator)
        reconstruction = self.log_likelihood(x, z, condition).mean()
        loss = -reconstruction
        penalty = self.latent.penalty(params, **penalty_options)
        if penalty is not None:
            loss = penalty - reconstruction
        if sparsity > 0:
            magnitude = self.latent.code(params).abs()
            scale = self.code_scale()
            if scale is not None:
                magnitude = magnitude * scale
            loss = loss + sparsity * magnitude.sum(-1).mean()
        return loss

    def bound(self, x, noise, n_importance=1, condition=None):
        """Per-row lower bound on log p(x) (or log p(x | condition)): the ELBO, or the IWAE bound.

        ``noise`` holds the standard-normal draws, ``(n_draws, rows,
        latent_dim)``; see the latent's ``bound``.
        """
        return self.latent.bound(
            self.encode(x, condition), noise, n_importance, lambda z: self.log_likelihood(x, z, condition)
        )
