"""The model: columns -> encoder -> latent -> decoder -> likelihood, and the family contract.

``AutoencoderModel`` joins the parts and computes, from the rows of a
``Batch``, what the estimators need: the code, the decoded mean, the
training loss as named terms, a per-row score and the statistics a fit
reports. It knows nothing of numpy arrays, scikit-learn or the user's
dtypes.

**The family contract.** A member of the family (the VAE, the
autoencoder, the VQ-VAE, the ladder VAE, the VAE-GAN) is a subclass that
defines:

* ``make_latent(in_features, spec, generator)``, a classmethod: the
  family's ``latent``, the module between encoder and decoder
  (``skvae.nn.latents``): the head on the encoder's features, the draw a
  training step decodes and the latent's own loss term, the deterministic
  code, the prior that ``sample`` draws from, and any bound on log p(x);
* ``loss_terms(batch, generator, **weights)``: the training loss of a
  minibatch as named 0-d tensors, whose sum (in order) is the loss; a
  member adds a term (``"sparsity"``, ``"adversarial"``) with its own
  keyword, not an option of a shared signature. A term that should move
  the weights without entering the reported loss enters as ``t -
  t.detach()``. Every mean over the minibatch's rows goes through
  ``skvae.nn.layers.row_mean`` with ``batch.weight`` (``sample_weight``),
  and any other sum over rows (the condition gap's, over the rows it
  draws) multiplies each row by its weight alike: a row of weight 0
  moves no gradient and no buffer;
* ``row_score(batch, noise, *, fast=False, **options)``: float64 score of
  each row, higher is better, in X's units, depending on that row alone
  (``noise`` draws row-keyed standard normals for a Monte-Carlo score;
  ``fast`` asks for the cheap estimate that judges epochs under early
  stopping); ``score_draws(**options)`` says how many times it decodes a
  row (1 unless overridden), for what evaluating it costs;
* ``extra_training_passes()`` (none unless overridden): what a training
  step runs per row beyond encoding and decoding it, as ``(run, times)``
  pairs, ``run()`` one zero row's forward pass, for the work per step by
  which a fit chooses its threads (the VAE-GAN's discriminator and its
  decoded prior draws);
* ``units_offset()``: what turns the training loss into X's units, in
  which ``loss_curve_`` reports it (a density's log-Jacobian; 0 for the
  autoencoder's squared error);
* ``statistics(blocks, previous=None)``: the fitted attributes a fit
  reports about itself, as numpy values, computed once from the training
  rows after training (and any buffer the prior needs, such as a code
  frequency). ``previous`` is None for a fit, which starts afresh; for a
  ``partial_fit`` that goes on from an earlier call it reads what the
  calls so far reported, by attribute name, and a statistic of the rows
  that a stream should describe whole (the autoencoder's code moments,
  the VQ-VAE's code counts, the autoencoder's residuals) merges them with
  the blocks' own, each block's as its call left it. A name with a
  leading underscore is kept for that merging only (private state, saved
  and pickled as the rest);
* ``fitted_copies()``: those of the statistics that copy the model's own
  state (the VQ-VAE's codebook), which a saved file or pickle must agree
  with; none by default.

A family with parts beyond the four (a discriminator) builds them in the
classmethod ``assemble``.

Conditions travel as their own tensor, ``batch.condition``: the encoder
reads ``[x, condition]``, the decoder ``[z, condition]``. A condition is
its encoding (``skvae._conditions``), then a column that is 1 where the
condition is missing.
"""

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .corruption import CORRUPTIONS
from .layers import row_mean


class Batch(NamedTuple):
    """Rows as the model reads them: encoder inputs, and what the likelihood scores when it is not x.

    ``target`` and ``mask`` are None when the rows are their own targets
    with nothing missing; ``condition`` is None for an unconditional model.
    ``weight``: each training row's weight in the loss (``sample_weight``,
    scaled to a mean of 1 over the fit's training rows; ``row_mean``), None
    where every row counts once.
    """

    x: torch.Tensor
    target: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    condition: torch.Tensor | None = None
    weight: torch.Tensor | None = None

    @property
    def scored(self):
        """What the likelihood scores."""
        return self.x if self.target is None else self.target

    def map(self, function):
        """The batch with ``function`` applied to each tensor it holds."""
        return Batch(*(None if t is None else function(t) for t in self))

    def __len__(self):  # NamedTuple's own length is its number of fields
        return self.x.shape[0]

    def replaced(self, **changes):
        """The batch with the tensors ``changes`` names in place of its own.

        Not NamedTuple's ``_replace``: it checks the new tuple's ``len``,
        the rows' here, and refused every batch but one of as many rows as
        fields (a ``partial_fit`` whose large X had holes after its first
        block).
        """
        return Batch(**{**self._asdict(), **changes})


