"""Convolutional networks (image_shape): what images add to the shared contract.

The contract itself (determinism, pickling, partial_fit, errors, dtypes...)
runs on convolutional models in test_base.py and in the check suite.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import ESTIMATORS
from sklearn.exceptions import ConvergenceWarning

from skvae import AutoencoderTransformer, VAETransformer
from skvae.nn import ConvDecoder, ConvEncoder

FAST = dict(conv_channels=(8, 16), hidden_layer_sizes=(32,), random_state=0)


@pytest.fixture(scope="module")
def images(digits):
    """The first 400 digits, as 8 x 8 images in [0, 1]."""
    return digits[0][:400], digits[1][:400]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_image_shape_must_match_the_features(Estimator, images):
    X = images[0]
    with pytest.raises(ValueError, match=r"image_shape=\(1, 8, 9\) needs rows of 72 values.*X has 64 features"):
        Estimator(image_shape=(8, 9), **FAST).fit(X)
    for bad in [(64,), (1, 2, 4, 8), (8, -8), (0, 8, 8), "8x8"]:
        with pytest.raises(ValueError, match="image_shape"):
            Estimator(image_shape=bad, **FAST).fit(X)
    with pytest.raises(ValueError, match="conv_channels"):
        Estimator(image_shape=(8, 8), conv_channels=(8, 0)).fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_conv_models_use_conv_networks_and_image_units(Estimator, images):
    X = images[0]
    model = Estimator(4, likelihood="bernoulli", image_shape=(8, 8), max_iter=3, **FAST).fit(X)
    assert isinstance(model.network_.encoder, ConvEncoder)
    assert isinstance(model.network_.decoder, ConvDecoder)
    reconstruction = model.inverse_transform(model.transform(X))
    assert reconstruction.shape == X.shape
    assert np.all((reconstruction >= 0) & (reconstruction <= 1))
    assert model.sample(5, random_state=0).shape == (5, 64)


def test_conv_autoencoder_learns_the_images(images):
    X = images[0]
    model = AutoencoderTransformer(4, likelihood="bernoulli", image_shape=(8, 8), max_iter=40, **FAST).fit(X)
    reconstruction = model.inverse_transform(model.transform(X))
    # Closer than the mean image (measured: 0.66 of its error after 40 epochs).
    baseline = ((X - X.mean(0)) ** 2).mean()
    assert ((reconstruction - X) ** 2).mean() < 0.75 * baseline


def test_conv_vae_bounds_and_latent_options(images):
    X = images[0]
    vae = VAETransformer(
        4, likelihood="bernoulli", image_shape=(8, 8), beta=2.0, kl_warmup=3, free_bits=0.3,
        max_iter=8, **FAST,
    ).fit(X)
    elbo = vae.score_samples(X)
    iwae = vae.score_samples(X, n_importance=8)
    assert np.all(np.isfinite(elbo)) and iwae.mean() > elbo.mean()
    assert vae.kl_per_dim_.shape == (4,) and len(vae.loss_curve_) == 8


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_several_channels(Estimator):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 3 * 5 * 6)
    model = Estimator(2, image_shape=(3, 5, 6), max_iter=2, **FAST).fit(X)
    assert model.inverse_transform(model.transform(X)).shape == X.shape
    # A 1 x n image is a signal: convolved along its width only.
    signal = Estimator(2, image_shape=(1, 90), max_iter=2, **FAST).fit(X)
    assert signal.transform(X).shape == (60, 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("change", [{"image_shape": (1, 8, 8)}, {"image_shape": None}, {"conv_channels": (4,)}])
def test_continued_training_keeps_the_image_layout(Estimator, change, images):
    X = images[0][:100]
    model = Estimator(image_shape=(8, 8), max_iter=2, **{**FAST, "conv_channels": (8,)}).fit(X)
    if change == {"image_shape": (1, 8, 8)}:  # (8, 8) and (1, 8, 8) are the same layout
        same = copy.deepcopy(model).partial_fit(X)
        model.set_params(**change).partial_fit(X)
        assert model.n_iter_ == 3
        np.testing.assert_array_equal(model.transform(X), same.transform(X))
        return
    model.set_params(**change)
    with pytest.raises(ValueError, match="cannot change"):
        model.partial_fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_image_shape_on_refit_leaves_the_model_unchanged(Estimator, images):
    X = images[0]
    model = Estimator(image_shape=(8, 8), max_iter=2, **FAST).fit(X)
    before = model.transform(X)
    with pytest.raises(ValueError, match="needs rows of 64 values"):
        model.fit(np.c_[X, X])
    np.testing.assert_array_equal(model.transform(X), before)
    assert model.n_features_in_ == 64


def test_conv_autoencoder_matches_dense_interface(images):
    X = images[0]
    conv = AutoencoderTransformer(3, image_shape=(8, 8), max_iter=3, **FAST).fit(X)
    dense = AutoencoderTransformer(3, max_iter=3, **FAST).fit(X)
    assert conv.latent_covariance_.shape == dense.latent_covariance_.shape == (3, 3)
    assert list(conv.get_feature_names_out()) == list(dense.get_feature_names_out())


@pytest.mark.parametrize("in_size, output_padding, bias, batch", [
    (7, (0, 0), True, 6), (14, (0, 0), True, 1), (3, (1, 1), True, 6), (3, (1, 0), False, 6), (4, (0, 1), False, 1)])
@pytest.mark.parametrize("training", [True, False])
def test_the_phase_form_transposed_convolution_is_torchs(in_size, output_padding, bias, batch, training):
    # The decoder's ConvTranspose2d computes its forward pass as four 2 x 2
    # convolutions; it must give nn.ConvTranspose2d's outputs (to rounding)
    # and, in training, exactly torch's gradients.
    import torch
    from torch import nn

    from skvae.nn.layers import ConvTranspose2d

    torch.manual_seed(0)
    reference = nn.ConvTranspose2d(5, 3, 4, 2, 1, output_padding=output_padding, bias=bias)
    layer = ConvTranspose2d(5, 3, 4, 2, 1, output_padding=output_padding, bias=bias)
    layer.load_state_dict(reference.state_dict())
    reference.train(training), layer.train(training)
    x = torch.randn(batch, 5, in_size, in_size + 1, requires_grad=True)
    expected, got = reference(x), layer(x)
    assert got.shape == expected.shape and got.is_contiguous()
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=0, atol=1e-5)
    grad = torch.randn_like(expected)
    wrt = (lambda module: [x, module.weight] + ([module.bias] if bias else []))
    wanted = torch.autograd.grad(expected, wrt(reference), grad)
    for mine, theirs in zip(torch.autograd.grad(got, wrt(layer), grad), wanted):
        if training:
            assert torch.equal(mine, theirs)
        else:  # autograd through the phase form: sums in another order
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    with torch.inference_mode():  # training and evaluation compute the same bits
        assert torch.equal(layer.eval()(x.detach()), got.detach())


@pytest.mark.parametrize("height, width, bias, batch", [(14, 14, True, 6), (7, 8, True, 1), (3, 5, False, 6), (2, 2, True, 2)])
@pytest.mark.parametrize("input_needs_grad", [True, False])
def test_the_phase_form_input_gradient_convolution_is_torchs(height, width, bias, batch, input_needs_grad):
    # The encoder's Conv2d takes its input gradient as a phase-form transposed
    # convolution: forward, weight and bias gradients must be torch's bit for
    # bit, the input gradient torch's to rounding, at even and odd sizes.
    import torch
    from torch import nn

    from skvae.nn import Conv2d

    torch.manual_seed(0)
    reference = nn.Conv2d(5, 3, 4, 2, 1, bias=bias)
    layer = Conv2d(5, 3, 4, 2, 1, bias=bias)
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(batch, 5, height, width, requires_grad=input_needs_grad)
    expected, got = reference(x), layer(x)
    assert torch.equal(got, expected)
    grad = torch.randn_like(expected)
    wrt = (lambda module: [module.weight] + ([module.bias] if bias else []) + ([x] if input_needs_grad else []))
    for index, (mine, theirs) in enumerate(zip(torch.autograd.grad(got, wrt(layer), grad),
                                               torch.autograd.grad(expected, wrt(reference), grad))):
        assert mine.shape == theirs.shape
        if input_needs_grad and index == len(wrt(layer)) - 1:
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=0, atol=1e-5)
        else:
            assert torch.equal(mine, theirs)


def test_the_phase_form_does_not_keep_the_mode_of_its_first_call():
    # The interleaving index is cached per shape; a first call under
    # inference mode must not leave an inference tensor that breaks a later
    # call with autograd (nor a channels-last input break the interleaving).
    import torch
    from torch import nn

    from skvae.nn import Conv2d, ConvTranspose2d

    torch.manual_seed(0)
    layer = ConvTranspose2d(2, 1, 4, 2, 1).eval()
    with torch.inference_mode():
        layer(torch.randn(1, 2, 11, 13))
    z = torch.randn(3, 2, 11, 13, requires_grad=True)
    expected = nn.functional.conv_transpose2d(z, layer.weight, layer.bias, 2, 1)
    np.testing.assert_allclose(torch.autograd.grad(layer(z).sum(), z)[0].numpy(),
                               torch.autograd.grad(expected.sum(), z)[0].numpy(), rtol=0, atol=1e-5)
    # The encoder's input gradient uses the same index: its double backward runs with autograd.
    conv = Conv2d(1, 2, 4, 2, 1)
    x = torch.randn(1, 1, 22, 26, requires_grad=True)
    first = torch.autograd.grad(conv(x).square().sum(), x, create_graph=True)[0]
    assert torch.autograd.grad(first.sum(), x)[0].shape == x.shape
    channels_last = torch.randn(2, 2, 5, 6).contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(layer(channels_last).detach().numpy(),
                               nn.functional.conv_transpose2d(channels_last, layer.weight, layer.bias, 2, 1)
                               .detach().numpy(), rtol=0, atol=1e-5)


def test_per_sample_input_gradients_under_vmap_are_torchs():
    import torch
    from torch import nn
    from torch.func import functional_call, grad, vmap

    from skvae.nn import Conv2d, ConvTranspose2d

    torch.manual_seed(0)
    for mine, theirs, shape in ((Conv2d(2, 3, 4, 2, 1), nn.Conv2d(2, 3, 4, 2, 1), (4, 2, 8, 9)),
                                (ConvTranspose2d(3, 2, 4, 2, 1), nn.ConvTranspose2d(3, 2, 4, 2, 1), (4, 3, 5, 5))):
        theirs.load_state_dict(mine.state_dict())
        x = torch.randn(*shape)
        gradients = []
        for module in (mine, theirs):
            def loss(params, row, module=module):
                return functional_call(module, params, (row.unsqueeze(0),)).sin().sum()
            gradients.append(vmap(grad(loss, argnums=1), in_dims=(None, 0))(dict(module.named_parameters()), x))
        np.testing.assert_allclose(gradients[0].detach().numpy(), gradients[1].detach().numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", ["Conv2d", "ConvTranspose2d"])
def test_other_geometries_are_plain_convolutions(kind):
    import torch
    from torch import nn

    import skvae.nn

    torch.manual_seed(0)
    reference = getattr(nn, kind)(4, 2, (1, 4), (1, 2), (0, 1))
    layer = getattr(skvae.nn, kind)(4, 2, (1, 4), (1, 2), (0, 1))
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(3, 4, 1, 9, requires_grad=True)
    assert torch.equal(layer(x), reference(x))
    assert torch.equal(torch.autograd.grad(layer(x).sum(), x)[0], torch.autograd.grad(reference(x).sum(), x)[0])


@pytest.mark.parametrize("image_shape, conv_channels", [((28, 28), (8, 16, 4)), ((5, 7), (3, 2)), ((1, 9), (2,))])
def test_a_decoder_with_phase_form_layers_decodes_as_torchs_layers_would(image_shape, conv_channels):
    import torch
    from torch import nn

    from skvae.nn import ConvDecoder, ConvTranspose2d

    decoder = ConvDecoder(3, image_shape[0] * image_shape[1], image_shape, conv_channels, (8,),
                          generator=torch.Generator().manual_seed(0))
    reference = ConvDecoder(3, image_shape[0] * image_shape[1], image_shape, conv_channels, (8,),
                            generator=torch.Generator().manual_seed(0))
    for index, module in enumerate(reference.convolutions):
        if isinstance(module, ConvTranspose2d):
            plain = nn.ConvTranspose2d(module.in_channels, module.out_channels, module.kernel_size,
                                       module.stride, module.padding, module.output_padding)
            plain.load_state_dict(module.state_dict())
            reference.convolutions[index] = plain
    z = torch.randn(5, 3)
    np.testing.assert_allclose(decoder(z).detach().numpy(), reference(z).detach().numpy(), rtol=0, atol=1e-5)


def test_an_image_s_pixels_are_drawn_alike():
    # A grey image's pixel that held only 0 and 1 drew 0 or 1 amid its neighbours' probabilities.
    rng = np.random.RandomState(0)
    grey = rng.randint(1, 255, size=(200, 36)) / 255.0
    grey[:, 14] = rng.rand(200) < 0.5
    settings = {"likelihood": "bernoulli", "image_shape": (6, 6), "conv_channels": (4,), "hidden_layer_sizes": (16,),
                "max_iter": 2, "random_state": 0}
    drawn = VAETransformer(**settings).fit(grey).sample(50, random_state=0)
    assert ((drawn > 0) & (drawn < 1)).all()
    # The same columns as a table keep their own kinds; a binary image draws 0 and 1 throughout.
    table = VAETransformer(**{**settings, "image_shape": None}).fit(grey).sample(50, random_state=0)
    assert set(np.unique(table[:, 14])) <= {0.0, 1.0} and ((table[:, 15] > 0) & (table[:, 15] < 1)).all()
    binary = VAETransformer(**settings).fit((grey > 0.5).astype(float)).sample(50, random_state=0)
    assert set(np.unique(binary)) == {0.0, 1.0}
    # A frame's integer pixel cannot hold a probability: it is drawn, not rounded at 1/2 to 0 (as it was).
    frame = pd.DataFrame(grey, columns=[f"p{i}" for i in range(36)]).astype({"p14": int})
    drawn = VAETransformer(**settings).fit(frame).sample(2000, random_state=0)
    assert 0.3 < drawn["p14"].mean() < 0.7 and ((drawn["p15"] > 0) & (drawn["p15"] < 1)).all()


def test_a_warm_start_refusing_a_new_image_shape_names_it_not_the_channels_the_dense_network_never_had():
    # It read "cannot change conv_channels=(8, 8) (fitted with the module's default), image_shape=(1, 2, 2)
    # (fitted with the module's default)": no module was involved, and no channels had been set.
    X = np.random.RandomState(0).rand(60, 4)
    model = VAETransformer(max_iter=2, random_state=0, warm_start=True, hidden_layer_sizes=(8,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    model.set_params(image_shape=(2, 2))
    with pytest.raises(ValueError, match=r"cannot change image_shape=\(1, 2, 2\) \(fitted with None\) while"):
        model.fit(X)


def test_channels_last_image_shape_is_warned_of_and_channels_first_is_not():
    # (8, 8, 1), as PIL and Keras lay images out, tiles a row of 64 as well: read channels first it
    # built a network of 8 channels of 8 x 1 images, convolving along one axis, without a word.
    X = np.random.RandomState(0).rand(40, 64)
    settings = {"conv_channels": (4,), "hidden_layer_sizes": (8,), "max_iter": 1, "random_state": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = VAETransformer(image_shape=(8, 8, 1), **settings).fit(X)
        model.partial_fit(X)  # warned once, on the fit that reads the shape
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
            and not issubclass(w.category, ConvergenceWarning)]
    assert len(said) == 1 and "image_shape=(1, 8, 8)" in said[0] and "transpose(0, 3, 1, 2)" in said[0]
    for shape in [(1, 8, 8), (8, 8), (4, 4, 4)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            VAETransformer(image_shape=shape, **settings).fit(X)


def test_images_as_a_3d_array_are_refused_with_the_flattening_to_do(images):
    X = images[0].reshape(-1, 8, 8)
    with pytest.raises(ValueError, match=r"shape \(400, 8, 8\).*X\.reshape\(len\(X\), -1\)"):
        VAETransformer(image_shape=(8, 8), **FAST).fit(X)


def test_a_pixel_never_observed_is_to_be_filled_not_dropped(images):
    # Dropping the column, as a table's advice says, would leave rows that no longer tile image_shape.
    X = images[0].copy()
    X[:, 5] = np.nan
    with pytest.raises(ValueError, match=r"Column 5 has no observed value.*Fill it"):
        VAETransformer(image_shape=(8, 8), **FAST).fit(X)
    with pytest.raises(ValueError, match="Drop the column"):
        VAETransformer(**FAST).fit(X)


def test_pixels_far_past_the_range_fitted_on_are_warned_of(images):
    # Fitted on digits / 16, given the raw 0-16 digits: codes far from anything seen at fit, and an
    # imputer filling a hole with 0.49 beside observed 5, 13 and 9, without a word.
    from skvae import VAEImputer

    X = images[0]
    settings = {"hidden_layer_sizes": (16,), "max_iter": 2, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model, imputer = VAETransformer(**settings).fit(X), VAEImputer(**settings).fit(X)
    nudged = np.clip(X[:20] * 1.02, 0, 1.02)  # a scaler fitted on other rows: a little past 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.transform(nudged)
    raw = np.tile(X * 16, (8, 1))  # rows of several evaluation chunks
    with pytest.warns(UserWarning, match=r"past the range.*fitted as bernoulli on \[0, 1\], hold values from 0 "
                                         r"to 16 \(the encoder reads them as they are\).*Transform X as it was for fit") as caught:
        model.transform(raw)
    assert len([w for w in caught if "past the range" in str(w.message)]) == 1  # once a call, not once a chunk
    holed = raw[:20].copy()
    holed[0, 10] = np.nan
    with pytest.warns(UserWarning, match="past the range"):
        imputer.transform(holed)
