"""VAEGANTransformer: the VAE face, the two-player step, the discriminator's health checks."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_script
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import skvae
from skvae._vaegan import VAEGANTransformer
from skvae.nn import Batch
from skvae.nn.adversarial import VAEGANModel

FAST = {"latent_dim": 3, "likelihood": "bernoulli", "hidden_layer_sizes": (16,), "max_iter": 2, "random_state": 0}


@pytest.fixture(scope="module")
def rows(digits):
    return digits[0][:150]


@pytest.fixture(scope="module")
def fitted(rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return VAEGANTransformer(**FAST).fit(rows)


def _outputs(model, X):
    return (
        model.transform(X),
        model.score_samples(X),
        model.sample(4, random_state=1),
        model.inverse_transform(model.transform(X[:5])),
    )


def test_same_random_state_gives_a_bitwise_identical_model(fitted, rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = VAEGANTransformer(**FAST).fit(rows)
    for a, b in zip(_outputs(fitted, rows), _outputs(again, rows)):
        np.testing.assert_array_equal(a, b)
    assert again.loss_curve_ == fitted.loss_curve_
    assert again.discriminator_accuracy_ == fitted.discriminator_accuracy_


def test_outputs_are_row_independent(fitted, rows):
    np.testing.assert_array_equal(fitted.transform(rows[7:9]), fitted.transform(rows)[7:9])
    np.testing.assert_array_equal(fitted.score_samples(rows[[42, 3]]), fitted.score_samples(rows)[[42, 3]])


def test_pickle_and_save_load_round_trips_are_bitwise(fitted, rows, tmp_path):
    fitted.save(tmp_path / "vaegan.skvae")
    for restored in (pickle.loads(pickle.dumps(fitted)), skvae.load(tmp_path / "vaegan.skvae")):
        assert isinstance(restored.network_, VAEGANModel)
        for a, b in zip(_outputs(fitted, rows), _outputs(restored, rows)):
            np.testing.assert_array_equal(a, b)
        assert restored.discriminator_accuracy_ == fitted.discriminator_accuracy_
        for name, value in fitted.network_.discriminator.state_dict().items():
            assert torch.equal(restored.network_.discriminator.state_dict()[name], value)


def test_fitted_attributes_and_the_vae_face(fitted, rows):
    accuracy = fitted.discriminator_accuracy_
    assert set(accuracy) == {"real", "reconstructions", "samples"}
    assert all(0 <= share <= 1 for share in accuracy.values())
    assert fitted.transform(rows).shape == (150, 3)
    sample = fitted.sample(5, random_state=0)
    assert sample.shape == (5, 64) and sample.min() >= 0 and sample.max() <= 1
    # score_samples is the VAE part's ELBO: below the IWAE bound, below 0 for pixels in [0, 1].
    elbo = fitted.score_samples(rows)
    assert np.all(elbo < 0) and fitted.score_samples(rows, n_importance=8).mean() > elbo.mean()
    assert len(fitted.loss_curve_) == fitted.n_iter_ == 2
    frame = clone(fitted).set_params(max_iter=1).set_output(transform="pandas").fit_transform(pd.DataFrame(rows))
    assert isinstance(frame, pd.DataFrame) and frame.shape == (150, 3)


def test_each_player_s_loss_moves_only_its_own_parameters(fitted, rows):
    model = fitted.network_
    x = Batch(torch.as_tensor(rows[:32], dtype=torch.float32))
    terms = model.loss_terms(x, torch.Generator().manual_seed(0), kl_weight=1.0)
    assert list(terms) == ["kl", "reconstruction", "adversarial", "feature_matching", "discriminator"]
    discriminator = list(model.discriminator.parameters())
    players = [p for name, p in model.named_parameters() if not name.startswith("discriminator.")]

    def gradients(loss, parameters):
        return [g for g in torch.autograd.grad(loss, parameters, allow_unused=True, retain_graph=True)]

    assert all(g is None for g in gradients(terms["discriminator"], players))
    assert any(g is not None and g.abs().sum() > 0 for g in gradients(terms["discriminator"], discriminator))
    decoder_terms = terms["adversarial"] + terms["feature_matching"]
    assert all(g is None or g.abs().sum() == 0 for g in gradients(decoder_terms, discriminator))
    assert any(g is not None and g.abs().sum() > 0 for g in gradients(decoder_terms, players))
    # The loss's value is minus the ELBO alone: the curve reads as a VAE's.
    loss = sum(terms.values())
    assert loss.item() == pytest.approx((terms["kl"] + terms["reconstruction"]).item())
    assert all(terms[name].item() == 0.0 for name in ("adversarial", "feature_matching", "discriminator"))


def test_the_adversarial_terms_change_the_decoder(rows):
    plain = dict(FAST, max_iter=1, adversarial_weight=0.0, feature_matching_weight=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        watched = VAEGANTransformer(**plain).fit(rows)
        played = VAEGANTransformer(**dict(FAST, max_iter=1)).fit(rows)
    assert not np.array_equal(watched.sample(3, random_state=0), played.sample(3, random_state=0))


def test_convolutional_networks(rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conv = VAEGANTransformer(**{**FAST, "max_iter": 1}, image_shape=(8, 8), conv_channels=(4,)).fit(rows[:100])
    assert isinstance(conv.network_.discriminator.body, skvae.nn.ConvEncoder)
    assert conv.sample(3, random_state=0).shape == (3, 64)
    np.testing.assert_array_equal(conv.transform(rows[3:4]), conv.transform(rows[:10])[3:4])


def test_bad_parameters_and_failed_calls_change_nothing(fitted, rows):
    before = _outputs(fitted, rows)
    with pytest.raises(InvalidParameterError, match="adversarial_weight"):
        VAEGANTransformer(adversarial_weight=-1.0).fit(rows)
    with pytest.raises(InvalidParameterError, match="feature_matching_weight"):
        VAEGANTransformer(feature_matching_weight="high").fit(rows)
    with pytest.raises(ValueError, match="64 features"):
        fitted.partial_fit(rows[:, :10])
    for a, b in zip(before, _outputs(fitted, rows)):
        np.testing.assert_array_equal(a, b)


def test_a_collapsed_discriminator_is_reported(digits):
    # Measured: two ReLU units at this learning rate die, and D gives every row one logit.
    collapsing = dict(FAST, latent_dim=4, hidden_layer_sizes=(2,), learning_rate_init=0.1, max_iter=5, batch_size=100)
    with pytest.warns(UserWarning, match="discriminator has collapsed: it gives every row the same logit"):
        VAEGANTransformer(**collapsing).fit(digits[0][:300])


def test_a_discriminator_that_wins_completely_is_reported(fitted, rows, monkeypatch):
    # A fit that provokes it takes half a minute (adversarial_weight=0,
    # feature_matching_weight=0, latent_dim=1, 100 rows, 60 epochs of batches
    # of 10 reached 100% on each kind); here a perfect D stands in for it.
    def perfect(self, view):
        n_rows = view.shape[0] // 3
        logits = torch.cat([torch.full((n_rows,), 10.0), torch.full((2 * n_rows,), -10.0)])
        return torch.zeros(view.shape[0], 1), logits

    monkeypatch.setattr(VAEGANModel, "discriminate", perfect)
    with pytest.warns(UserWarning, match="won the game") as record:
        statistics = clone(fitted).set_params(max_iter=1).fit(rows).discriminator_accuracy_
    assert statistics == {"real": 1.0, "reconstructions": 1.0, "samples": 1.0}
    assert not any("collapsed" in str(warning.message) for warning in record)
    # On a partial_fit block of a few rows, every row right says nothing of 99%: a working D often is
    # (7 of 40 one-row calls warned). The shares are still the block's.
    small = clone(fitted).set_params(max_iter=1)
    with pytest.warns(UserWarning, match="won the game"):
        small.fit(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        small.partial_fit(rows[:15])
    assert small.discriminator_accuracy_ == {"real": 1.0, "reconstructions": 1.0, "samples": 1.0}
    with pytest.warns(UserWarning, match="won the game"):
        small.partial_fit(rows[:16])


def test_benchmark_quick_run(tmp_path):
    completed = run_script("vaegan", "--quick", "--output", tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    table = pd.read_csv(tmp_path / "vaegan.csv")
    assert set(table["method"]) == {"real digits", "VAE", "VAE-GAN"}
    assert np.all(np.isfinite(table[["confidence", "frechet", "frechet_recon"]].to_numpy()))
    assert "| method" in completed.stdout


def test_auto_early_stopping_keeps_the_game_s_last_epoch(monkeypatch):
    # From 10,000 rows "auto" held rows out and kept the epoch of the best held-out VAE bound: every
    # epoch of the game paid for, an early one kept (epoch 9 of 20 on 300 digits), n_iter_ saying 20.
    import skvae._base
    from skvae import VAETransformer

    monkeypatch.setattr(skvae._base, "EARLY_STOPPING_AUTO_ROWS", 100)
    X = np.random.RandomState(0).rand(200, 6)
    settings = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert VAETransformer(**settings).fit(X).validation_scores_ is not None  # the other members hold rows out
        game = VAEGANTransformer(**settings).fit(X)
        assert game.validation_scores_ is None and game.n_iter_ == 3
        assert VAEGANTransformer(early_stopping=True, **settings).fit(X).validation_scores_ is not None
