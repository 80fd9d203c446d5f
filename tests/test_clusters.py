"""Beyond one machine: dask and Ray clusters (skipped where the extras are not installed).

A real dask ``LocalCluster`` of 2 worker processes with 1 thread each, and a
local Ray instance, run the three patterns the README shows: a parallel
grid search, out-of-core training block by block, and parallel inference.
"""

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from skvae import VAETransformer

PARAMS = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=4, random_state=0)
GRID = {"beta": [0.5, 1.0, 2.0]}


def _scorers():
    """The model's own score, and torch's thread count where the fit ran; local, so they pickle by value."""

    def own_score(estimator, X, y=None):
        return estimator.score(X)

    def torch_threads(estimator, X, y=None):
        return float(torch.get_num_threads())

    return {"score": own_score, "threads": torch_threads}


@pytest.fixture(scope="module")
def data(digits):
    return digits[0][:300]


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_grid_search_on_dask_equals_one_process(dask_client, data):
    serial = GridSearchCV(VAETransformer(**PARAMS), GRID, cv=2, n_jobs=1).fit(data)
    with parallel_backend("dask"):
        distributed = GridSearchCV(VAETransformer(**PARAMS), GRID, cv=2, scoring=_scorers(), refit="score").fit(data)
    # A worker with 1 thread gives torch 1 thread: no oversubscription.
    assert np.all(distributed.cv_results_["mean_test_threads"] == 1)
    if torch.get_num_threads() == 1:  # then the very same sums as this process
        np.testing.assert_array_equal(serial.cv_results_["mean_test_score"], distributed.cv_results_["mean_test_score"])
    np.testing.assert_allclose(serial.cv_results_["mean_test_score"], distributed.cv_results_["mean_test_score"],
                               rtol=1e-4)
    assert serial.best_params_ == distributed.best_params_


def test_incremental_trains_block_by_block(dask_client, data):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    blocks = da.from_array(data, chunks=(100, data.shape[1]))
    incremental = wrappers.Incremental(VAETransformer(**PARAMS), shuffle_blocks=False).fit(blocks)
    by_hand = VAETransformer(**PARAMS)
    for start in range(0, 300, 100):
        by_hand.partial_fit(data[start : start + 100])
    assert incremental.estimator_.n_iter_ == 3
    np.testing.assert_array_equal(incremental.estimator_.transform(data), by_hand.transform(data))


def test_parallel_inference_on_a_dask_array(dask_client, data):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    from sklearn.decomposition import PCA

    model = wrappers.ParallelPostFit(VAETransformer(**PARAMS)).fit(data)
    blocks = da.from_array(data.astype(np.float32), chunks=(64, data.shape[1]))
    expected = model.estimator.transform(data.astype(np.float32))
    # dask-ml reads the output's type off a one-row call: float32 in, float32 out.
    codes = model.transform(blocks)
    assert codes.dtype == np.float32
    np.testing.assert_array_equal(codes.compute(), expected)
    # dask-ml keeps the input's column chunks as the output's, for PCA as
    # for any transformer that changes the width; map_blocks with the
    # output's chunks says what the blocks hold.
    assert model.transform(blocks).shape[1] == 64
    assert wrappers.ParallelPostFit(PCA(2)).fit(data).transform(blocks).shape[1] == 64
    mapped = blocks.map_blocks(model.estimator.transform, chunks=(blocks.chunks[0], (2,)), dtype=np.float32)
    assert mapped.shape == (300, 2) and mapped.chunks[1] == (2,)
    np.testing.assert_array_equal(mapped.compute(), expected)


def test_grid_search_on_ray_equals_one_process(data):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        serial = GridSearchCV(VAETransformer(**PARAMS), GRID, cv=2, n_jobs=1).fit(data)
        with parallel_backend("ray", n_jobs=2):
            distributed = GridSearchCV(VAETransformer(**PARAMS), GRID, cv=2, scoring=_scorers(), refit="score")
            distributed.fit(data)
    finally:
        ray.shutdown()
    # Ray gives each task one CPU, and torch one thread.
    assert np.all(distributed.cv_results_["mean_test_threads"] == 1)
    np.testing.assert_allclose(serial.cv_results_["mean_test_score"], distributed.cv_results_["mean_test_score"],
                               rtol=1e-4)
    assert serial.best_params_ == distributed.best_params_
