"""Randomness: seeds from ``random_state``, and normal draws keyed by row content.

The global numpy and torch RNGs are never used: ``seed_source`` turns
``random_state`` into a local RandomState, whose draws seed local
``torch.Generator``s.

Monte-Carlo scores must be deterministic and must not depend on which other
rows share a batch. Drawing one set of noise vectors and broadcasting it over
every row gives both, but then every row shares the same Monte-Carlo error,
which no longer averages out over a data set: the mean score of 300 rows was
off by 0.4 nats with 16 shared draws. Keying a counter-based generator
(splitmix64, Steele et al. 2014) by a hash of each row's bits gives every row
its own independent draws, so the error of a mean over n rows falls as
1/sqrt(n), and a row's draws are the same whatever batch it arrives in.
"""

import numpy as np
from sklearn.utils import check_random_state

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def seed_source(random_state):
    """A RandomState for ``random_state``; ``None`` gets fresh OS entropy.

    scikit-learn would map ``None`` to numpy's global RandomState; drawing
    from it would change the caller's global RNG state, so we do not.
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    try:
        return check_random_state(random_state)
    except (ValueError, TypeError):
        # A call's own random_state (sample's) is not checked by the constructors' constraints: numpy's
        # "Seed must be between 0 and 2**32 - 1" named no parameter.
        way = (" A numpy Generator cannot seed one: pass an int drawn from it, e.g. int(rng.integers(2**32))."
               if isinstance(random_state, np.random.Generator) else "")
        raise ValueError(f"random_state must be an int in [0, 2**32 - 1], a numpy RandomState or None; got "
                         f"{random_state!r}.{way}") from None


def draw_seed(rng):
    """A seed for a torch.Generator or a RandomState, drawn from ``rng``."""
    return int(rng.randint(np.iinfo(np.int32).max))


def _splitmix64(values):
    """splitmix64's output function on a uint64 array (wraps modulo 2**64)."""
    z = values + _GOLDEN_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def row_keys(rows, seed):
    """A 64-bit key per row of a float32 array, from its bits and ``seed``.

    Equal values give equal keys: -0.0 is read as 0.0 (adding 0.0 turns
    the one into the other and leaves every other value's bits alone), so
    ``np.round(-0.3)`` scores as 0.0 does.
    """
    values = np.asarray(rows, dtype=np.float32) + np.float32(0.0)
    bits = values.view(np.uint32).astype(np.uint64)
    seed_key = _splitmix64(np.array([seed], dtype=np.uint64))
    # One odd multiplier per column: a row's key changes when any of its
    # values, or their order, changes.
    multipliers = _splitmix64(np.arange(rows.shape[1], dtype=np.uint64) ^ seed_key) | np.uint64(1)
    with np.errstate(over="ignore"):
        return _splitmix64((bits * multipliers).sum(axis=1, dtype=np.uint64) ^ seed_key)


def row_normals(keys, draws, n_columns):
    """Standard-normal array of shape ``(len(draws), len(keys), n_columns)`` for the draw indices ``draws``.

    Uses the Box-Muller transform on pairs of 53-bit uniforms in (0, 1].
    A row's draw of a given index is the same whatever else is drawn.
    """
    n_pairs = (n_columns + 1) // 2
    draws = np.asarray(draws, dtype=np.uint64)
    counters = draws[:, None] * np.uint64(2 * n_pairs) + np.arange(2 * n_pairs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        bits = _splitmix64(keys[None, :, None] + counters[:, None, :] * _GOLDEN_GAMMA)
    uniforms = ((bits >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53
    radius = np.sqrt(-2.0 * np.log(uniforms[..., :n_pairs]))
    angle = 2.0 * np.pi * uniforms[..., n_pairs:]
    normals = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
    return normals[..., :n_columns]


# RowNoise draws this many values at a time at most: one call per draw cost
# a one-row score_samples 0.7 ms for its 16 draws; all of them at once, an
# IWAE bound's thousands of draws of a chunk would take gigabytes.
_DRAW_BLOCK_VALUES = 2**20


class RowNoise:
    """Standard-normal draws keyed by each row's encoder inputs: the same for a row in any batch.

    ``draws(n_draws, n_columns)`` gives a tensor ``(n_draws, rows,
    n_columns)`` on the rows' device, in their dtype: the noise of a
    Monte-Carlo score (``skvae.nn.model``'s family contract), for the
    first ``rows`` rows of the batch, which the score is computed for.
    """

    def __init__(self, rows, seed, n_rows=None):
        # Only the first n_rows are real: the rest pad an evaluation chunk
        # (8,192 rows on a GPU) and get zeros, not keys hashed from zeros.
        self.rows, self.n_rows = rows, rows.shape[0] if n_rows is None else n_rows
        self.seed, self._keys = seed, None
        self.n_drawn = drawn_rows(rows.shape[0], self.n_rows, rows.device)

    @property
    def keys(self):
        # Hashed at the first draw: an autoencoder's or a VQ-VAE's score draws none (its score of
        # 5,000 x 784 rows took 1.07-1.08x as long with them hashed, one thread and two).
        if self._keys is None:
            self._keys = row_keys(self.rows[: self.n_rows].cpu().numpy(), self.seed)
        return self._keys

    def draws(self, n_draws, n_columns):
        import torch

        noise = torch.zeros((n_draws, self.n_drawn, n_columns), dtype=self.rows.dtype)
        block = max(1, _DRAW_BLOCK_VALUES // max(1, self.n_rows * (n_columns + 1)))
        for start in range(0, n_draws, block):
            stop = min(start + block, n_draws)
            noise[start:stop, : self.n_rows] = torch.from_numpy(row_normals(self.keys, range(start, stop), n_columns))
        return noise.to(self.rows.device)


def drawn_rows(n_padded, n_rows, device):
    """How many of a chunk's ``n_padded`` rows, ``n_rows`` of them real, a Monte-Carlo score decodes.

    A CPU chunk of a few real rows is padded to 32 (``skvae._data``); its
    padding rows need no draws. Decoding 16 draws of each of 32 rows made
    one row's ``score_samples`` a 512-row pass (4-5 ms where ``transform``
    took 0.4). The next power of two of the real rows is decoded instead
    (with zero draws, the batch of draws stays a multiple of 32 rows:
    ``skvae.nn.latents.draw_batches``). On a GPU every row of the one
    chunk shape is, as every kernel there must see that shape.
    """
    if device.type != "cpu" or n_rows >= n_padded:
        return n_padded
    return min(n_padded, 1 << max(n_rows - 1, 0).bit_length())
