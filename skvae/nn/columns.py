"""The model's front and back: X's columns as numbers, to encoder inputs and targets, and back.

``ColumnCodec`` is the first module of every model and the likelihood of a
whole row. It reads ``values``, a float tensor with one column per column
of X, in X's order: a number as it is, a category as its index, NaN where
an entry is missing (``skvae._schema`` makes these from arrays, sparse
matrices and DataFrames). It groups the columns by likelihood (one
``skvae.nn.likelihoods`` part per group, in the registry's order) and
gives:

* the **encoder inputs** (``forward``): each column's inputs in X's
  column order (one per value, k for a categorical column), 0 for a
  missing entry, then one indicator per column that had missing values at
  fit, 1 where the entry is missing, so the encoder knows what it did not
  see;
* the **targets** the likelihood scores, the groups side by side, and the
  **mask**, 1 where an entry was observed (``encode``);
* the way back (``decode``): the decoder's output to values in X's units,
  as means, most probable values or draws.

The training loop, ``transform``, ``score_samples``, the imputer and the
exported graphs all run this one module, so they cannot disagree about how
a column is encoded. Its fitted statistics are buffers, saved with the
weights.
"""

import math

import numpy as np
import torch
from torch import nn

from .layers import all_finite
from .likelihoods import LIKELIHOODS


