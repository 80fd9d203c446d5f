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


def sparsity_penalty(codes):
    """L1 norm of the codes, each dimension in units of its root mean square over the batch.

    A plain L1 penalty on linear codes can be met without any sparsity: the
    network shrinks a code dimension by s and scales what reads it by 1/s
    (through ReLU layers too, which commute with positive scaling). Measured
    against its own RMS, a dimension pays the same whatever its scale, and
    pays less only by being near 0 on more rows. The mean over rows of
    ``sum_j |z_j| / rms_j`` lies between 0 and the number of dimensions.
    """
    # sqrt(mean + eps**2), not a clamp: sqrt's gradient at 0 is infinite, and a
    # one-row batch, or a dimension that is 0 on every row, would make it NaN.
    rms = (codes.square().mean(0) + 1e-12).sqrt()
    return (codes.abs() / rms).sum(-1).mean()


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
        """The likelihood's parameters for each code (the decoder reads its first ``decoder_dim`` values)."""
        if self.latent.decoder_dim != self.latent.latent_dim:
            z = z[..., : self.latent.decoder_dim]
        if condition is not None:
            z = torch.cat([z, condition], dim=-1)
        return self.decoder(z)

    def reconstruct(self, z, condition=None):
        """The mean of p(x | z) for each code."""
        return self.likelihood.mean(self.decode(z, condition))

    def log_likelihood(self, x, z, condition=None, mask=None):
        """log p(x | z) of each row, over the entries ``mask`` marks observed (all, if None)."""
        return self.likelihood.log_prob(x, self.decode(z, condition), mask)

    def loss(self, x, *, generator, target=None, mask=None, condition=None, condition_dropout=0.0,
             corruption=None, corruption_level=0.0, sparsity=0.0, **penalty_options):
        """Training loss of the minibatch ``x``: minus the mean log-likelihood plus penalties.

        Parameters
        ----------
        x : tensor of shape (batch, n_inputs)
            The encoder's input rows (standardised); the likelihood scores
            these too unless ``target`` is given.
        target : tensor of shape (batch, n_targets) or None
            What the likelihood scores, when it differs from the encoder's
            input (counts, categories).
        mask : tensor of shape (batch, n_targets) or None
            1 for observed entries, 0 for missing ones, which add nothing.
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
            Weight of the sparsity penalty on the codes (``sparsity_penalty``).
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
        z, penalty = self.latent.training_sample(params, generator, **penalty_options)
        reconstruction = self.log_likelihood(x if target is None else target, z, condition, mask).mean()
        loss = -reconstruction
        if penalty is not None:
            loss = penalty - reconstruction
        if sparsity > 0:
            loss = loss + sparsity * sparsity_penalty(self.latent.code(params))
        return loss

    def bound(self, x, noise, n_importance=1, condition=None, target=None, mask=None):
        """Per-row lower bound on log p(x) (or log p(x | condition)): the ELBO, or the IWAE bound.

        ``noise`` holds the standard-normal draws, ``(n_draws, rows,
        latent_dim)``; see the latent's ``bound``. With a ``mask`` the bound
        is on the probability of the observed entries.
        """
        scored = (x if target is None else target).double()
        mask = None if mask is None else mask.double()

        def log_likelihood(z):  # z: (draws, rows, latent_dim), decoded as one batch
            draws, rows = z.shape[:2]
            repeated = None if condition is None else condition.repeat(draws, 1)
            params = self.decode(z.reshape(draws * rows, -1), repeated).double()
            return self.likelihood.log_prob(
                scored.expand(draws, -1, -1), params.reshape(draws, rows, -1),
                None if mask is None else mask.expand(draws, -1, -1),
            )

        return self.latent.bound(self.encode(x, condition), noise, n_importance, log_likelihood)
