"""The minibatch loop and the stopping rule (skvae/_training.py)."""

import math

import pytest
import torch

from skvae._training import History, run_epoch, train


def _regression_problem():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=generator)
    target = X @ torch.tensor([[1.0], [-2.0], [0.5]])
    network = torch.nn.Linear(3, 1)
    network.weight.data.zero_()
    network.bias.data.zero_()
    rows_target = {"target": target}

    def batch_loss(x_rows, epochs_elapsed):
        return torch.nn.functional.mse_loss(network(x_rows[:, :3]), x_rows[:, 3:])

    data = torch.cat([X, target], dim=1)
    return network, data, batch_loss, rows_target


def test_run_epoch_visits_every_row_once_per_epoch():
    seen = []
    X = torch.arange(10.0).unsqueeze(1)
    weight = torch.nn.Parameter(torch.zeros(()))
    optimizer = torch.optim.SGD([weight], lr=0.0)

    def batch_loss(x, fraction):
        seen.append((x[:, 0].tolist(), fraction))
        return (weight * x).sum()

    run_epoch(batch_loss, optimizer, X, rows=None, batch_size=4, shuffle=True,
              generator=torch.Generator().manual_seed(0))
    rows = sorted(r for batch, _ in seen for r in batch)
    assert rows == list(range(10))
    assert [len(batch) for batch, _ in seen] == [4, 4, 2]
    assert [fraction for _, fraction in seen] == pytest.approx([1 / 3, 2 / 3, 1.0])

    seen.clear()
    run_epoch(batch_loss, optimizer, X, rows=torch.tensor([1, 3, 5]), batch_size=2,
              shuffle=False, generator=None)
    assert [batch for batch, _ in seen] == [[1.0, 3.0], [5.0]]


def test_run_epoch_returns_row_weighted_mean_loss():
    X = torch.arange(5.0).unsqueeze(1)
    weight = torch.nn.Parameter(torch.zeros(()))
    optimizer = torch.optim.SGD([weight], lr=0.0)
    loss = run_epoch(lambda x, f: (x + weight).mean(), optimizer, X, rows=None,
                     batch_size=2, shuffle=False, generator=None)
    assert float(loss) == pytest.approx(2.0)  # the mean of 0..4, not of the batch means


def test_train_keeps_weights_of_best_validation_epoch():
    network, data, batch_loss, _ = _regression_problem()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.05)
    snapshots, scores = [], iter([1.0, 3.0, 2.0, 0.5, 0.1])

    def validation_score():
        snapshots.append({k: v.clone() for k, v in network.state_dict().items()})
        return next(scores)

    history = History()
    n_epochs, converged, interrupted = train(
        network=network, optimizer=optimizer, X=data, rows=None, batch_loss=batch_loss,
        epochs=range(5), batch_size=16, shuffle=False, generator=None, history=history,
        tol=0.0, n_iter_no_change=10, validation_score=validation_score,
    )
    assert (n_epochs, converged, interrupted) == (5, False, False)
    assert history.validation_scores == [1.0, 3.0, 2.0, 0.5, 0.1]
    assert history.best_validation_score == 3.0
    for key, value in network.state_dict().items():
        assert torch.equal(value, snapshots[1][key])


def test_train_stops_after_n_iter_no_change_and_skips_warmup():
    network, data, batch_loss, _ = _regression_problem()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.0)  # the loss never moves
    history = History()
    n_epochs, converged, _ = train(
        network=network, optimizer=optimizer, X=data, rows=None, batch_loss=batch_loss,
        epochs=range(100), batch_size=64, shuffle=False, generator=None, history=history,
        tol=1e-4, n_iter_no_change=2, monitor_from_epoch=5,
    )
    # 5 warm-up epochs unjudged, 1 first judged epoch sets the best, then 3 without change.
    assert converged and n_epochs == 5 + 1 + 3
    assert history.no_improvement_count == 3


def test_train_learns_and_reports_loss_with_offset():
    network, data, batch_loss, _ = _regression_problem()
    optimizer = torch.optim.Adam(network.parameters(), lr=0.05)
    history = History()
    train(network=network, optimizer=optimizer, X=data, rows=None, batch_loss=batch_loss,
          epochs=range(200), batch_size=16, shuffle=True,
          generator=torch.Generator().manual_seed(0), history=history, tol=0.0,
          n_iter_no_change=1000, loss_offset=10.0)
    assert history.loss_curve[0] > 10.5 and history.loss_curve[-1] < 10.0 + 1e-3
    assert history.best_loss == min(history.loss_curve)


def test_train_raises_on_non_finite_loss():
    network, data, _, _ = _regression_problem()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.0)
    with pytest.raises(ValueError, match="diverged at iteration 1: the loss is nan"):
        train(network=network, optimizer=optimizer, X=data, rows=None,
              batch_loss=lambda x, e: network(x[:, :3]).sum() * math.nan,
              epochs=range(3), batch_size=8, shuffle=False, generator=None, history=History(),
              tol=0.0, n_iter_no_change=1)


