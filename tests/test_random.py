"""Row-keyed standard-normal draws (skvae/_random.py)."""

import numpy as np
from scipy import stats

from skvae._random import row_keys, row_normals


def _rows(n=4000, d=5, seed=0):
    return np.random.RandomState(seed).normal(size=(n, d)).astype(np.float32)


def test_draws_are_standard_normal_and_independent():
    keys = row_keys(_rows(), seed=1)
    draws = row_normals(keys, range(4), 3)  # (4, 4000, 3)
    values = draws.ravel()
    assert stats.kstest(values, "norm").pvalue > 1e-3
    assert abs(values.mean()) < 0.03 and abs(values.std() - 1) < 0.03
    # Across rows, columns and draw indices, no correlation beyond chance.
    flat = draws.transpose(1, 0, 2).reshape(4000, 12)
    correlation = np.corrcoef(flat, rowvar=False) - np.eye(12)
    assert np.abs(correlation).max() < 0.07


def test_draws_depend_on_row_content_and_seed_only():
    rows = _rows(100)
    keys = row_keys(rows, seed=7)
    np.testing.assert_array_equal(row_keys(rows[::-1], seed=7), keys[::-1])
    np.testing.assert_array_equal(row_keys(rows[3:4], seed=7), keys[3:4])
    assert len(np.unique(keys)) == 100
    assert not np.any(row_keys(rows, seed=8) == keys)
    # Same values in another column order: another key.
    assert not np.any(row_keys(rows[:, ::-1], seed=7) == keys)
    first, second = row_normals(keys, range(2), 4)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(row_normals(keys[5:6], [1], 4)[0], second[5:6])
    # A draw is the same whichever other draws come with it.
    np.testing.assert_array_equal(row_normals(keys, [1, 0], 4), np.stack([second, first]))


def test_odd_number_of_columns():
    keys = row_keys(_rows(10), seed=0)
    draws = row_normals(keys, [0], 5)
    assert draws.shape == (1, 10, 5) and np.all(np.isfinite(draws))
    np.testing.assert_array_equal(draws, row_normals(keys, [0], 5))
