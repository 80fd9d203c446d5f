"""The VAE family's model: a Gaussian (or ladder) latent with a prior, the ELBO and the IWAE bound."""

import math

import torch

from .latents import GaussianLatent
from .model import AutoencoderModel, noise_variance

# score_samples averages its bound over at least this many latent draws per row.
SCORE_DRAWS = 16

# A latent dimension counts as active when its mean KL exceeds this (nats).
ACTIVE_UNIT_KL = 0.01


class VariationalModel(AutoencoderModel):
    """A VAE: q(z | x) from the latent, the prior's KL as a loss term, and a bound on log p(x) as the row score.

    Loss terms: ``"kl"`` (the latent's penalty: the beta-weighted KL, with
    warm-up and free bits) and ``"reconstruction"`` (minus the mean
    log-likelihood). Row score: the ELBO (``n_importance=1``) or the IWAE
    bound, in nats, in X's units. Statistics: ``kl_per_dim_``,
    ``n_active_units_`` and ``noise_variance_``.
    """

    @classmethod
    def make_latent(cls, in_features, spec, generator):
        return GaussianLatent(in_features, spec["latent_dim"], activation=spec["activation"], generator=generator)

    def bound(self, batch, noise, n_importance=1):
        """Per-row lower bound on log p(x) (or log p(x | condition)) of the standardised rows.

        ``noise`` holds the standard-normal draws, ``(n_draws, rows,
        latent_dim)``, for the batch's first ``rows`` rows (see the latent's
        ``bound``): the bound is theirs. With a mask the bound is on the
        probability of the observed entries.
        """
        n_rows = noise.shape[1]
        scored = batch.scored[:n_rows].double()
        mask = None if batch.mask is None else batch.mask[:n_rows].double()
        condition = batch.condition

        def log_likelihood(z):  # z: (draws, rows, latent_dim), decoded as one batch
            draws, rows = z.shape[:2]
            repeated = None if condition is None else condition[:rows].repeat(draws, 1)
            params = self.decode(z.reshape(draws * rows, -1), repeated).double()
            return self.columns.log_prob(
                scored.expand(draws, -1, -1), params.reshape(draws, rows, -1),
                None if mask is None else mask.expand(draws, -1, -1),
            )

        return self.latent.bound(self.encode(batch.x, condition), noise, n_importance, log_likelihood)

    def score_draws(self, *, fast=False, n_importance=1):
        # One draw per row judges epochs well enough: its error averages out over the rows.
        min_draws = 1 if fast else SCORE_DRAWS
        return n_importance * max(1, math.ceil(min_draws / n_importance))

    def row_score(self, batch, noise=None, *, fast=False, n_importance=1):
        draws = noise.draws(self.score_draws(fast=fast, n_importance=n_importance), self.latent_dim)
        log_jacobian = self.log_jacobian(batch)
        if log_jacobian.dim():
            log_jacobian = log_jacobian[: draws.shape[1]]
        return self.bound(batch, draws, n_importance) - log_jacobian

    def kl_per_dim(self, blocks):
        """Mean KL of each latent dimension over the rows of ``blocks``, float64 numpy."""
        kl_sum, n_rows = None, 0
        with torch.inference_mode():
            for batch in blocks:
                kl = self.latent.kl(self.encode(batch.x, batch.condition)).sum(0, dtype=torch.float64)
                kl_sum = kl if kl_sum is None else kl_sum + kl
                n_rows += batch.x.shape[0]
        return (kl_sum / n_rows).cpu().numpy()

    def statistics(self, blocks, previous=None):
        # A diagnostic of the encoder as it is now, on this call's rows: ``previous`` is not read.
        kl_per_dim = self.kl_per_dim(blocks)
        return {
            "kl_per_dim_": kl_per_dim,
            "n_active_units_": int((kl_per_dim > ACTIVE_UNIT_KL).sum()),
            "noise_variance_": noise_variance(self),
        }
