"""Denoising (corruption, both estimators) and sparse (sparsity, autoencoder) training."""

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, SMALL

from skvae import AutoencoderTransformer, VAETransformer
from skvae.nn.corruption import gaussian_noise, masking
from skvae.nn import Batch, sparsity_penalty
from skvae.nn import model as model_module


def test_corruptions_draw_what_they_say():
    x = torch.ones(2000, 50)
    generator = torch.Generator().manual_seed(0)
    masked = masking(x, 0.3, generator)
    assert set(masked.unique().tolist()) == {0.0, 1.0}
    assert abs((masked == 0).float().mean().item() - 0.3) < 0.01
    noisy = gaussian_noise(x, 0.5, generator)
    assert abs((noisy - x).std().item() - 0.5) < 0.01 and abs((noisy - x).mean().item()) < 0.01


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("corruption", ["gaussian", "masking"])
def test_corruption_changes_training_only(Estimator, corruption, tabular, monkeypatch):
    plain = Estimator(**SMALL).fit(tabular)
    denoising = Estimator(**SMALL, corruption=corruption, corruption_level=0.3).fit(tabular)
    assert denoising.loss_curve_ != plain.loss_curve_

    def refused(*args):
        raise AssertionError("evaluation corrupted its input")

    with monkeypatch.context() as patched:  # the one way corruption reaches the model
        patched.setitem(model_module.CORRUPTIONS, corruption, refused)
        codes = denoising.transform(tabular)
        denoising.inverse_transform(codes)
        denoising.score_samples(tabular)
        denoising.sample(5, random_state=0)
        with pytest.raises(AssertionError, match="evaluation corrupted"):  # and training still does
            denoising.partial_fit(tabular)
    # Reproducible, and evaluation never corrupts: deterministic, row by row.
    again = Estimator(**SMALL, corruption=corruption, corruption_level=0.3).fit(tabular)
    np.testing.assert_array_equal(again.transform(tabular), denoising.transform(tabular))
    np.testing.assert_array_equal(denoising.transform(tabular[3:4]), denoising.transform(tabular)[3:4])
    np.testing.assert_array_equal(denoising.score_samples(tabular), denoising.score_samples(tabular))
    # corruption=None draws nothing more: the same model as the default.
    none = Estimator(**SMALL, corruption=None, corruption_level=0.9).fit(tabular)
    np.testing.assert_array_equal(none.transform(tabular), plain.transform(tabular))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_masking_everything_is_refused(Estimator, tabular):
    with pytest.raises(ValueError, match=r'corruption="masking".*below 1; got corruption_level=1.0'):
        Estimator(**SMALL, corruption="masking", corruption_level=1.0).fit(tabular)
    Estimator(**SMALL, corruption="gaussian", corruption_level=2.0).fit(tabular)  # any scale of noise


def test_noise_that_overflows_the_loss_is_blamed_on_corruption_level(tabular):
    # It was blamed on the learning rate, which cannot help: (1e20)**2 overflows float32.
    with pytest.raises(ValueError, match=r"corruption_level=1e\+20, whose squares overflow float32 .*lower "
                                         r"corruption_level \(0.1 to 1"):
        AutoencoderTransformer(**SMALL, corruption="gaussian", corruption_level=1e20).fit(tabular)
    # Noise that does not overflow trains (1e15 too); a divergence beside it is the learning rate's.
    with pytest.raises(ValueError, match=r"Lower learning_rate_init \(tenfold"):
        AutoencoderTransformer(**{**SMALL, "max_iter": 3}, corruption="gaussian", corruption_level=1.5,
                               learning_rate_init=1e4).fit(tabular)


def test_denoising_autoencoder_reconstructs_masked_digits_better(digits):
    X = digits[0]
    X_train, X_test = X[:1200], X[1200:]
    corrupted = X_test * (np.random.RandomState(0).rand(*X_test.shape) >= 0.3)
    errors = {}
    for corruption in (None, "masking"):
        ae = AutoencoderTransformer(8, likelihood="bernoulli", corruption=corruption, corruption_level=0.3,
                                    max_iter=30, random_state=0).fit(X_train)
        errors[corruption] = ((ae.inverse_transform(ae.transform(corrupted)) - X_test) ** 2).mean()
    # Measured: 0.0354 against 0.0381.
    assert errors["masking"] < errors[None], errors


def test_sparsity_penalty_is_scale_free():
    codes = torch.randn(64, 5, generator=torch.Generator().manual_seed(0))
    scales = torch.tensor([1e-3, 1.0, 7.0, 100.0, 0.5])
    torch.testing.assert_close(sparsity_penalty(codes * scales), sparsity_penalty(codes))
    sparse = codes * (torch.rand(64, 5, generator=torch.Generator().manual_seed(1)) < 0.1)
    assert sparsity_penalty(sparse) < 0.5 * sparsity_penalty(codes)


def test_sparsity_makes_codes_sparser_at_some_cost(digits):
    X = digits[0][:600]

    def fit(sparsity):
        ae = AutoencoderTransformer(6, likelihood="bernoulli", sparsity=sparsity, max_iter=40,
                                    random_state=0).fit(X)
        codes = ae.transform(X)
        near_zero = (np.abs(codes) < 0.1 * np.sqrt((codes**2).mean(0))).mean()
        return ae, near_zero

    plain, plain_share = fit(0.0)
    sparse, sparse_share = fit(1.0)
    assert sparse_share > 2 * plain_share, (plain_share, sparse_share)
    # The training loss includes the penalty: its last value is above the
    # reconstruction loss alone, which the model computes without it.
    rows = Batch(torch.as_tensor(X, dtype=torch.float32))
    with torch.no_grad():
        reconstruction = sum(sparse.network_.loss_terms(rows, torch.Generator()).values()).item()
        terms = sparse.network_.loss_terms(rows, torch.Generator(), sparsity=1.0)
        penalised = sum(terms.values()).item()
    assert list(terms) == ["reconstruction", "sparsity"]
    assert penalised > reconstruction
    # The last epoch's mean over its minibatches (measured 22.08) is the penalised loss after training
    # (21.91), not the reconstruction's (18.93): within a quarter of the penalty of it.
    assert abs(sparse.loss_curve_[-1] - penalised) < 0.25 * (penalised - reconstruction)


def test_vae_takes_corruption_but_not_sparsity():
    assert "corruption" in VAETransformer().get_params() and "sparsity" not in VAETransformer().get_params()