def test_an_interrupt_rewinds_to_the_last_completed_epoch():
    network, data, batch_loss, _ = _regression_problem()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.05)
    calls = []

    def interrupted_loss(x, epochs_elapsed):
        calls.append(epochs_elapsed)
        if len(calls) == 4 * 2 + 1:  # the first step of the third epoch (4 steps an epoch)
            raise KeyboardInterrupt
        return batch_loss(x, epochs_elapsed)

    history = History()
    kwargs = dict(network=network, optimizer=optimizer, X=data, rows=None, epochs=range(10),
                  batch_size=16, shuffle=False, generator=None, history=history, tol=0.0,
                  n_iter_no_change=100)
    # Weights after exactly two clean epochs, for comparison.
    reference, reference_data, reference_loss, _ = _regression_problem()
    train(**{**kwargs, "network": reference, "optimizer": torch.optim.SGD(reference.parameters(), lr=0.05),
             "batch_loss": reference_loss, "epochs": range(2), "history": History()})
    n_epochs, converged, interrupted = train(**kwargs, batch_loss=interrupted_loss)
    assert (n_epochs, converged, interrupted) == (2, False, True)
    assert len(history.loss_curve) == 2
    for key, value in reference.state_dict().items():
        assert torch.equal(network.state_dict()[key], value)


def test_an_interrupt_before_any_epoch_completes_propagates():
    network, data, _, _ = _regression_problem()

    def interrupt(x, epochs_elapsed):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(network=network, optimizer=torch.optim.SGD(network.parameters(), lr=0.1), X=data,
              rows=None, batch_loss=interrupt, epochs=range(3), batch_size=16, shuffle=False,
              generator=None, history=History(), tol=0.0, n_iter_no_change=10)


@pytest.mark.parametrize("holes_from_row", [None, 0, 150])
def test_training_rows_encoded_in_blocks_equal_one_block(monkeypatch, holes_from_row):
    # Large data are encoded in blocks; holes first met in a later block turn
    # the earlier rows' targets and mask from implicit to explicit.
    import numpy as np

    from skvae import VAETransformer, _sources

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    if holes_from_row is not None:
        X[holes_from_row + rng.choice(200 - holes_from_row, 10, replace=False), 1] = np.nan
    vae = VAETransformer(2, max_iter=1, random_state=0).fit(X)
    whole = vae._training_rows(vae.network_, X, None, torch.device("cpu")).batch
    monkeypatch.setattr(_sources, "STAT_BLOCK_ROWS", 64)
    monkeypatch.setattr(_sources, "ENCODE_VALUES", 64 * X.shape[1])
    blocked = vae._training_rows(vae.network_, X, None, torch.device("cpu")).batch
    for one, many in zip(whole, blocked):
        if one is None:
            assert many is None
        else:
            assert torch.equal(one, many)


def test_warmup_epochs_do_not_enter_the_judged_average():
    # Warm-up losses are low (the KL weight is below 1), the judged ones higher
    # and falling slowly: averaged in, the warm-up would set a best that the
    # judged epochs never beat, and training would stop right after it.
    losses = iter([1.0] * 5 + [10.0 - 0.01 * k for k in range(95)])
    weight = torch.nn.Parameter(torch.zeros(()))
    optimizer = torch.optim.SGD([weight], lr=0.0)

    def batch_loss(x, epochs_elapsed):
        return weight * 0.0 + next(losses)

    n_epochs, converged, _ = train(
        network=torch.nn.Linear(1, 1), optimizer=optimizer, X=torch.zeros(4, 1), rows=None,
        batch_loss=batch_loss, epochs=range(100), batch_size=4, shuffle=False, generator=None,
        history=History(), tol=1e-3, n_iter_no_change=5, monitor_from_epoch=5,
    )
    assert not converged and n_epochs == 100


def test_a_continued_fit_reads_holes_that_first_come_after_the_first_block(monkeypatch):
    # A model fitted without holes has no missing-value inputs: its rows are their own targets until
    # a later block holds a hole. Encoding such a block replaced the rows' Batch with NamedTuple's
    # _replace, which checks len(), the rows' count here: a partial_fit of more than 2**23 values
    # whose holes came after the first 4,096 rows raised "Expected 4 arguments, got 10000".
    import numpy as np

    from skvae import VAETransformer, _sources

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    vae = VAETransformer(2, max_iter=1, random_state=0).fit(X)
    later = X.copy()
    later[150:, 1] = np.nan
    whole = vae._training_rows(vae.network_, later, None, torch.device("cpu")).batch
    monkeypatch.setattr(_sources, "STAT_BLOCK_ROWS", 64)
    monkeypatch.setattr(_sources, "ENCODE_VALUES", 64 * X.shape[1])
    blocked = vae._training_rows(vae.network_, later, None, torch.device("cpu")).batch
    assert whole.target is not None and blocked.target is not None
    for one, many in zip(whole, blocked):
        assert (one is None and many is None) or torch.equal(one, many)
    with pytest.warns(UserWarning, match="holes"):
        vae.partial_fit(later)


def test_n_iter_no_change_inf_runs_max_iter_as_in_mlpregressor(tmp_path):
    # MLPRegressor takes n_iter_no_change=np.inf (the rule never stops a fit) and warns at max_iter;
    # skvae refused it as "an int in the range [1, inf)".
    import warnings

    import numpy as np
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    from skvae import VAEGANTransformer, VAETransformer, load

    X = np.random.RandomState(0).rand(200, 4)
    with pytest.warns(ConvergenceWarning, match="With n_iter_no_change=inf the stopping rule never ends a fit"):
        model = VAETransformer(hidden_layer_sizes=(8,), n_iter_no_change=np.inf, max_iter=15, random_state=0).fit(X)
    assert model.n_iter_ == 15 and np.isfinite(model.loss_curve_).all()
    model.save(tmp_path / "model.skvae")
    assert load(tmp_path / "model.skvae").n_iter_no_change == np.inf == clone(model).n_iter_no_change
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the game's fits run max_iter by plan
        VAEGANTransformer(hidden_layer_sizes=(8,), n_iter_no_change=np.inf, max_iter=3, random_state=0).fit(X)
