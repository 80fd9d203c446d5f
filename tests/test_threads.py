"""Thread use (skvae/_threads.py): from the work of a step, within the cores and the caller's limit, restored."""

import warnings

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from skvae import VAETransformer
from skvae import _threads
from skvae._threads import WORK_PER_THREAD, _cgroup_quota, threads_for, torch_threads


@pytest.fixture
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def test_threads_follow_the_work_within_cores_and_the_callers_limit(two_threads, monkeypatch):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    assert threads_for(WORK_PER_THREAD / 10) == 1
    assert threads_for(1.5 * WORK_PER_THREAD) == 2
    assert threads_for(100 * WORK_PER_THREAD) == 2  # no more than the caller allows
    monkeypatch.setattr(_threads, "usable_cores", lambda: 1)
    assert threads_for(100 * WORK_PER_THREAD) == 1  # nor than the cores this process may use
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    with threadpool_limits(1):
        assert threads_for(100 * WORK_PER_THREAD) == 1


def test_the_callers_setting_comes_back(two_threads):
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("quota, period, expected", [("150000", "100000", 2), ("-1", "100000", None),
                                                     ("50000", "100000", 1)])
def test_a_cgroup_v1_quota_caps_the_cores(tmp_path, quota, period, expected):
    (tmp_path / "quota").write_text(quota)
    (tmp_path / "period").write_text(period)
    files = (("/nonexistent/cpu.max", None), (str(tmp_path / "quota"), str(tmp_path / "period")))
    assert _cgroup_quota(files) == expected


def test_a_cgroup_v2_quota_caps_the_cores(tmp_path):
    (tmp_path / "limited").write_text("250000 100000\n")
    assert _cgroup_quota(((str(tmp_path / "limited"), None),)) == 3
    (tmp_path / "unlimited").write_text("max 100000\n")
    assert _cgroup_quota(((str(tmp_path / "unlimited"), None),)) is None
    (tmp_path / "empty").write_text("\n")  # raised IndexError out of every fit and transform
    assert _cgroup_quota(((str(tmp_path / "empty"), None),)) is None


class _Watched(VAETransformer):
    def _batch_loss(self, model, batch, epochs_elapsed, generator):
        self.seen_threads = torch.get_num_threads()
        return super()._batch_loss(model, batch, epochs_elapsed, generator)


