"""Bring your own encoder and decoder: encoder=..., decoder=..., encoder__<name>=..."""

import functools
import io
import pickle
import warnings

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, SMALL
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from torch import nn

from skvae import AutoencoderTransformer, VAETransformer


class ResidualEncoder(nn.Module):
    """x -> width -> (width + residual block): any output width is fine for an encoder."""

    def __init__(self, in_features, width=16):
        super().__init__()
        self.input = nn.Linear(in_features, width)
        self.block = nn.Sequential(nn.ReLU(), nn.Linear(width, width))

    def forward(self, x):
        h = self.input(x)
        return h + self.block(h)


class Decoder(nn.Module):
    def __init__(self, in_features, out_features, width=16):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_features, width), nn.Tanh(), nn.Linear(width, out_features))

    def forward(self, z):
        return self.layers(z)


class WrongWidthDecoder(Decoder):
    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features + 1)


class DoubleEncoder(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.layer = nn.Linear(in_features, 4, dtype=torch.float64)

    def forward(self, x):
        return self.layer(x.double())


class ZeroWidthEncoder(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x[:, :0] * self.scale


CUSTOM = dict(encoder=ResidualEncoder, encoder__width=24, decoder=Decoder, decoder__width=12)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_custom_modules_are_built_with_their_arguments(Estimator, tabular):
    model = Estimator(**SMALL, **CUSTOM).fit(tabular)
    assert isinstance(model.network_.encoder, ResidualEncoder)
    assert model.network_.encoder.input.out_features == 24
    assert model.network_.decoder.layers[0].out_features == 12
    assert model.transform(tabular).shape == (300, 2)
    assert model.inverse_transform(model.transform(tabular)).shape == tabular.shape


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_routed_arguments_are_parameters(Estimator, tabular):
    estimator = Estimator(**SMALL, **CUSTOM)
    params = estimator.get_params()
    assert params["encoder__width"] == 24 and params["decoder"] is Decoder
    cloned = clone(estimator)
    assert cloned.get_params()["encoder__width"] == 24
    cloned.set_params(encoder__width=8)
    assert cloned.encoder__width == 8 and estimator.encoder__width == 24
    assert "encoder__width=24" in repr(estimator)
    # A grid search over a module argument, with no scorer.
    search = GridSearchCV(estimator, {"encoder__width": [4, 16]}, cv=2).fit(tabular)
    assert search.best_estimator_.network_.encoder.input.out_features == search.best_params_["encoder__width"]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_custom_modules_are_reproducible_and_leave_global_rng_alone(Estimator, tabular):
    state = torch.get_rng_state()
    a = Estimator(**SMALL, **CUSTOM).fit(tabular)
    b = Estimator(**SMALL, **CUSTOM).fit(tabular)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(a.transform(tabular), b.transform(tabular))
    c = Estimator(**{**SMALL, "random_state": 1}, **CUSTOM).fit(tabular)
    assert not np.allclose(a.transform(tabular), c.transform(tabular))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_factories_and_pickling(Estimator, tabular):
    factory = functools.partial(ResidualEncoder, width=8)
    model = Estimator(**SMALL, encoder=factory).fit(tabular)
    assert model.network_.encoder.input.out_features == 8
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(tabular), model.transform(tabular))
    assert clone(model).encoder.keywords == {"width": 8}
    with pytest.raises(TypeError, match=r"of type partial: .* \(pass the class itself, and its arguments as "
                                        r"encoder__width=\.\.\., say\)\. Use pickle or joblib"):
        model.save(io.BytesIO())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_transform_of_a_custom_model_depends_on_each_row_alone(Estimator, tabular):
    model = Estimator(**SMALL, encoder=ResidualEncoder, encoder__width=32).fit(tabular)
    full = model.transform(tabular)
    np.testing.assert_array_equal(model.transform(tabular[5:6]), full[5:6])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_modules_get_clear_errors_and_leave_the_model_alone(Estimator, tabular):
    model = Estimator(**SMALL).fit(tabular)
    before = model.transform(tabular)
    cases = [
        ({"decoder": WrongWidthDecoder}, ValueError, r"decoder must return 6 values per row.*returned 7"),
        ({"encoder": DoubleEncoder}, ValueError, r"encoder must compute in float32"),
        ({"encoder": lambda in_features: "not a module"}, TypeError, r"encoder must be a torch.nn.Module.*returned str"),
        ({"encoder": ResidualEncoder, "encoder__depth": 3}, TypeError, r"encoder=ResidualEncoder cannot be called as \(in_features=6, depth=3\).*depth"),
        ({"encoder": ResidualEncoder(6)}, TypeError, r"not a module instance.*encoder=ResidualEncoder"),
        # Were torch's reshape error, and inspect's "multiple values" with a call that did not show 6.
        ({"encoder": ZeroWidthEncoder}, ValueError, r"n_outputs at least 1; for 2 rows it returned \(2, 0\)"),
        ({"encoder": ResidualEncoder, "encoder__in_features": 3}, ValueError,
         r"encoder__in_features is set, but skvae passes in_features to the encoder itself \(in_features=6"),
        ({"encoder__width": 3}, ValueError, (r"encoder__width is set but encoder=None.*leave encoder__width out "
                                             r"of the estimator and give it in a grid of its own")),
    ]
    for params, error, message in cases:
        with pytest.raises(error, match=message):
            clone(model).set_params(**params).fit(tabular)
        with pytest.raises(error, match=message):
            Estimator(**SMALL, **params).fit(tabular)
    # A misspelt argument: set_params refuses it at once, as scikit-learn does;
    # the constructor, which must not validate, leaves it to fit.
    with pytest.raises(ValueError, match="Invalid parameter 'encoder_width'"):
        clone(model).set_params(encoder_width=3)
    with pytest.raises(ValueError, match=r"unexpected parameter 'encoder_width'.*'encoder__'"):
        Estimator(**SMALL, encoder_width=3).fit(tabular)
    np.testing.assert_array_equal(model.transform(tabular), before)


def test_continued_training_refuses_a_changed_module_argument(tabular):
    model = VAETransformer(**SMALL, **CUSTOM).fit(tabular)
    model.set_params(encoder__width=8)
    with pytest.raises(ValueError, match=r"cannot change encoder__width=8 \(fitted with 24\)"):
        model.partial_fit(tabular)


def test_a_user_encoder_serves_every_model_kind(tabular):
    # The encoder returns features; each estimator adds its own latent head.
    vae = VAETransformer(**SMALL, encoder=ResidualEncoder).fit(tabular)
    ae = AutoencoderTransformer(**SMALL, encoder=ResidualEncoder).fit(tabular)
    assert vae.network_.latent.head.out_features == 4  # mu and log-variance
    assert ae.network_.latent.head.out_features == 2


class DropoutEncoder(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_features, 16), nn.Dropout(0.3), nn.ReLU())

    def forward(self, x):
        return self.layers(x)


