"""The vector-quantised latent of VQ-VAE (van den Oord et al. 2017): one codebook vector per row.

The encoder's features go through an affine head to a continuous output
z_e(x) of ``latent_dim`` values; the row's code is the nearest of
``n_codes`` codebook vectors e_k, and the decoder reads e_k. Gradients pass
the quantisation unchanged (the straight-through estimator), and a
commitment loss ``commitment_cost * ||z_e - sg(e_k)||^2`` keeps the encoder
near the codes it chooses.

The codebook is not trained by gradient: each code is an exponential moving
average (EMA) of the encoder outputs assigned to it (van den Oord et al.
2017, appendix; Razavi et al. 2019). The averages move only in training mode,
under ``no_grad``, and live in buffers, so ``state_dict``, pickles and saved
files carry them with the weights. A code that the encoder has stopped
using (its running count far below the average) is moved onto an encoder
output of the current batch, drawn with the training generator; at the
first training step every code is, which initialises the codebook from the
data.
"""

import numpy as np
import torch

from .latents import Latent
from .layers import Linear, row_mean
from .model import AutoencoderModel, noise_variance

# Pseudo-count added to every code's training count in the prior
# (Laplace's rule of succession): a code no training row chose keeps a finite
# log-probability, so new rows that land on it get a finite score.
PRIOR_PSEUDO_COUNT = 1.0

# Weight of the past in the codebook's moving averages (van den Oord et al. 2017).
EMA_DECAY = 0.99

# Laplace smoothing of the running counts (as in Sonnet's VectorQuantizerEMA):
# a code with no rows keeps a finite mean.
COUNT_SMOOTHING = 1e-5

# A code whose running count falls below this share of the average count
# (the running counts' total over n_codes) is dead and is moved onto an
# encoder output. At 1/16 a code must have been unused for about 280 steps
# since it last held an average share (0.99^280 = 1/16): rarely chosen codes
# are left alone, a failed re-initialisation is retried within a few tens of
# epochs. Against the counts' own total, not the batch's rows: a later call
# with larger minibatches (or a partial_fit of a larger block) moved codes in
# use (all 16 at batch 1,024 after a fit at 32).
DEAD_CODE_SHARE = 1.0 / 16.0


