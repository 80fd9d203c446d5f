"""The plain autoencoder's model: a deterministic code, a reconstruction loss, an optional sparsity term."""

import torch

from .latents import DeterministicLatent
from .layers import row_mean
from .model import AutoencoderModel, code_moments, pooled_moments


def sparsity_penalty(codes, weight=None):
    """L1 norm of the codes, each dimension in units of its root mean square over the batch.

    A plain L1 penalty on linear codes can be met without any sparsity: the
    network shrinks a code dimension by s and scales what reads it by 1/s
    (through ReLU layers too, which commute with positive scaling). Measured
    against its own RMS, a dimension pays the same whatever its scale, and
    pays less only by being near 0 on more rows. The mean over rows of
    ``sum_j |z_j| / rms_j`` lies between 0 and the number of dimensions.
    Both means count each row by its ``weight`` (``row_mean``).
    """
    # sqrt(mean + eps**2), not a clamp: sqrt's gradient at 0 is infinite, and a
    # one-row batch, or a dimension that is 0 on every row, would make it NaN.
    rms = (row_mean(codes.square(), weight) + 1e-12).sqrt()
    return row_mean((codes.abs() / rms).sum(-1), weight)


class PlainAutoencoderModel(AutoencoderModel):
    """An autoencoder: a deterministic code, no prior, no KL.

    Loss terms: ``"reconstruction"`` (minus the mean log-likelihood: half
    the squared error of standardised values, or the cross-entropy), and
    ``"sparsity"`` when its weight is positive. Row score: minus the mean
    squared reconstruction error of each row's entries (each likelihood's
    ``squared_error``: of standardised values, of probabilities, the Brier
    score of a category). Statistics: the mean and covariance of the
    training codes, which ``sample`` draws from, and how many rows they
    cover (``n_samples_seen_``): a ``partial_fit`` stream's pool every
    block's codes, as encoded at the end of its call.
    """

    @classmethod
    def make_latent(cls, in_features, spec, generator):
        return DeterministicLatent(in_features, spec["latent_dim"], activation=spec["activation"],
                                   generator=generator)

    def loss_terms(self, batch, generator, *, sparsity=0.0, **options):
        step = self.step(batch, generator, **options)
        terms = self.terms(step)
        if sparsity > 0:
            terms["sparsity"] = sparsity * sparsity_penalty(self.latent.code(step.params), batch.weight)
        return terms

    def units_offset(self):
        # A squared error of standardised values, not a density: nothing to add.
        return 0.0

    def row_score(self, batch, noise=None, *, fast=False):
        # In float64, so that a row far outside the training data gets a finite, very low score.
        squared = self.columns.squared_error(batch.scored, self.decode(self.code(batch), batch.condition))
        if batch.mask is None:
            return -squared.mean(-1)
        mask = batch.mask.double()
        return -(squared * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)

    def fitted_copies(self):
        return {"latent_mean_": self.latent.code_mean.cpu().numpy(),
                "latent_covariance_": self.latent.code_covariance.cpu().numpy()}

    def statistics(self, blocks, previous=None):
        # The mean squared error of each target column over the rows that have it: the noise an
        # autoencoder does not learn, at its maximum likelihood, which draws from p(x | z) use.
        errors, counts = 0.0, 0.0

        def residuals(batch, codes):
            nonlocal errors, counts
            squared, observed = self.squared_errors(batch, codes)
            errors, counts = errors + squared, counts + observed

        moments = code_moments(self, blocks, each=residuals)
        # Earlier blocks are gone, so a stream pools their codes as encoded then, as IncrementalPCA
        # pools its batches; a one-block Gaussian sampled that block's kind of rows alone. A model
        # saved before the count was kept holds one call's moments of an unknown count: they restart.
        if previous is not None and "n_samples_seen_" in previous:
            moments = pooled_moments(
                (previous["n_samples_seen_"], previous["latent_mean_"], previous["latent_covariance_"]), moments)
        # The residuals pool alike, each column's over its observed entries since (a model saved
        # before their sums were kept restarts them).
        if previous is not None and "_residual_sums" in previous:
            errors = errors + torch.as_tensor(previous["_residual_sums"], dtype=errors.dtype, device=errors.device)
            counts = counts + torch.as_tensor(previous["_residual_counts"], dtype=counts.dtype, device=counts.device)
        n_rows, mean, covariance = moments
        self.latent.fit_prior(mean, covariance)
        # A column no row holds keeps the unit variance.
        self.columns.set_draw_variances(torch.where(counts > 0, errors / counts.clamp_min(1.0), 1.0))
        # latent_mean_ and latent_covariance_ read back from the prior, as load checks them.
        return {**self.fitted_copies(), "n_samples_seen_": n_rows,
                "_residual_sums": torch.as_tensor(errors).cpu().numpy(),
                "_residual_counts": torch.as_tensor(counts).cpu().numpy()}
