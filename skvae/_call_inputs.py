"""What a call meets in X that its fit did not: holes in new columns, unseen categories, values past a range.

``transform``, ``score_samples``, a continued fit and the imputer read such
inputs the same way (a hole as the encoder's zero input, an unseen category
under ``handle_unknown="ignore"`` as a hole, a value past a likelihood's
support as its nearest bound or as it is) and go on; the warnings here say
so, once a call, in the same words for every estimator.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._data import columns_where, sparse_holes
from ._warnings import warn
from .nn import LIKELIHOODS

# How an encoder without a column's missing-value input reads a hole there: its inputs zeroed.
HOLE_READ_AS = "as a zero input (a standardised column's mean, a Bernoulli column's 0, no level of a categorical one)"


def nothing_observed(values):
    """Whether every entry of ``values`` (an array or a sparse matrix) is a hole."""
    if sp.issparse(values):  # canonical (``_validated``): one stored entry per position
        return values.nnz == np.prod(values.shape) and bool(np.isnan(values.data).all())
    return not columns_where(values, lambda block: ~np.isnan(block)).any()


def columns_with_holes(values):
    """The columns of ``values`` (an array or a sparse matrix) that hold a hole, as a set of indices."""
    if sp.issparse(values):
        return set(np.flatnonzero(sparse_holes(values).getnnz(axis=0)).tolist())
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isnan(values.sum()):  # the common case, without a boolean temporary of X's size
            return set()
    return set(np.flatnonzero(columns_where(values, np.isnan)).tolist())


def unknown_levels(X, values, columns, schema):
    """Those of ``columns`` (indices) where X holds a category unseen at fit, which ``values`` read as a hole."""
    if not schema.frame:
        return set()
    return {j for j in columns if schema.columns[j].categories is not None
            and bool((np.isnan(values[:, j]) & ~pd.isna(X.iloc[:, j]).to_numpy(dtype=bool)).any())}


def widened(far, block_far):
    """Merge one block's ``{column: (min, max)}`` into the call's."""
    for j, (low, high) in block_far.items():
        seen = far.get(j, (low, high))
        far[j] = (min(seen[0], low), max(seen[1], high))


def warn_of_inputs_far_beyond(estimator, far):
    """Warn of ``far``'s columns (``{column: (min, max)}``), whose values the encoder cannot read as fitted."""
    if not far:
        return
    schema, parts = estimator._schema, []
    for kind in sorted({schema.columns[j].likelihood for j in far}):
        columns = [j for j in sorted(far) if schema.columns[j].likelihood == kind]
        names = [schema.columns[j].name for j in columns]  # an array's: its positions in X
        cls = LIKELIHOODS[kind]
        low, high = cls.support
        read = f"reads them as the nearest value in [{low:g}, {high:g}]" if cls.inputs_clamped else "reads them as they are"
        parts.append(
            f"{'columns' if len(names) > 1 else 'column'} {names[:5]}{', ...' if len(names) > 5 else ''} "
            f"({len(names)} in all), fitted as {kind} on [{low:g}, {high:g}], {'hold' if len(names) > 1 else 'holds'} values from "
            f"{min(far[j][0] for j in columns):.3g} to {max(far[j][1] for j in columns):.3g} (the encoder {read})"
        )
    # A call goes on, as PCA.transform does past the training range: one value must not sink a whole
    # cross-validation fold. Only its score needs the likelihood, and scoring refuses it.
    warn(
        f"{type(estimator).__name__}: X holds values past the range the model was fitted on: "
        f"{'; '.join(parts)}. These rows' codes (and an imputer's fills) mean little, and scoring "
        "them is refused. Transform X as it was for fit (e.g. pixels of 0-255 divided by 255; in a "
        "Pipeline, the same scaler does it), or, where such values belong in a column, fit again "
        "with likelihood={column: \"gaussian\"} for it.",
        UserWarning,
    )


def warn_of_new_holes(estimator, columns, consequence, unknown=()):
    """Warn that X has holes in ``columns`` (indices), which had none at fit, and what that does.

    ``unknown``: those of them where a category unseen at fit was read as a hole.
    """
    names = [estimator._schema.columns[j].name for j in sorted(columns)]
    categorical = [estimator._schema.columns[j].name for j in sorted(unknown)]
    levels = ""
    if categorical:
        # A category unseen at fit is no hole to fit on or fill: a fill swaps it for a known level.
        levels = (f" In columns of categories ({categorical[:5]}{', ...' if len(categorical) > 5 else ''}) "
                  "a category unseen at fit is read as such a hole: to model it as a level, declare every "
                  f"level up front (X.astype({{{categorical[0]!r}: pd.CategoricalDtype(all_levels)}})) and fit "
                  "again; a level no training row held then scores as unlikely.")
    warn(
        f"{type(estimator).__name__}: X has holes (or categories unseen at fit, read as holes) in "
        f"columns that had none at fit ({names[:5]}{', ...' if len(names) > 5 else ''}). {consequence}{levels}",
        UserWarning,
    )