class VectorQuantizedLatent(Latent):
    """z_e = W h + b, quantised to the nearest of ``n_codes`` codebook vectors.

    Parameters
    ----------
    in_features : int
        Width of the encoder's features.

    latent_dim : int
        Size of z_e and of each codebook vector.

    n_codes : int
        Number of codebook vectors.

    activation : str, default="relu"
        The encoder's activation (sets the head's initial scale).

    generator : torch.Generator or None
        Source of the head's initial weights.

    Attributes
    ----------
    codebook : tensor of shape (n_codes, latent_dim)
        The codes: ``code_sums / smoothed code_sizes``.

    code_sums, code_sizes : tensors of shape (n_codes, latent_dim) and (n_codes,)
        Moving averages of the sum of the encoder outputs assigned to each
        code per step, and of their number.

    code_prior : tensor of shape (n_codes,)
        The fitted categorical prior over the codes (float64), set after
        training (``fit_prior``); ``draw`` samples it.

    quantize_code : bool
        Whether ``code`` returns the quantised vector rather than z_e.
    """

    term_name = "commitment"

    def __init__(self, in_features, latent_dim, n_codes, *, activation="relu", generator=None):
        super().__init__(latent_dim)
        self.n_codes = n_codes
        self.head = Linear(in_features, latent_dim, activation=activation, generator=generator)
        # All counts 0: every code is dead until the first training step fills it.
        # float32 whatever torch's default dtype, as the layers' weights.
        self.register_buffer("codebook", torch.zeros(n_codes, latent_dim, dtype=torch.float32))
        self.register_buffer("code_sums", torch.zeros(n_codes, latent_dim, dtype=torch.float32))
        self.register_buffer("code_sizes", torch.zeros(n_codes, dtype=torch.float32))
        self.register_buffer("code_prior", torch.full((n_codes,), 1.0 / n_codes, dtype=torch.float64))
        self.quantize_code = False

    def fit_prior(self, code_prior):
        # On the module's device, where its other buffers are (a GPU model's stayed on the CPU).
        self.code_prior = torch.as_tensor(code_prior, dtype=torch.float64, device=self.code_prior.device)

    def draw(self, n_samples, rng):
        prior = self.code_prior.cpu().numpy()
        return self.codebook.double().cpu().numpy()[rng.choice(len(prior), size=n_samples, p=prior)]

    def forward(self, features):
        return self.head(features)

    def nearest(self, z):
        """Index of the codebook vector nearest to each row of ``z`` (squared Euclidean distance).

        Differences rather than ``|z|^2 - 2 z.e + |e|^2``: each distance is
        reduced along its own row, so a row's code does not depend on the
        rows beside it (a matrix product may round by position), and no
        cancellation blurs near ties.
        """
        distances = (z.unsqueeze(-2) - self.codebook).square().sum(-1)
        return distances.argmin(-1)

    def quantize(self, z):
        """The codebook vector nearest to each row of ``z``."""
        return self.codebook[self.nearest(z)]

    def code(self, params):
        return self.quantize(params) if self.quantize_code else params

    def reconstruction_code(self, params):
        # The codebook vectors the decoder trained on: decoding the continuous z_e, which it never
        # saw, missed columns by 2-3 times as much, and the divergence check refused sound fits of
        # small tables (6.0 standard deviations where the model's own reconstructions missed by 0.86).
        return self.quantize(params)

    def training_sample(self, params, generator, *, commitment_cost=0.25, weight=None):
        """The straight-through quantised code and the commitment loss; updates the codebook in training mode.

        ``weight``: the rows' weights (``Batch.weight``), in the loss and in
        the codebook's counts; a dead code is revived from a row of positive
        weight.
        """
        z_e = params
        if self.training:
            with torch.no_grad():
                self._revive_dead_codes(z_e.detach(), generator, weight)
        index = self.nearest(z_e.detach())
        quantized = self.codebook[index]
        commitment = commitment_cost * row_mean((z_e - quantized).square().sum(-1), weight)
        if self.training:
            with torch.no_grad():
                self._update_codebook(z_e.detach(), index, weight)
        # The decoder sees the code; the encoder gets the decoder's gradient as if it had seen z_e.
        return z_e + (quantized - z_e).detach(), commitment

    def _revive_dead_codes(self, z, generator, weight=None):
        if weight is not None:
            z = z[weight > 0]
        n_rows = z.shape[0]
        if n_rows == 0:
            return
        total = float(self.code_sizes.sum())
        # Before any count (the first step), every code is dead and takes the batch's average.
        average = total / self.n_codes if total > 0 else n_rows / self.n_codes
        dead = torch.nonzero(self.code_sizes < DEAD_CODE_SHARE * average).squeeze(-1)
        n_dead = dead.numel()
        if n_dead == 0:
            return
        if n_dead <= n_rows:  # distinct rows where the batch has enough of them
            rows = torch.randperm(n_rows, generator=generator, device=z.device)[:n_dead]
        else:
            rows = torch.randint(n_rows, (n_dead,), generator=generator, device=z.device)
        self.codebook[dead] = z[rows]
        self.code_sizes[dead] = average
        self.code_sums[dead] = z[rows] * average

    def _update_codebook(self, z, index, weight=None):
        if weight is not None and not bool((weight > 0).any()):
            # Rows of weight 0 move no buffer. (Before any count the update divided 0 by 0.)
            return
        one_hot = torch.zeros(z.shape[0], self.n_codes, dtype=z.dtype, device=z.device)
        one_hot[torch.arange(z.shape[0], device=z.device), index] = 1.0 if weight is None else weight.to(z.dtype)
        self.code_sizes.mul_(EMA_DECAY).add_(one_hot.sum(0), alpha=1.0 - EMA_DECAY)
        self.code_sums.mul_(EMA_DECAY).add_(one_hot.T @ z, alpha=1.0 - EMA_DECAY)
        total = self.code_sizes.sum()
        smoothed = (self.code_sizes + COUNT_SMOOTHING) / (total + self.n_codes * COUNT_SMOOTHING) * total
        self.codebook.copy_(self.code_sums / smoothed.unsqueeze(-1))

    def log_usage(self):
        """Log of each code's share of the running counts (Laplace-smoothed): a prior while training."""
        sizes = self.code_sizes.double() + COUNT_SMOOTHING
        return torch.log(sizes / sizes.sum())

    def bound(self, params, log_prior, log_likelihood):
        """Per-row ELBO: ``log p(x | e_k) + log prior_k`` with k the row's code.

        With a one-hot posterior q(k | x) on the nearest code, the KL to the
        categorical prior is ``-log prior_k``. ``log_likelihood(z)`` gives
        log p(x | z) for codes ``(rows, latent_dim)``.
        """
        index = self.nearest(params)
        return log_likelihood(self.codebook[index]).double() + log_prior.to(params.device, torch.float64)[index]