class Step(NamedTuple):
    """One training step's forward pass: what the loss terms read."""

    batch: Batch
    params: object
    z: torch.Tensor
    latent_term: torch.Tensor | None
    decoded: torch.Tensor
    # How far the encoding without the condition is from the one with it
    # (``step``'s ``condition_dropout``), or None.
    condition_gap: torch.Tensor | None = None


def missing_condition(condition):
    """Conditions of the same shape that say "missing": zeros with the last column 1."""
    missing = torch.zeros_like(condition)
    missing[..., -1] = 1.0
    return missing


class AutoencoderModel(nn.Module):
    """An autoencoder assembled from its parts; see the module docstring for the family contract.

    Parameters
    ----------
    columns : ColumnCodec
        X's columns to encoder inputs and targets, and the likelihood of a
        row (``skvae.nn.columns``).

    encoder : nn.Module
        Rows ``(batch, n_inputs)`` (with the condition appended, for a
        conditional model) to features ``(batch, k)``.

    latent : nn.Module
        Features to the latent's parameters, and the rules for drawing and
        penalising codes (``skvae.nn.latents``).

    decoder : nn.Module
        Codes ``(batch, decoder_dim)`` (with the condition appended) to
        the likelihood's parameters.
    """

    def __init__(self, columns, encoder, latent, decoder):
        super().__init__()
        self.columns = columns
        self.encoder = encoder
        self.latent = latent
        self.decoder = decoder

    @classmethod
    def make_latent(cls, in_features, spec, generator):
        """The family's latent on ``in_features`` encoder features, as the parameters ``spec`` say."""
        raise NotImplementedError

    @classmethod
    def assemble(cls, columns, encoder, latent, decoder, *, spec, generator):
        """The model made of its parts (a family may add parts of its own)."""
        return cls(columns, encoder, latent, decoder)

    @property
    def likelihood(self):
        """The likelihood of a row: the column codec's parts, side by side."""
        return self.columns

    @property
    def latent_dim(self):
        return self.latent.latent_dim

    # ------------------------------------------------------------ the paths

    def encode(self, x, condition=None):
        """The latent's parameters for each row (for a Gaussian latent, ``(mu, log_var)``)."""
        if condition is not None:
            x = torch.cat([x, condition], dim=-1)
        return self.latent(self.encoder(x))

    def code(self, batch):
        """The deterministic code of each row: mu(x), or the autoencoder's code."""
        return self.latent.code(self.encode(batch.x, batch.condition))

    def reconstruction_code(self, batch):
        """The code the model reconstructs each row from (``code``, but a VQ-VAE's codebook vector)."""
        return self.latent.reconstruction_code(self.encode(batch.x, batch.condition))

    def decode(self, z, condition=None):
        """The likelihood's parameters for each code (the decoder reads its first ``decoder_dim`` values)."""
        if self.latent.decoder_dim != self.latent.latent_dim:
            z = z[..., : self.latent.decoder_dim]
        if condition is not None:
            z = torch.cat([z, condition], dim=-1)
        return self.decoder(z)

    def reconstruct(self, z, condition=None):
        """The mean of p(x | z) for each code, in the targets' units."""
        return self.columns.mean(self.decode(z, condition))

    def decoded(self, z, condition=None, how="mean", generator=None):
        """Each code decoded into X's numbers (float64): the mean of p(x | z), its mode, or a draw ("sample")."""
        return self.columns.decode(self.decode(z, condition), how, generator)

    def decoded_mixture(self, z, conditions, weights):
        """Each code's mean of p(x | z) under a mixture of conditions, one per row of ``conditions``.

        What a conditional model's ``inverse_transform`` without y returns, and its exported graph.
        """
        params = [self.decode(z, condition.expand(z.shape[0], -1)) for condition in conditions]
        return self.columns.decode_mixture(params, weights)

    def impute(self, batch, values, generator=None, bounds=None):
        """``values`` (X's numbers, NaN in the holes) with every hole filled from the row's observed entries.

        The hole takes the likelihood's mode at the code mu(x); with
        ``generator``, the code is drawn from q(z | x) and the hole from
        p(x | z). ``bounds``: ``(low, high)`` tensors of each column's
        smallest and largest fill in X's units. What ``VAEImputer.transform``
        returns, and its exported graph.
        """
        if generator is None:
            z, how = self.code(batch), "mode"
        else:
            z, how = self.latent.rsample(self.encode(batch.x, batch.condition), generator), "sample"
        filled = self.decoded(z, batch.condition, how, generator).to(values.dtype)
        if bounds is not None:
            filled = torch.clamp(filled, *(bound.to(values.dtype) for bound in bounds))
        return torch.where(torch.isnan(values), filled, values)

    def squared_errors(self, batch, codes=None, outputs=None):
        """Per target column, the squared reconstruction error at the code, summed over rows; and the rows summed.

        Float64, in the units the encoder reads (standardised for Gaussian
        columns): what an autoencoder's draws and a fit's divergence check read.
        ``outputs``: the decoder's parameters at the codes, where the caller has them already.
        """
        if outputs is None:
            outputs = self.decode(self.code(batch) if codes is None else codes, batch.condition)
        squared = self.columns.squared_error(batch.scored, outputs)
        if batch.mask is None:
            return squared.sum(0), torch.full_like(squared[0], float(squared.shape[0]))
        mask = batch.mask.double()
        return (squared * mask).sum(0), mask.sum(0)

    # ------------------------------------------------------------- training

    def step(self, batch, generator, *, corruption=None, corruption_level=0.0, condition_dropout=0.0,
             **latent_options):
        """One training step's forward pass on ``batch``, every draw from ``generator``.

        ``corruption`` corrupts the encoder's input (``skvae.nn.corruption``;
        the likelihood still scores the clean rows: a denoising
        autoencoder). ``condition_dropout`` is the share of rows, drawn
        anew, that the encoder also reads without their condition, learning
        to give from x alone the encoding it gives with the condition (the
        latent's ``encoding_gap`` to it, whose gradient reaches only the
        encoding without). The code decoded is always the one read with the
        condition: hiding the condition from the encoder on the rows
        decoded instead made the code carry the class, and on 28 x 28 digits
        a convolutional model's samples for 1 were judged 1 only 78% of the
        time (``benchmarks/family_images.py``). ``latent_options``
        go to the latent's ``training_sample`` (a Gaussian latent's
        ``kl_weight`` and ``free_bits``, a quantised one's
        ``commitment_cost``).
        """
        x, condition = batch.x, batch.condition
        # Level 0 draws nothing, so that it trains the model corruption=None trains.
        corrupted = corruption is not None and corruption_level > 0
        encoder_input = CORRUPTIONS[corruption](x, corruption_level, generator) if corrupted else x
        params = self.encode(encoder_input, condition)
        z, latent_term = self.latent.training_sample(params, generator, weight=batch.weight, **latent_options)
        gap = None
        if condition is not None and condition_dropout > 0:
            chosen = torch.rand(x.shape[0], generator=generator, device=x.device, dtype=torch.float32) < condition_dropout
            rows = chosen.nonzero().squeeze(1)
            # Not one row alone: a user's encoder with BatchNorm cannot read one row in training, and
            # this draw, unlike the minibatch's size, is not the user's to change.
            if len(rows) > 1:
                without = self.encode(encoder_input[rows], missing_condition(condition[rows]))
                with_condition = tuple(p[rows].detach() for p in params) if isinstance(params, tuple) \
                    else params[rows].detach()
                gaps = self.latent.encoding_gap(with_condition, without)
                if batch.weight is not None:
                    gaps = gaps * batch.weight[rows].to(gaps.dtype)
                gap = gaps.sum() / x.shape[0]
        return Step(batch, params, z, latent_term, self.decode(z, condition), gap)

    def terms(self, step):
        """The latent's term (the KL, the commitment loss), minus the mean log-likelihood, the condition gap."""
        terms = {}
        if step.latent_term is not None:
            terms[self.latent.term_name] = step.latent_term
        batch = step.batch
        terms["reconstruction"] = -row_mean(self.columns.log_prob(batch.scored, step.decoded, batch.mask), batch.weight)
        if step.condition_gap is not None:
            # It trains the encoder without entering the reported loss (the -ELBO).
            terms["condition_gap"] = step.condition_gap - step.condition_gap.detach()
        return terms

    def loss_terms(self, batch, generator, **options):
        """The training loss of a minibatch, as named terms (see the family contract)."""
        return self.terms(self.step(batch, generator, **options))

    # -------------------------------------------------------------- scoring

    def log_jacobian(self, batch):
        """``sum(log scale)`` of each row's observed standardised entries: a density of them in X's units."""
        total = self.columns.log_jacobian
        if batch.mask is None:
            return total
        return total - self.columns.missing_jacobian(batch.mask)

    def extra_training_passes(self):
        """Forward passes a training step runs per row beyond encoding and decoding it: ``(run, times)`` pairs."""
        return []

    def units_offset(self):
        """The log-Jacobian of the standardised columns: the training loss is a density of them."""
        return self.columns.log_jacobian

    def row_score(self, batch, noise=None, *, fast=False):
        raise NotImplementedError

    def score_draws(self, **options):
        """How many times ``row_score(batch, **options)`` decodes each row."""
        return 1

    def statistics(self, blocks, previous=None):
        raise NotImplementedError

    def fitted_copies(self):
        """The fitted attributes ``statistics`` reports that copy this model's own state (float64 numpy), by name.

        ``load`` and unpickling refuse a state whose attributes differ from
        them: an edited file would report one thing and compute another.
        """
        return {}


