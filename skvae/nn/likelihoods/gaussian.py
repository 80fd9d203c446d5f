"""Gaussian columns: real values, standardised on the way in, with a learned noise variance."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .base import LOG_2PI, Likelihood, encoder_input, masked_sum, standardised

# Floor on a learned Gaussian variance, in standardised units: the noise
# standard deviation stays above 0.1% of the feature's.
MIN_VARIANCE = 1e-6
# A float column with more than this share of its training values at its
# smallest or largest value is censored there under likelihood="auto"
# (see GaussianLikelihood). Weather's visibility sits at its 10-mile cap
# 84% of the time; without censoring a Gaussian put a third of its draws
# there and its synthetic rows lost to GaussianCopula's (docs/synthesis.md).
CENSOR_SHARE = 0.1


def gaussian_log_prob(x, mean, log_var):
    """Log-density of ``N(mean, diag(exp(log_var)))`` at ``x``, summed over the last axis."""
    return -0.5 * (LOG_2PI + log_var + (x - mean).square() * torch.exp(-log_var)).sum(-1)


def variance_floor(resolution, scale):
    """Per-feature floor on a learned noise variance, in standardised units: ``resolution**2 / 12``.

    Values recorded at a resolution (pixels in steps of 1/16, counts,
    rounded measurements) cannot tell apart noise variances below the
    rounding's own, Delta**2 / 12 for a step Delta (the variance of a
    uniform rounding error; Theis et al. 2016). Without this floor a
    near-constant feature's variance collapses towards 0 and one unusual
    value then costs a held-out row tens of nats. Continuous data have tiny
    steps, so the floor leaves them alone. A feature constant in training
    has no step to measure; as StandardScaler gives it scale 1, it gets
    step 1, in its own units: a value it never took in training then costs
    a held-out row a finite, if large, amount.
    """
    step = np.where(np.isnan(resolution), 1.0, resolution) / scale
    return step**2 / 12.0


# A value float32 rounds to a censored bound is read as the bound where float32's
# step there is at most this share of the column's standard deviation
# (GaussianLikelihood._on_censored_bounds).
CENSOR_FLOAT32_STEP = 0.1


class GaussianLikelihood(Likelihood):
    """Gaussian p(x | z) with a learned variance that does not depend on z.

    The encoder reads each column standardised by its training mean and
    standard deviation, and the likelihood scores it so; ``to_values``
    maps back to X's units, and ``log_jacobian`` (``sum(log scale)``) turns
    a density of standardised values into one in X's units. With a linear
    decoder the model is probabilistic PCA (``noise_variance="isotropic"``)
    or factor analysis (``"per_feature"``). ``noise_variance=None`` fixes
    the variance at 1 and drops the constant: ``log_prob`` is then minus
    half the squared error, the plain autoencoder's loss.

    Parameters
    ----------
    n_features : int
        Dimension of x.

    statistics : dict or None
        ``mean``, ``scale`` and ``resolution`` of each feature over the
        training rows (None: no standardisation, no floor). The model
        holds them as the buffers ``loc`` and ``scale`` (and the floor).

    noise_variance : {"per_feature", "isotropic"} or None
        One learned variance per feature, one shared, or none. A shared
        variance is shared in X's units, as probabilistic PCA's is: in
        standardised units feature j gets ``variance * (mean_scale /
        scale_j)**2`` with the geometric mean of the scales.

    censored : sequence of (bool, bool) or None
        Per feature, whether its lowest and highest training values
        (statistics ``censor_low`` and ``censor_high``) are censoring
        bounds: a reading capped at a limit (visibility "10 miles or
        more"), an amount that is often exactly 0. A value on a censored
        bound is scored by the probability the Gaussian puts at or beyond
        it, ``Phi((mu - high) / sigma)`` (a Tobit likelihood), not by a
        density, so the decoder may put its mean past the bound for rows
        that sit on it; draws and decoded values beyond it come back as the
        bound, which gives the pile its share. A value past the bound,
        which training never saw, keeps its density, so that it still
        scores as unusual. Scores of rows on a censored bound mix that
        probability with the other columns' densities. Without noise
        variance (the autoencoder) only decoding is bounded.
    """

    auto_dtypes = frozenset({"float", "integer", "datetime"})
    censor_share = CENSOR_SHARE
    statistics = ("mean", "scale", "resolution", "censor_low", "censor_high", "constant")
    standardises_targets = True

    def __init__(self, n_features, *, statistics=None, noise_variance=None, censored=None, **options):
        super().__init__(n_features, statistics=statistics)
        scale = np.ones(n_features) if statistics is None else np.asarray(statistics["scale"], dtype=np.float64)
        mean = np.zeros(n_features) if statistics is None else np.asarray(statistics["mean"], dtype=np.float64)
        self.register_buffer("loc", torch.as_tensor(mean, dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float64))
        self.register_buffer("log_jacobian", torch.tensor(float(np.log(scale).sum()), dtype=torch.float64))
        # Per feature, for rows that miss some: the Jacobian of what they have.
        self.register_buffer("log_scale", torch.as_tensor(np.log(scale), dtype=torch.float64))
        if censored is not None and any(low or high for low, high in censored):
            self._censor(np.asarray(censored, dtype=bool).reshape(n_features, 2), statistics)
        if noise_variance is None:
            self.raw_variance = None
            # What draws from p(x | z) use when no noise is learned: 1 (the unit variance of
            # standardised values the squared error implies) until a model sets the residuals'.
            self.register_buffer("draw_variance", torch.ones(n_features, dtype=torch.float32))
            return
        shared = noise_variance == "isotropic"
        # Starts at variance ~1: the inputs are standardised.
        self.raw_variance = nn.Parameter(torch.zeros(1 if shared else n_features, dtype=torch.float32))
        resolution = None if statistics is None else statistics.get("resolution")
        floor = MIN_VARIANCE if resolution is None else variance_floor(np.asarray(resolution), scale)
        floor = torch.as_tensor(floor, dtype=torch.float32).clamp_min(MIN_VARIANCE)
        self.register_buffer("log_min_variance", torch.log(floor).expand(n_features).clone())
        offset = torch.zeros(n_features, dtype=torch.float32)
        if shared and statistics is not None:
            log_scale = torch.as_tensor(np.log(scale), dtype=torch.float32)
            offset = 2.0 * (log_scale.mean() - log_scale)
        self.register_buffer("log_variance_offset", offset)

    def _censor(self, censored, statistics):
        """Hold the censored bounds: in X's units, and standardised as the targets are (so a value at one equals it)."""
        self.censored = True
        for side, name, none in ((0, "low", -np.inf), (1, "high", np.inf)):
            values = np.full(self.n_features, none)
            key = f"censor_{name}"
            if statistics is not None and key in statistics:
                values = np.where(censored[:, side], np.asarray(statistics[key], dtype=np.float64), none)
            values = torch.as_tensor(values, dtype=torch.float64)
            flags = torch.as_tensor(censored[:, side])
            inputs = self.transform_input(torch.where(flags, values, torch.zeros((), dtype=torch.float64)))
            bound = torch.where(flags, standardised(inputs, self.loc, self.scale), torch.tensor(none))
            self.register_buffer(f"censor_{name}", bound)
            self.register_buffer(f"censor_{name}_value", values)
        self._hold_float32_readable_bounds()

    def _hold_float32_readable_bounds(self):
        """Which censored bounds a value float32 rounds to them is read as (``_on_censored_bounds``).

        Those where float32's step at the bound is at most
        ``CENSOR_FLOAT32_STEP`` of the column's standard deviation. Kept
        out of the state dict (made from it), so that models saved before
        load as they were.
        """
        for name in ("low", "high"):
            bound = getattr(self, f"censor_{name}_value").cpu().numpy()
            with np.errstate(over="ignore"):  # a bound at or beyond float32's largest value
                narrow = bound.astype(np.float32)
                finite = np.isfinite(narrow)
                step = np.spacing(np.where(finite, narrow, 0).astype(np.float32)).astype(np.float64)
            start = np.where(finite, bound, 0.0)
            spacing = (self.transform_input(torch.as_tensor(start + step))
                       - self.transform_input(torch.as_tensor(start))).abs()
            readable = torch.as_tensor(finite) & (spacing <= CENSOR_FLOAT32_STEP * self.scale.cpu())
            self.register_buffer(f"censor_{name}_readable", readable.to(self.scale.device), persistent=False)

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.censored and "censor_low_readable" not in self._buffers:  # pickled before they were kept
            self._hold_float32_readable_bounds()

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        if self.censored:  # made from the bounds and scales just loaded
            self._hold_float32_readable_bounds()

    def encode(self, values):
        x = standardised(self.transform_input(self._on_censored_bounds(values)), self.loc, self.scale)
        return encoder_input(x), x

    def _on_censored_bounds(self, values):
        """``values`` (X's units) that float32 rounds to a censored bound made that bound, where float32 resolves the column there.

        float32(3.7) is 3.7000000477: a column given as float32 to a model
        fitted on float64 (or float64 to one fitted on float32) would
        otherwise score its rows on the bound as densities, 1.5 nats lower,
        and a detector flag them. Only where float32's step at the bound is
        at most ``CENSOR_FLOAT32_STEP`` of the column's standard deviation
        (``_hold_float32_readable_bounds``): where it is coarser (an offset
        of 1.7e9 puts 128 between float32's neighbours, 20 of a column's
        standard deviations), float32 does not hold the column, and a
        float64 column's own values near the bound stay theirs. Done here,
        in the model's front, so that every method and the exported graphs
        read alike.
        """
        if not self.censored:
            return values
        narrow = values.float()
        low, high = self.censor_low_value, self.censor_high_value
        on_low = self.censor_low_readable & (narrow == low.float())
        on_high = self.censor_high_readable & (narrow == high.float())
        # Bounds float32 cannot tell apart: neither.
        values = torch.where(on_low & ~on_high, low.to(values.dtype), values)
        return torch.where(on_high & ~on_low, high.to(values.dtype), values)

    def _entry_log_prob(self, target, params, log_var):
        """Each entry's log-density, or at a censored bound its log-probability; and where that is (or None)."""
        terms = -0.5 * (LOG_2PI + log_var + (target - params).square() * torch.exp(-log_var))
        if not self.censored:
            return terms, None
        std = torch.exp(0.5 * log_var)
        low, high = self.censor_low, self.censor_high
        # On the bound exactly (targets and bounds are standardised alike): a value
        # past it was never seen in training, and its density keeps it unusual.
        at_low, at_high = target.float() == low, target.float() == high
        # Where a side is not censored its bound is infinite: a finite stand-in keeps
        # the unused branch's gradient finite (torch.where passes NaN * 0 on).
        beyond_high = torch.special.log_ndtr((params - torch.where(torch.isfinite(high), high, params)) / std)
        beyond_low = torch.special.log_ndtr((torch.where(torch.isfinite(low), low, params) - params) / std)
        # The row's score turns densities of standardised values into X's units by
        # subtracting each column's log scale (``log_jacobian``); a probability
        # needs no such change, so it gets that log scale back here.
        log_scale = self.log_scale.to(terms.dtype)
        terms = torch.where(at_high, beyond_high + log_scale, torch.where(at_low, beyond_low + log_scale, terms))
        return terms, at_low | at_high

    def _bounded(self, targets):
        """Targets kept within the censored bounds: what lies beyond one is the bound."""
        if not self.censored:
            return targets
        low, high = self.censor_low.to(targets.dtype), self.censor_high.to(targets.dtype)
        return torch.minimum(torch.maximum(targets, low), high)

    def log_variance(self):
        # log(min_variance + exp(raw + offset)): a smooth floor that keeps its gradient.
        raw = self.raw_variance + self.log_variance_offset
        return self.log_min_variance + F.softplus(raw - self.log_min_variance)

    def log_prob(self, target, params, mask=None):
        if self.raw_variance is None:
            if mask is None:
                return -0.5 * (target - params).square().sum(-1)
            return masked_sum(-0.5 * (target - params).square(), mask)
        if mask is None and not self.censored:
            return gaussian_log_prob(target, params, self.log_variance())
        terms, _ = self._entry_log_prob(target, params, self.log_variance())
        return masked_sum(terms, mask)

    def mean(self, params):
        return params

    def squared_error(self, target, params):
        if not self.censored:
            return super().squared_error(target, params)
        # A location past a censored bound decodes as the bound (to_values), and a learned-variance
        # fit reads it so: the miss is the bounded one (a fit of flights' rain, censored at 0, sat 6
        # standard deviations below it), an autoencoder's score too, whose reconstructions come
        # back bounded (a row on the bound, reconstructed there, was charged the unbounded miss).
        return (self._bounded(target.double()) - self._bounded(self.pinned_mean(params))).square()

    def sample(self, params, generator):
        std = self.draw_variance.sqrt() if self.raw_variance is None else torch.exp(0.5 * self.log_variance())
        noise = torch.randn(params.shape, generator=generator, device=params.device, dtype=params.dtype)
        return params + std * noise

    def variance(self):
        return None if self.raw_variance is None else torch.exp(self.log_variance())

    def learned_noise(self):
        if self.raw_variance is None:
            return None
        # Above the rounding's floor, which a column of a few values at a coarse step (caravan's
        # codes) sets at many times its variance; read on a censored column it is the spread
        # of a Gaussian behind the bound, which may rightly be many times that of the values seen.
        noise = (torch.exp(self.log_variance().double()) - torch.exp(self.log_min_variance.double())).clamp_min(0.0)
        judged = torch.ones_like(noise, dtype=torch.bool)
        if self.censored:
            judged = ~(self.censor_low.isfinite() | self.censor_high.isfinite())
        if self.raw_variance.numel() == 1 and judged.any():
            # One variance in X's units over columns of different scales: many of a narrow column's
            # standard deviations by design (40 at scales 1 to 40). Read in the widest column's, where
            # it is least: a fitted one is there at most the largest squared miss of any column, each
            # in its own standard deviations.
            noise = noise[judged].min().expand_as(noise)
        return torch.where(judged, noise, torch.nan).detach()

    def mixture(self, params, weights):
        if not self.censored:
            return super().mixture(params, weights)
        # Each class's point value first: a mean past a censored bound stands for the bound.
        return sum(float(w) * self._bounded(self.mean(p).double()) for w, p in zip(weights, params))

    def to_values(self, targets):
        values = self._values(targets.double())
        values = self._pinned(values)
        if not self.censored:
            return values
        # What lies on or past a censored bound comes back as the bound, exactly
        # (float32 targets would miss it by a rounding).
        values = torch.where(targets >= self.censor_high, self.censor_high_value, values)
        return torch.where(targets <= self.censor_low, self.censor_low_value, values)

    def _values(self, targets):
        """Float64 standardised targets in X's units."""
        return targets * self.scale + self.loc

    def view(self, params):
        return self._bounded(params)