def test_a_small_network_trains_on_one_thread_and_leaves_the_setting(two_threads, monkeypatch):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    X = np.random.RandomState(0).normal(size=(600, 10))
    small = _Watched(hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(X)
    assert small.seen_threads == 1 and torch.get_num_threads() == 2
    wide = _Watched(hidden_layer_sizes=(512, 512), batch_size=600, max_iter=1, random_state=0).fit(
        np.random.RandomState(0).normal(size=(600, 400)))
    assert wide.seen_threads == 2 and torch.get_num_threads() == 2
    with threadpool_limits(1):
        limited = _Watched(hidden_layer_sizes=(512, 512), batch_size=600, max_iter=1, random_state=0).fit(
            np.random.RandomState(0).normal(size=(600, 400)))
    assert limited.seen_threads == 1


def test_the_work_counts_dense_and_convolutional_layers():
    from skvae._threads import multiply_adds_per_row

    dense = VAETransformer(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(np.zeros((40, 5)) + np.arange(5))
    # encoder 5x16, head 16x4, decoder 2x16 and 16x5
    assert multiply_adds_per_row(dense.network_, 5) == 5 * 16 + 16 * 4 + 2 * 16 + 16 * 5
    conv = VAETransformer(image_shape=(8, 8), conv_channels=(4,), hidden_layer_sizes=(16,), max_iter=1,
                          random_state=0).fit(np.random.RandomState(0).rand(40, 64))
    # A 4x4 kernel over 1 -> 4 channels at 4x4 output positions: 16 * 64 multiply-adds in the encoder alone.
    assert multiply_adds_per_row(conv.network_, 64) > 16 * 64


class _SequenceEncoder(torch.nn.Module):
    """A user's encoder of Conv1d layers and a Linear along the positions: neither was counted."""

    def __init__(self, in_features, channels=4):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, channels, 3, padding=1)
        self.per_position = torch.nn.Linear(channels, 2)
        self.transposed = torch.nn.ConvTranspose1d(2, 1, 3, padding=1)

    def forward(self, x):
        h = self.per_position(self.conv(x[:, None, :]).transpose(1, 2)).transpose(1, 2)
        return self.transposed(h)[:, 0, :]


def test_the_work_counts_a_users_convolutions_of_any_dimension_and_a_linear_per_position():
    from skvae._threads import multiply_adds_per_row

    vae = VAETransformer(encoder=_SequenceEncoder, hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    vae.fit(np.random.RandomState(0).rand(40, 10))
    # Conv1d 1 -> 4 (kernel 3) at 10 positions, Linear 4 -> 2 at each, ConvTranspose1d 2 -> 1 over 10
    # input positions; then the head 10 x 4 and the decoder 2 x 16 and 16 x 10.
    encoder = 10 * 4 * 3 + 10 * 4 * 2 + 10 * 2 * 3
    assert multiply_adds_per_row(vae.network_, 10) == encoder + 10 * 4 + 2 * 16 + 16 * 10


def test_evaluation_runs_each_chunk_on_one_thread_and_splits_many_rows(monkeypatch):
    # On Intel CPUs with AVX-512 a matrix product on several threads splits its
    # sums by its shape: a row's code alone differed in its last bits from the
    # same row's among many, at 2 and at 16 threads. Every chunk now runs on one
    # torch thread, and many rows go to several such threads at once. 16 cores
    # are pretended, so that the split is not one thread by chance.
    import threading

    from scipy import sparse

    from skvae import ConditionalVAETransformer, VAEImputer

    previous = torch.get_num_threads()
    torch.set_num_threads(16)
    monkeypatch.setattr(_threads, "usable_cores", lambda: 16)
    rng = np.random.RandomState(0)
    X, y = rng.rand(3000, 64), rng.randint(0, 2, 3000)
    wide = dict(hidden_layer_sizes=(512, 512), max_iter=1, random_state=0)
    holes = X.copy()
    holes[rng.rand(*X.shape) < 0.1] = np.nan
    seen = []

    def watch(estimator):
        def record(module, inputs):
            rows = inputs[0].shape[0] if module is estimator.network_.encoder else 0
            seen.append((torch.get_num_threads(), threading.current_thread().name, rows))
        for part in (estimator.network_.encoder, estimator.network_.decoder):
            part.register_forward_pre_hook(record)
        return estimator

    try:
        model = watch(VAETransformer(**wide).fit(X))
        conditional = watch(ConditionalVAETransformer(**wide).fit(X, y))
        imputer = watch(VAEImputer(**wide).fit(holes))
        calls = {
            "transform": lambda rows: model.transform(X[rows]),
            "sparse transform": lambda rows: model.transform(sparse.csr_matrix(X[rows])),
            "score_samples": lambda rows: model.score_samples(X[rows]),
            "inverse_transform": lambda rows: model.inverse_transform(np.zeros((len(X[rows]), 2))),
            "conditional inverse_transform": lambda rows: conditional.inverse_transform(
                np.zeros((len(X[rows]), 2)), y[rows]),
            "imputer": lambda rows: imputer.transform(holes[rows]),
            "conditional score_samples without y": lambda rows: conditional.score_samples(X[rows]),
        }
        for name, call in calls.items():
            seen.clear()
            alone = call(slice(0, 1))
            among = call(slice(None))
            assert {threads for threads, _, _ in seen} == {1}, (name, seen[:3])
            assert len({thread for _, thread, _ in seen}) > 1, name  # many rows were split between threads
            if "score_samples" in name:  # decoding each row many times, its 16 chunks at once share 1,024 rows
                assert 16 * max(rows for _, _, rows in seen) <= 1024, (name, max(rows for _, _, rows in seen))
            np.testing.assert_array_equal(alone[0], among[0], err_msg=name)
            with torch_threads(1):  # and the caller's thread count changes no bit
                np.testing.assert_array_equal(call(slice(None)), among, err_msg=name)

        # A draw from one generator shared by the chunks runs them in order, on one torch thread.
        seen.clear()
        first = model.sample(2500, random_state=0)
        assert {threads for threads, _, _ in seen} == {1} and len(seen) == 3  # three chunks, encoder unused
        np.testing.assert_array_equal(first, model.sample(2500, random_state=0))
    finally:
        torch.set_num_threads(previous)


def _pooled_model(monkeypatch, X, **params):
    """A model whose calls of many rows go to two pool threads: work enough a row, two cores (or so pretended)."""
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    return VAETransformer(hidden_layer_sizes=(512, 512), max_iter=1, random_state=0, **params).fit(X)


def test_a_thread_started_during_an_evaluation_keeps_the_callers_default(two_threads, monkeypatch):
    # torch copies its process-wide thread setting into a thread at its first call. Evaluation
    # had set it to one for the whole call, so a thread started meanwhile (a server's, a joblib
    # threading worker's) kept one thread for good.
    import threading

    X = np.random.RandomState(0).rand(3000, 64)
    model = _pooled_model(monkeypatch, X)
    defaults = []

    def started_meanwhile(module, inputs):
        box = []
        thread = threading.Thread(target=lambda: box.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        defaults.append(box[0])

    model.network_.encoder.register_forward_pre_hook(started_meanwhile)
    model.network_.decoder.register_forward_pre_hook(started_meanwhile)
    model.transform(X)  # chunks on the pool
    model.sample(3000, random_state=0)  # drawn in order, on one thread of the pool
    assert defaults and set(defaults) == {2}


def test_a_call_that_fails_leaves_no_chunk_running(two_threads, monkeypatch):
    # An error in the caller's thread (a later chunk's rows refused) left chunks already handed to
    # the pool running on the model after the error had left the call.
    import time

    X = (np.random.RandomState(0).rand(3000, 64) > 0.5).astype(float)
    model = _pooled_model(monkeypatch, X, likelihood="bernoulli")
    calls, finished = [], []

    def slow(module, inputs):  # the fourth chunk (rows 1,536-2,047) still runs when the fifth is refused
        calls.append(1)
        if len(calls) == 4:
            time.sleep(0.5)
            finished.append(time.perf_counter())

    model.network_.encoder.register_forward_pre_hook(slow)
    X[2500, 0] = 2.0  # refused when its chunk is read, while earlier chunks run
    with pytest.raises(ValueError, match="needs X in"):
        model.score_samples(X)
    left = time.perf_counter()
    time.sleep(0.8)
    assert all(moment < left for moment in finished)  # (the fourth chunk may also have been cancelled)


def test_a_fit_counts_the_work_its_family_s_training_step_runs():
    # The VAE-GAN's step also decodes prior draws and runs the discriminator on three rows for each
    # (and its frozen copy on two): counted as a VAE's step, 3.7x too little, it took one thread where
    # its work paid for two.
    from torch import nn

    from skvae import VAEGANTransformer
    from skvae._threads import extra_training_multiply_adds, multiply_adds_per_row

    X = np.random.RandomState(0).rand(200, 100)
    for Estimator in (VAETransformer, VAEGANTransformer):
        model = Estimator(8, hidden_layer_sizes=(64,), max_iter=1, batch_size=200, random_state=0)
        run = [0]

        def count(module, inputs, output, run=run):
            if torch.is_grad_enabled():  # the training step, not the fit's closing passes
                run[0] += inputs[0].shape[0] * module.in_features * module.out_features

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
            network = model.network_
            handles = [m.register_forward_hook(count) for m in network.modules() if isinstance(m, nn.Linear)]
            try:
                network.train()
                rows = model._training_rows(network, model._schema.values(X[:10]), None, torch.device("cpu"))
                network.loss_terms(rows.take(torch.arange(10)), torch.Generator().manual_seed(0))
            finally:
                for handle in handles:
                    handle.remove()
        counted = multiply_adds_per_row(network, network.columns.n_inputs) + extra_training_multiply_adds(network)
        assert counted == run[0] / 10


def _fresh_thread_count():
    """The torch thread count a thread started now takes at its first torch call."""
    import threading

    box = []
    thread = threading.Thread(target=lambda: box.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return box[0]


def test_a_thread_started_during_a_call_on_fewer_threads_takes_the_callers_count(two_threads):
    # torch.set_num_threads also sets the count a thread takes at its first torch call: a thread
    # started during a small fit (one thread for the fit) kept one thread for good, and its own fits
    # ran on it (a server training in new threads beside small fits).
    with torch_threads(1, new_threads_keep_the_callers=True):  # as a fit enters it
        assert _fresh_thread_count() == 2  # set back before the block runs
        assert torch.get_num_threads() == 1  # the caller's own count stays the call's
    assert torch.get_num_threads() == 2 and _fresh_thread_count() == 2
    torch.set_num_threads(1)  # a caller pinning its count after a fit: no late request undoes it
    assert _fresh_thread_count() == 1


def test_a_thread_started_during_a_small_fit_trains_as_one_started_before(two_threads, monkeypatch):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    X = np.random.RandomState(0).rand(200, 5)
    seen = []

    def started_meanwhile(module, inputs):
        if not seen:
            seen.append((_fresh_thread_count(), torch.get_num_threads()))

    model = VAETransformer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    model.network_.encoder.register_forward_pre_hook(started_meanwhile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.set_params(warm_start=True, max_iter=1).fit(X)  # a fit on one thread
    assert seen == [(2, 1)]  # a new thread takes the caller's count; the fit's own stays one


def test_first_evaluations_from_several_threads_at_once_build_one_pool(monkeypatch):
    # Checked and replaced without a lock: threads' first calls at once each built a pool of their own.
    import threading
    import time

    from skvae import _data

    class SlowToBuild(_data.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            time.sleep(0.05)  # widens the window between the check and the replacement
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_data, "ThreadPoolExecutor", SlowToBuild)
    monkeypatch.setattr(_data, "_POOL", {})
    start, pools = threading.Barrier(4), []

    def first_call():
        start.wait()
        pools.append(_data.evaluation_pool(2))

    threads = [threading.Thread(target=first_call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(pool) for pool in pools}) == 1
    pools[0].shutdown()


def test_a_fit_where_no_thread_can_start_runs_and_leaves_the_setting(two_threads, monkeypatch):
    # The thread that sets new threads' count could not start (a process at its thread limit): the
    # fit raised "can't start new thread" and left the caller on one thread.
    import threading

    started = threading.Thread.start

    def refused(thread):
        if thread.name == "skvae-new-thread-count":
            raise RuntimeError("can't start new thread")
        started(thread)

    monkeypatch.setattr(_threads, "_setter", None)
    monkeypatch.setattr(threading.Thread, "start", refused)
    with torch_threads(1, new_threads_keep_the_callers=True):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2 and _threads._setter is None  # the next call tries again
    # A whole fit runs so, and leaves the caller's setting.
    X = np.random.RandomState(0).normal(size=(60, 3))
    model = VAETransformer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    assert model.n_iter_ == 2 and np.isfinite(model.transform(X)).all() and torch.get_num_threads() == 2
    monkeypatch.undo()
    with torch_threads(1, new_threads_keep_the_callers=True):
        pass
    assert _threads._setter is not None and _threads._setter.is_alive()


def test_skvae_s_caught_warnings_never_overlap_so_none_restores_another_s_filters():
    # Two catch_warnings that overlap in threads restore each other's filters: an outlier detector's
    # "ignore" was left in place for good, and every later warning of the process went silent.
    import threading

    from skvae._warnings import caught_warnings

    before = list(warnings.filters)
    first_in, second_in, release = threading.Event(), threading.Event(), threading.Event()

    def first():
        with caught_warnings():
            warnings.simplefilter("ignore")
            first_in.set()
            release.wait(5)

    def second():
        first_in.wait(5)
        with caught_warnings():
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(5)
    assert not second_in.wait(0.2)  # waits for the first to end
    release.set()
    for thread in threads:
        thread.join(5)
    assert second_in.is_set() and warnings.filters == before


def test_an_encode_while_another_thread_imports_torch_onnx_is_no_error(monkeypatch):
    # The half-built module lacks is_in_onnx_export: every transform in other threads raised
    # AttributeError until the import ended (to_onnx's first call imports it).
    import sys
    import types

    X = np.random.RandomState(0).normal(size=(100, 4))
    model = VAETransformer(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X)
    expected = model.transform(X)
    monkeypatch.setitem(sys.modules, "torch.onnx", types.ModuleType("torch.onnx"))
    np.testing.assert_array_equal(model.transform(X), expected)