def test_user_modules_draw_from_their_own_seed_not_the_global_rng(tabular):
    # Dropout draws from torch's global generator: skvae seeds it from
    # random_state for the fit and restores the caller's state afterwards.
    results = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        state = torch.get_rng_state()
        model = VAETransformer(**SMALL, encoder=DropoutEncoder).fit(tabular)
        assert torch.equal(torch.get_rng_state(), state)
        results.append(model.transform(tabular))
    np.testing.assert_array_equal(*results)
    # The user's module and skvae's own layers are initialised from different streams.
    user = model.network_.encoder.layers[0].weight.detach().flatten()[:4]
    head = model.network_.latent.head.weight.detach().flatten()[:4]
    assert not np.allclose(np.abs(user.numpy()), np.abs(head.numpy()))


class NoisyEncoder(nn.Module):
    """Noise in every forward pass, evaluation's too."""

    def __init__(self, in_features):
        super().__init__()
        self.layer = nn.Linear(in_features, 16)

    def forward(self, x):
        return torch.relu(self.layer(x + 0.1 * torch.randn_like(x)))


def test_noise_drawn_outside_training_steps_is_seeded_too(tabular):
    # The checks and statistics around training run the user's forward as well: they drew from the
    # caller's generator, moving it, and kl_per_dim_ followed the caller's global seed.
    fitted = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        state = torch.get_rng_state()
        fitted.append(VAETransformer(**SMALL, encoder=NoisyEncoder).fit(tabular))
        assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(fitted[0].kl_per_dim_, fitted[1].kl_per_dim_)


def test_evaluation_does_not_depend_on_the_model_mode(tabular):
    model = VAETransformer(**SMALL, encoder=DropoutEncoder).fit(tabular)
    expected = model.transform(tabular)
    model.network_.train()  # what a user exploring the model might do
    np.testing.assert_array_equal(model.transform(tabular), expected)