class VQVAEModel(AutoencoderModel):
    """A VQ-VAE: one codebook vector per row, and a categorical prior over the codes.

    Loss terms: ``"commitment"`` (the latent's) and ``"reconstruction"``.
    Row score: the ELBO ``log p(x | e_k) + log prior_k`` with k the row's
    code, in X's units; while training (``fast``), with the codebook's
    running usage as the prior, after it with the fitted ``code_prior``.
    Statistics: the codebook, each code's training count, the smoothed
    prior and the perplexity of the codes' use, and how many rows the
    counts cover (``n_samples_seen_``): a ``partial_fit`` stream's sum
    every block's codes, as chosen at the end of its call.
    """

    @classmethod
    def make_latent(cls, in_features, spec, generator):
        return VectorQuantizedLatent(in_features, spec["latent_dim"], spec["n_codes"],
                                     activation=spec["activation"], generator=generator)

    def row_score(self, batch, noise=None, *, fast=False):
        latent = self.latent
        log_prior = latent.log_usage() if fast else torch.log(latent.code_prior)
        scored = batch.scored.double()
        mask = None if batch.mask is None else batch.mask.double()

        def log_likelihood(z):
            return self.columns.log_prob(scored, self.decode(z, batch.condition).double(), mask)

        bound = latent.bound(self.encode(batch.x, batch.condition), log_prior, log_likelihood)
        return bound - self.log_jacobian(batch)

    def fitted_copies(self):
        return {"codebook_": self.latent.codebook.detach().double().cpu().numpy(),
                "code_prior_": self.latent.code_prior.cpu().numpy()}

    def statistics(self, blocks, previous=None):
        latent = self.latent
        counts = None
        with torch.inference_mode():
            for batch in blocks:
                codes = latent.nearest(self.encode(batch.x, batch.condition))
                found = torch.bincount(codes, minlength=latent.n_codes).double()
                counts = found if counts is None else counts + found
        counts = counts.cpu().numpy().astype(np.int64)
        if previous is not None:
            # Earlier blocks are gone, so a stream sums their codes as chosen then: one block's
            # counts (32 rows over 64 codes) left a prior mostly of its Laplace smoothing.
            counts = previous["code_counts_"] + counts
        n_rows = int(counts.sum())
        frequencies = counts[counts > 0] / n_rows
        prior = (counts + PRIOR_PSEUDO_COUNT) / (n_rows + latent.n_codes * PRIOR_PSEUDO_COUNT)
        latent.fit_prior(prior)
        return {
            **self.fitted_copies(),  # codebook_ and code_prior_, as load checks them
            "code_counts_": counts,
            "perplexity_": float(np.exp(-np.sum(frequencies * np.log(frequencies)))),
            "noise_variance_": noise_variance(self),
            "n_samples_seen_": n_rows,
        }
