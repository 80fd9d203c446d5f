"""Sparse input: read one minibatch or evaluation chunk at a time, the same model as dense."""

import numpy as np
import pytest
import scipy.sparse as sp

import skvae._sources
from skvae import AutoencoderTransformer, VAETransformer
from skvae._schema import Schema
from skvae._statistics import column_statistics

FAST = dict(latent_dim=3, hidden_layer_sizes=(16,), max_iter=3, batch_size=50, random_state=0)


@pytest.fixture(scope="module")
def counts():
    rng = np.random.RandomState(0)
    return sp.random(600, 40, density=0.1, format="csr", random_state=0,
                     data_rvs=lambda n: rng.poisson(3, n) + 1.0)


@pytest.mark.parametrize("likelihood", ["poisson", "negative_binomial", "gaussian"])
def test_sparse_input_gives_the_dense_model(likelihood, counts):
    dense = counts.toarray()
    model = VAETransformer(likelihood=likelihood, **FAST).fit(counts)
    reference = VAETransformer(likelihood=likelihood, **FAST).fit(dense)
    np.testing.assert_array_equal(model.transform(counts), reference.transform(dense))
    np.testing.assert_allclose(model.score_samples(counts), reference.score_samples(dense), rtol=1e-6)
    model.partial_fit(counts)
    reference.partial_fit(dense)
    np.testing.assert_array_equal(model.transform(counts), reference.transform(dense))


@pytest.mark.parametrize("convert", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array, sp.coo_array])
def test_every_sparse_format(convert, counts):
    X = convert(counts)
    model = AutoencoderTransformer(**FAST).fit(X)
    reference = AutoencoderTransformer(**FAST).fit(counts.toarray())  # every format is the dense model
    np.testing.assert_array_equal(model.transform(X), reference.transform(counts.toarray()))
    np.testing.assert_array_equal(model.score_samples(X), reference.score_samples(counts.toarray()))


def test_sparse_rows_are_never_densified_whole(counts, monkeypatch):
    # A value budget of 64 rows of these 40 columns per streamed block.
    monkeypatch.setattr(skvae._sources, "STREAM_VALUES", 64 * 40)
    largest = []
    original = Schema.values

    def watched(self, block, *args, **kwargs):
        largest.append(block.shape[0])
        return original(self, block, *args, **kwargs)

    monkeypatch.setattr(Schema, "values", watched)
    model = VAETransformer(likelihood="poisson", **FAST).fit(counts)
    model.transform(counts)
    # Minibatches of 50, statistics and evaluation in blocks of 64: never all 600 rows.
    assert max(largest) <= 64


def test_sparse_statistics_match_the_dense_ones(counts):
    X = counts.tolil()
    X[3, 5] = np.nan
    X = X.tocsr()
    sparse_schema, dense_schema = Schema.fit(X, "gaussian"), Schema.fit(X.toarray(), "gaussian")
    sparse = column_statistics(X, sparse_schema)
    dense = column_statistics(X.toarray(), dense_schema)
    for name in ("mean", "scale", "resolution"):
        np.testing.assert_allclose([sparse[j][name] for j in range(40)], [dense[j][name] for j in range(40)],
                                   equal_nan=True)
    assert sparse_schema.columns[5].has_missing and not sparse_schema.columns[4].has_missing
    with pytest.raises(ValueError, match="categorical columns need a DataFrame"):
        Schema.fit(counts, "categorical")


def test_sparse_resolution_reads_the_rows_the_dense_one_reads_past_its_row_limit():
    # Past 10,000 rows the dense resolution reads every ceil(n / 10,000)-th row, the sparse one read
    # them all: one value 0.001 in a row the dense one skipped set another noise floor (0.047 against
    # 0.127), and the codes differed by 0.42.
    rng = np.random.RandomState(0)
    X = (rng.rand(20_001, 3) < 0.05) * 1.0
    X[1, 0] = 0.001
    sparse = column_statistics(sp.csr_matrix(X), Schema.fit(sp.csr_matrix(X), "gaussian"))
    dense = column_statistics(X, Schema.fit(X, "gaussian"))
    assert [sparse[j]["resolution"] for j in range(3)] == [dense[j]["resolution"] for j in range(3)]


def test_checking_a_memmap_copies_nothing(tmp_path):
    import tracemalloc

    X = np.memmap(tmp_path / "X.f32", dtype=np.float32, mode="w+", shape=(2000, 500))
    X[:] = 0.5
    schema = Schema.fit(X[:10], "bernoulli")
    tracemalloc.start()
    schema.check(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes / 10


def test_the_statistics_of_a_memmap_with_holes_read_one_block_at_a_time(tmp_path):
    # Their blocks, computed by a reader (float64 of the columns), were built all at once in a list:
    # a float64 copy of X, a fit's peak 2.5 times a float32 memmap (0.68 before that).
    import tracemalloc

    from skvae._statistics import column_statistics

    # Rows many times the resolution's 10,000-row sample, which the peak may hold.
    X = np.memmap(tmp_path / "X.f32", dtype=np.float32, mode="w+", shape=(100_000, 20))
    X[:] = np.random.RandomState(0).normal(size=X.shape)
    X[::7, 3] = np.nan
    schema = Schema.fit(X[:100], "gaussian")
    tracemalloc.start()
    column_statistics(X, schema)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes / 2


def test_a_memmap_is_streamed_not_copied(tmp_path, monkeypatch):
    import skvae._base

    X = np.memmap(tmp_path / "X.f32", dtype=np.float32, mode="w+", shape=(300, 20))
    X[:] = np.random.RandomState(0).rand(300, 20)
    assert skvae._sources.is_streamed(np.asarray(X))  # validation hands on a plain view

    def copied_whole(*args, **kwargs):
        raise AssertionError("fit copied the memmap whole")

    monkeypatch.setattr(skvae._base, "TensorRows", copied_whole)
    model = VAETransformer(likelihood="bernoulli", **FAST).fit(X)
    assert model.transform(X).shape == (300, 3)


@pytest.mark.parametrize("likelihood", ["poisson", "gaussian"])
def test_fit_leaves_a_csc_input_untouched(counts, likelihood):
    X = sp.csc_matrix(counts, dtype=np.float64)
    stored = X.data.copy()
    VAETransformer(likelihood=likelihood, **FAST).fit(X)
    np.testing.assert_array_equal(X.data, stored)