class ColumnCodec(nn.Module):
    """X's columns <-> encoder inputs, likelihood targets and masks.

    Parameters
    ----------
    kinds : sequence of str
        The likelihood of each column of X, by its registry name.

    n_categories : dict of int to int
        Categories of each categorical column, by column index.

    flagged : sequence of int
        Columns that get a missing-value indicator input (those with holes at fit).

    statistics : dict of int to dict
        For each column whose likelihood standardises its input, the
        statistics it needs (``mean``, ``scale``, ``resolution``), by column.

    censored : dict of int to (bool, bool)
        Columns censored at their lowest and highest training value, by
        column index (``censor_share`` in ``skvae.nn.likelihoods.base``).

    **options
        For the likelihoods' constructors (``noise_variance``).
    """

    def __init__(self, kinds, *, n_categories=None, flagged=(), statistics=None, censored=None, **options):
        super().__init__()
        self.n_columns = len(kinds)
        self.kinds = list(kinds)
        n_categories = n_categories or {}
        statistics = statistics or {}
        censored = censored or {}
        parts, columns = [], []
        for name, cls in LIKELIHOODS.items():
            group = [j for j, kind in enumerate(kinds) if kind == name]
            if not group:
                continue
            stats = None
            if cls.statistics:
                stats = {key: [statistics[j][key] for j in group] for key in cls.statistics
                         if all(key in statistics.get(j, {}) for j in group)} or None
            censoring = [censored.get(j, (False, False)) for j in group]
            parts.append(cls(len(group), statistics=stats, n_categories=[n_categories.get(j) for j in group],
                             censored=censoring if any(any(c) for c in censoring) else None, **options))
            columns.append(group)
        self.parts = nn.ModuleList(parts)
        self.columns = columns
        # Each categorical column's number of levels (inf for the others): an exported graph reads a
        # category as its index, and one no level has is a hole (``unknown_categories_as_holes``).
        counts = [n_categories.get(j) if LIKELIHOODS[kind].takes_categories else None for j, kind in enumerate(kinds)]
        self._category_counts = None if all(k is None for k in counts) else torch.tensor(
            [math.inf if k is None else float(k) for k in counts], dtype=torch.float64)
        self.flagged = [int(j) for j in flagged]
        # Gathered by a tensor made once, or not at all: indexing by the list made one a call
        # (131 of a one-row transform's 780 us for 784 flagged columns).
        self._flagged_index = torch.tensor(self.flagged, dtype=torch.long)
        self._all_flagged = self.flagged == list(range(self.n_columns))
        # Where each column's inputs start, in X's column order.
        widths = [0] * self.n_columns
        for part, group in zip(parts, columns):
            for j, width in zip(group, part.input_widths):
                widths[j] = width
        starts = torch.tensor([0, *widths]).cumsum(0)
        self.n_value_inputs = int(starts[-1])
        self.n_inputs = self.n_value_inputs + len(self.flagged)
        self.n_targets = self.n_columns
        self._input_positions = [
            torch.cat([torch.arange(int(starts[j]), int(starts[j + 1])) for j in group]) for group in columns
        ]
        # A group whose inputs lie side by side is written as a slice: a copy, where
        # writing through the positions is an indexed scatter, several times slower
        # for thousands of one-hot inputs.
        self._input_slices = [
            slice(int(p[0]), int(p[0]) + len(p))
            if len(p) and torch.equal(p, torch.arange(int(p[0]), int(p[0]) + len(p))) else None
            for p in self._input_positions
        ]
        self._identity = len(parts) == 1 and columns[0] == list(range(self.n_columns))
        # A row is its own target (standardised X, or X in [0, 1]) when one likelihood
        # reads every column as a single input it also scores.
        self.plain = self._identity and not self.flagged and parts[0].targets_are_inputs
        order = [j for group in columns for j in group]
        self._target_order = torch.tensor(order, dtype=torch.long)
        self._column_of_target = torch.empty(self.n_columns, dtype=torch.long)
        self._column_of_target[self._target_order] = torch.arange(self.n_columns)
        self._parameter_widths = [part.n_parameters() for part in parts]
        # One input-wide row of column indices: which column each value input belongs to.
        self._input_column = torch.repeat_interleave(torch.arange(self.n_columns), torch.tensor(widths))

    # ------------------------------------------------------------- in

    def _filled(self, values):
        values = values.double()
        holes = torch.isnan(values)
        return _zero_holes(values, holes), holes

    def unknown_categories_as_holes(self, values):
        """``values`` with a category index that no level has (negative, past the last, fractional) as NaN.

        What an exported graph reads for a category it is given as an index
        (``transform`` refuses an unknown level, or reads it as a hole under
        ``handle_unknown="ignore"``): encoded as it came, -1 set another
        column's input, silently. Integer values come back as float64.
        """
        if self._category_counts is None:
            return values
        values = values if values.dtype.is_floating_point else values.double()
        counts = self._category_counts.to(device=values.device, dtype=values.dtype)
        categorical = torch.isfinite(counts)
        unknown = categorical & ((values < 0) | (values >= counts) | (values != torch.floor(values)))
        return torch.where(unknown, torch.full((), torch.nan, dtype=values.dtype, device=values.device), values)

    def forward(self, values):
        """Encoder inputs of ``values`` ``(rows, n_columns)``: float32 ``(rows, n_inputs)``."""
        filled, holes = self._filled(values)
        return self._inputs(filled, holes)

    def _encoded(self, filled):
        """Each part's ``encode`` of its columns of hole-free ``filled``: ``(inputs, targets)`` pairs."""
        if self._identity:
            return [self.parts[0].encode(filled)]
        return [part.encode(filled[:, group]) for part, group in zip(self.parts, self.columns)]

    def _inputs(self, filled, holes, encoded=None):
        """Encoder inputs of hole-free ``filled`` values; ``holes`` (None: there are none) zero theirs.

        ``encoded``: the parts' ``_encoded(filled)``, where the caller needs their targets too.
        """
        encoded = self._encoded(filled) if encoded is None else encoded
        zero = torch.zeros((), dtype=torch.float32, device=filled.device)
        if self._identity and self.n_value_inputs == self.n_columns:
            inputs = encoded[0][0]
            if holes is not None:
                inputs = torch.where(holes, zero, inputs)
        else:
            inputs = torch.empty(filled.shape[0], self.n_value_inputs, dtype=torch.float32, device=filled.device)
            for (part_inputs, _), positions, side_by_side in zip(encoded, self._input_positions, self._input_slices):
                if side_by_side is not None:
                    inputs[:, side_by_side] = part_inputs
                else:
                    inputs[:, positions.to(filled.device)] = part_inputs
            if holes is not None:
                # Each column's hole flag copied to its inputs. Gathered along rows of the
                # transposed flags: gathering columns of a boolean took 1.4 ms for 200 rows
                # of 3,388 inputs (a 3,264-level column), this and the transposition back
                # (which keeps the inputs row-major) 0.3 ms.
                spread = holes.t().contiguous().index_select(0, self._input_column.to(filled.device)).t()
                inputs = torch.where(spread.contiguous(), zero, inputs)
        if self.flagged:
            if holes is None:
                flags = torch.zeros(filled.shape[0], len(self.flagged), dtype=torch.bool, device=filled.device)
            else:
                flags = holes if self._all_flagged else holes.index_select(1, self._flagged_index.to(holes.device))
            inputs = torch.cat([inputs, flags.to(inputs.dtype)], dim=1)
        return inputs

    def encode(self, values, targets=True):
        """``(inputs, targets, mask)`` of ``values``; targets and mask None when the row is its own target.

        That is the case for a plain row (one likelihood reading every
        column as the input it scores) without missing entries whose inputs
        are its targets (not so for a value the encoder reads compressed,
        ``encoder_input``), and when ``targets`` is False: the inputs are
        then all the model needs. The inputs are ``forward``'s, bitwise;
        where nothing is missing this skips the steps that place the holes.
        """
        values = values.double()
        # A min-max pass finds no hole at a fifth of isnan's cost; isnan only where it finds one.
        holes = None if all_finite(values) else torch.isnan(values)
        complete = holes is None or not bool(holes.any())
        filled = values if complete else _zero_holes(values, holes)
        encoded = self._encoded(filled)
        inputs = self._inputs(filled, None if complete else holes, encoded)
        if not targets or (self.plain and complete and torch.equal(inputs, encoded[0][1])):
            return inputs, None, None
        targets = [part_targets for _, part_targets in encoded]
        targets = torch.cat(targets, dim=1) if len(targets) > 1 else targets[0]
        if complete:
            return inputs, targets, torch.ones(values.shape, dtype=torch.float32, device=values.device)
        missing = holes[:, self._target_order.to(holes.device)] if not self._identity else holes
        targets = torch.where(missing, torch.zeros((), dtype=targets.dtype, device=targets.device), targets)
        return inputs, targets, (~missing).to(torch.float32)

    # ------------------------------------------------------------ scores

    def log_prob(self, target, params, mask=None):
        """log p(x | z) of each row: the parts' log-likelihoods of their targets, summed."""
        if len(self.parts) == 1:
            return self.parts[0].log_prob(target, params, mask)
        targets = target.split(self._target_widths(), -1)
        masks = [None] * len(self.parts) if mask is None else mask.split(self._target_widths(), -1)
        outputs = params.split(self._parameter_widths, -1)
        return sum(part.log_prob(t, p, m) for part, t, p, m in zip(self.parts, targets, outputs, masks))

    def squared_error(self, target, params):
        """Each entry's squared reconstruction error (the parts', in the targets' order), float64."""
        if len(self.parts) == 1:
            return self.parts[0].squared_error(target, params)
        targets = target.split(self._target_widths(), -1)
        outputs = params.split(self._parameter_widths, -1)
        return torch.cat([part.squared_error(t, p) for part, t, p in zip(self.parts, targets, outputs)], -1)

    def set_draw_variances(self, variances):
        """Give parts that learn no noise (an autoencoder's) the variance of draws, one per target column.

        ``variances`` is in the targets' order and units (standardised
        values); parts with a learned noise variance, or none to set, keep
        theirs.
        """
        for part, values in zip(self.parts, torch.as_tensor(variances).split(self._target_widths(), -1)):
            if getattr(part, "draw_variance", None) is not None:
                # In place: the buffer stays on the model's device (a GPU's, after a fit there).
                part.draw_variance.copy_(values)

    def _target_widths(self):
        return [len(group) for group in self.columns]

    def n_parameters(self):
        return sum(self._parameter_widths)

    def initial_output_bias(self):
        """Where a built-in decoder's outputs start, part by part (0 where a part says nothing); None: all at 0."""
        biases = [part.initial_output_bias() for part in self.parts]
        if all(bias is None for bias in biases):
            return None
        return torch.cat([torch.zeros(width, dtype=torch.float32) if bias is None else bias.float().cpu()
                          for bias, width in zip(biases, self._parameter_widths)])

    @property
    def log_jacobian(self):
        """``sum(log scale)`` over the columns whose density is of standardised values, as a float64 0-d tensor."""
        total = None
        for part in self.parts:
            if part.standardises_targets:
                total = part.log_jacobian if total is None else total + part.log_jacobian
        return torch.zeros((), dtype=torch.float64) if total is None else total

    def missing_jacobian(self, mask):
        """Per row, ``sum(log scale)`` over the standardised entries ``mask`` marks missing (float64)."""
        offset, total = 0, None
        for part, group in zip(self.parts, self.columns):
            if part.standardises_targets:
                missing = 1.0 - mask[..., offset : offset + len(group)].double()
                term = (missing * part.log_scale).sum(-1)
                total = term if total is None else total + term
            offset += len(group)
        return 0.0 if total is None else total

    def _standardised_parts(self):
        offset = 0
        for part, group in zip(self.parts, self.columns):
            if part.standardises_targets:
                yield offset, group
            offset += len(group)

    def standardised_targets(self):
        """Positions, among the targets, of the standardised ones (Gaussian columns)."""
        return [offset + k for offset, group in self._standardised_parts() for k in range(len(group))]

    def pinned_targets(self):
        """Which standardised targets (``standardised_targets``' order) decode as a constant held at fit."""
        pinned = []
        for part in self.parts:
            if part.standardises_targets:
                constant = getattr(part, "is_constant", None)
                pinned += [False] * part.n_features if constant is None else constant.cpu().tolist()
        return pinned

    def standardisation(self):
        """``(loc, scale)``, float64 numpy, of the standardised targets, in the order of ``standardised_targets``."""
        loc, scale = [], []
        for part in self.parts:
            if part.standardises_targets:
                loc.append(part.loc.cpu().numpy())
                scale.append(part.scale.cpu().numpy())
        if not loc:
            return None, None
        return np.concatenate(loc), np.concatenate(scale)

    def release_constants(self, rows):
        """Decode as learnt the columns held constant at the first training call that ``rows`` vary.

        A column that held one value in the first call's rows decodes as
        that value; a later ``partial_fit`` block or warm-started fit that
        varies it gives it to the decoder. ``rows`` is the call's training
        row source.
        """
        pinned = [hasattr(part, "is_constant") and bool(part.is_constant.any()) for part in self.parts]
        if not any(pinned):
            return  # no pass over the rows
        widths = self._target_widths()
        for batch in rows.blocks():
            targets = batch.scored.split(widths, -1)
            masks = [None] * len(self.parts) if batch.mask is None else batch.mask.split(widths, -1)
            for part, is_pinned, target, mask in zip(self.parts, pinned, targets, masks):
                if is_pinned:
                    part.release_constants(target, mask)

    def standardised_noise(self):
        """The standardised targets' learned noise variances above their floors (``learned_noise``).

        In ``standardised_targets``' order and their standard deviations
        squared, float64 numpy; NaN where none is learned (the autoencoder).
        """
        out = []
        for part in self.parts:
            if part.standardises_targets:
                noise = part.learned_noise()
                out.append(np.full(part.n_features, np.nan) if noise is None else noise.cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def standardised_columns(self):
        """X's columns whose targets are standardised, in the order of ``standardised_targets``."""
        return [j for _, group in self._standardised_parts() for j in group]

    # --------------------------------------------------------------- out

    def _per_part(self, params, decode):
        outputs = params.split(self._parameter_widths, -1)
        return [decode(part, output) for part, output in zip(self.parts, outputs)]

    def mean(self, params):
        """Each row's expected targets (the targets' units, grouped by likelihood)."""
        means = self._per_part(params, lambda part, output: part.mean(output))
        return means[0] if len(means) == 1 else torch.cat(means, -1)

    def decode(self, params, how="mean", generator=None):
        """X-shaped float64 values from the decoder's output: ``how`` is "mean", "mode" or "sample".

        A categorical column comes back as its category's index (its most
        probable one, for "mean" and "mode"); a count as its mean, or for
        "mode" its most probable value; a Bernoulli column as its
        probability, or for "mode" 0 or 1 where it held only 0 and 1.
        """
        def one(part, output):
            if how == "sample":
                targets = part.sample(output, generator)
            else:
                targets = getattr(part, how)(output)
            return part.to_values(targets)

        values = self._per_part(params, one)
        if self._identity:
            return values[0]
        grouped = torch.cat(values, -1)
        return grouped[:, self._column_of_target.to(grouped.device)]

    def decode_mixture(self, params, weights):
        """X-shaped float64 values: the mean of p(x | z) under a mixture of decoder outputs (one per class).

        A categorical column comes back as its most probable category under
        the mixture; every other column as the weighted mean.
        """
        outputs = [p.split(self._parameter_widths, -1) for p in params]
        values = [part.to_values(part.mixture([o[k] for o in outputs], weights)) for k, part in enumerate(self.parts)]
        if self._identity:
            return values[0]
        grouped = torch.cat(values, -1)
        return grouped[:, self._column_of_target.to(grouped.device)]

    def variance(self):
        """The Gaussian parts' learned noise variances in X's units squared, by column; None if none."""
        out = {}
        for part, group in zip(self.parts, self.columns):
            variance = part.variance()
            if variance is not None and part.standardises_targets:
                values = variance.detach().double() * part.scale**2
                out.update({j: values[k] for k, j in enumerate(group)})
        return out

    # --------------------------------------------------- the discriminator

    @property
    def view_width(self):
        return sum(part.view_width for part in self.parts)

    def view(self, params):
        """Generated rows as a discriminator reads them (differentiable)."""
        views = self._per_part(params, lambda part, output: part.view(output))
        return views[0] if len(views) == 1 else torch.cat(views, -1)

    def observed_view(self, target, mask=None, fill=None):
        """Observed rows as a discriminator reads them; a missing entry takes ``fill``'s value there."""
        targets = target.split(self._target_widths(), -1)
        view = torch.cat([part.observed_view(t) for part, t in zip(self.parts, targets)], -1)
        if mask is None:
            return view
        masks = mask.split(self._target_widths(), -1)
        observed = torch.cat([part.view_mask(m) for part, m in zip(self.parts, masks)], -1)
        return torch.where(observed > 0, view, fill)


def _zero_holes(values, holes):
    """``values`` with 0 where ``holes``: what every part encodes (``forward`` and ``encode`` alike)."""
    return torch.where(holes, torch.zeros((), dtype=values.dtype, device=values.device), values)