class ScaledEncoder(nn.Module):
    def __init__(self, in_features, scales, body):
        super().__init__()
        self.register_buffer("scales", torch.as_tensor(scales, dtype=torch.float32))
        self.body = body

    def forward(self, x):
        return self.body(x * self.scales)


def test_array_and_module_arguments(tabular):
    body = nn.Linear(6, 8)
    before = body.weight.detach().clone()
    params = dict(encoder=ScaledEncoder, encoder__scales=np.ones(6), encoder__body=body)
    model = VAETransformer(**SMALL, **params).fit(tabular)
    model.partial_fit(tabular)  # arrays compare without "truth value is ambiguous"
    assert torch.equal(body.weight, before)  # the argument is copied, not trained
    model.set_params(encoder__scales=np.full(6, 2.0))
    with pytest.raises(ValueError, match="cannot change encoder__scales"):
        model.partial_fit(tabular)


def test_set_params_still_rejects_unknown_names(tabular):
    with pytest.raises(ValueError, match="Invalid parameter 'lerning_rate_init'"):
        VAETransformer().set_params(lerning_rate_init=0.1)


def test_only_user_modules_get_torchs_global_generator_seeded(tabular, monkeypatch):
    # Seeding torch's global generator is process-wide: fits in threads side by side would share
    # it. skvae's own modules draw from their own generator, so a fit seeds it only for a user's.
    import skvae._base

    seeded = []
    original = skvae._base.local_global_rng

    def watched(seed, device):
        seeded.append(seed)
        return original(seed, device)

    monkeypatch.setattr(skvae._base, "local_global_rng", watched)
    VAETransformer(**SMALL).fit(tabular)
    assert seeded == []
    VAETransformer(**SMALL, **CUSTOM).fit(tabular)
    assert len(seeded) == 2  # the whole fit, and training's own stream within it


class LogEncoder(nn.Module):
    """A user's slip: the log of standardised inputs, NaN for every negative one."""

    def __init__(self, in_features, width=16):
        super().__init__()
        self.input = nn.Linear(in_features, width)

    def forward(self, x):
        return torch.relu(self.input(torch.log(x)))


@pytest.mark.parametrize("Estimator", [VAETransformer, AutoencoderTransformer])
def test_a_module_that_is_not_finite_before_training_is_blamed_not_the_learning_rate(Estimator, tabular):
    model = Estimator(encoder=LogEncoder, **SMALL)
    with pytest.raises(ValueError, match="Before any training step") as error:
        model.fit(tabular)
    assert "learning_rate_init" not in str(error.value)
    assert not hasattr(model, "network_")


class BatchNormEncoder(nn.Module):
    def __init__(self, in_features, width=16):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_features, width), nn.BatchNorm1d(width), nn.ReLU())

    def forward(self, x):
        return self.layers(x)


def test_a_last_minibatch_of_one_row_refused_by_batch_norm_says_which_batch_size_to_choose():
    X = np.random.RandomState(0).normal(size=(301, 4))  # "auto" takes minibatches of 30: one row is left
    model = VAETransformer(encoder=BatchNormEncoder, max_iter=2, random_state=0)
    with pytest.raises(ValueError, match=r"minibatch of one row \(301 training rows in minibatches "
                                         r"of 30\).*301 % batch_size != 1"):
        model.fit(X)
    assert not hasattr(model, "network_")
    with pytest.raises(ValueError, match=r"minibatch of one row .*a batch_size of 2 or more"):
        model.set_params(batch_size=1).fit(X[:300])


def test_a_conditional_model_with_batch_norm_fits_whatever_rows_its_condition_dropout_draws():
    # condition_dropout encodes a random share of each minibatch again without the condition: a draw of
    # one row alone raised BatchNorm's "Expected more than 1 value per channel" (every seed, 150 rows).
    from skvae import ConditionalVAETransformer

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(150, 4)), rng.randint(0, 3, 150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConditionalVAETransformer(encoder=BatchNormEncoder, max_iter=5, random_state=0).fit(X, y)
    assert np.isfinite(model.transform(X)).all()


def test_a_search_over_the_built_in_and_a_custom_module_runs_as_the_refusal_advises(tabular):
    # set_params cannot remove encoder__width, so the built-in candidate of a grid over encoder failed
    # (NaN) where the estimator held it; the refusal now gives the grid that works.
    grid = [{"encoder": [None]}, {"encoder": [ResidualEncoder], "encoder__width": [8]}]
    search = GridSearchCV(VAETransformer(**SMALL), grid, cv=2, error_score="raise").fit(tabular)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert len(search.cv_results_["params"]) == 2
