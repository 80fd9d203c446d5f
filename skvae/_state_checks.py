"""Whether a saved or pickled state is one a fit could have written.

A fitted estimator holds some facts twice (a column's levels in its schema,
its dtype and ``column_categories_``; a codebook in the network and in
``codebook_``) and numbers of known kinds. A state whose copies disagree, or
whose entries are of another kind, would report one thing and compute
another, or fail at a later call with a bare error: ``load`` and unpickling
refuse it, each naming what it read.
"""

import contextlib

import numpy as np
import pandas as pd


class DamagedState(TypeError):
    """A state no fit writes: copies of one fitted fact that disagree, or an entry of the wrong kind.

    A TypeError, which ``_persistence._rebuilt`` reports as a damaged file; ``pickled_state_checked`` as a
    damaged pickle.
    """


@contextlib.contextmanager
def pickled_state_checked(estimator):
    """Report a ``DamagedState`` met while unpickling ``estimator`` as a ValueError that names the pickle."""
    try:
        yield
    except DamagedState as error:
        raise ValueError(f"The pickled {type(estimator).__name__} is damaged or was edited: {error}.") from None


def check_number(value, name, low=-np.inf, high=np.inf, *, whole=False, finite=False):
    """``value``, a saved number that a fit could have written (NaN is in no range); ``DamagedState`` otherwise."""
    kinds = (int, np.integer) if whole else (int, float, np.integer, np.floating)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds) or not low <= value <= high \
            or (finite and not np.isfinite(value)):
        kind = "a finite number" if finite else f"{'a whole number' if whole else 'a number'} in [{low}, {high}]"
        raise DamagedState(f"{name} {value!r}, where a fit writes {kind}")
    return value


def check_columns(schema, state):
    """Refuse a state whose copies of what its columns are disagree: an edited file computes otherwise.

    A categorical column's levels are in the schema (what ``transform``
    reads a level's index by), in its pandas dtype (what
    ``inverse_transform`` gives back a frame's codes by) and in
    ``column_categories_`` (what exported graphs are documented to read and
    return); likelihoods and censored bounds in the schema and in their
    attributes. A fit writes them all from the schema.
    """
    for column in schema.columns:
        if isinstance(column.dtype, pd.CategoricalDtype) and column.categories is not None \
                and not same(column.categories, column.dtype.categories.to_numpy()):
            raise DamagedState(f"column {column.name!r}'s categories {list(column.categories)[:20]} for its "
                                f"dtype's {list(column.dtype.categories)[:20]}")
    for name, value in schema.fitted_attributes().items():
        if name in state and not same(state[name], value):
            raise DamagedState(f"{name} {shown(state[name])} for columns that give {shown(value)}")


def same(a, b):
    """Whether two fitted values hold the same entries (dicts, sequences and arrays of them, by value).

    Dicts item by item in order (a fit writes each in the columns' order), so that a label that
    equals no copy of itself, NaN, still matches its own position. Two numeric arrays match in
    shape too; other sequences by their entries in order.
    """
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and same(list(a.items()), list(b.items()))
    if all(isinstance(v, np.ndarray) and v.dtype.kind in "biuf" for v in (a, b)):  # a codebook's thousands at once
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        a, b = list(np.asarray(a, dtype=object).ravel()), list(np.asarray(b, dtype=object).ravel())
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) or (_is_nan(a) and _is_nan(b))  # NaN, as a label, is its own
    except (TypeError, ValueError):  # pd.NA's truth, say
        return False


def _is_nan(value):
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def shown(value, width=200):
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