def code_moments(model, blocks, each=None):
    """Number, mean and covariance (float64 numpy) of the deterministic codes of the rows in ``blocks``.

    ``each(batch, codes)``, if given, sees every block and its codes on the
    way (one pass over the rows for more statistics than these).
    """
    latent_dim = model.latent_dim
    total, outer, n_rows = None, None, 0
    with torch.inference_mode():
        for batch in blocks:
            codes = model.code(batch)
            if each is not None:
                each(batch, codes)
            codes = codes.double()
            if total is None:
                total = torch.zeros(latent_dim, dtype=torch.float64, device=codes.device)
                outer = torch.zeros(latent_dim, latent_dim, dtype=torch.float64, device=codes.device)
            total += codes.sum(0)
            outer += codes.T @ codes
            n_rows += codes.shape[0]
    mean = total / n_rows
    covariance = outer / n_rows - torch.outer(mean, mean)
    return n_rows, mean.cpu().numpy(), covariance.cpu().numpy()


def pooled_moments(first, second):
    """The ``(n, mean, covariance)`` of two sets of rows together, from each set's own.

    Covariances are the population ones (divided by n), which pool
    exactly: ``n C = n1 C1 + n2 C2 + (n1 n2 / n) d d^T`` with ``d`` the
    difference of the means (Chan, Golub & LeVeque 1979), as
    ``IncrementalPCA`` merges its batches.
    """
    (n1, mean1, covariance1), (n2, mean2, covariance2) = first, second
    n = n1 + n2
    delta = np.asarray(mean2) - np.asarray(mean1)
    mean = mean1 + delta * (n2 / n)
    covariance = ((n1 * np.asarray(covariance1) + n2 * np.asarray(covariance2)) / n
                  + np.outer(delta, delta) * (n1 * n2 / n ** 2))
    return n, mean, covariance


def noise_variance(model):
    """The learned Gaussian noise variance of each column in X's units squared, when every column is Gaussian
    and none censored; else None (a censored column's is the spread of a Gaussian behind its observed values,
    not theirs)."""
    variances = model.columns.variance()
    if len(variances) != model.columns.n_columns or any(part.censored for part in model.columns.parts):
        return None
    return np.array([float(variances[j]) for j in range(model.columns.n_columns)])
