"""Encoders and decoders: dense (MLP) and convolutional, behind one interface.

The interface, which a user's own module must follow too:

* an **encoder** maps float32 rows ``(batch, in_features)`` to float32
  features ``(batch, k)``, any ``k``; skvae adds the latent head (the
  affine map to mu and log-variance, or to the code) on top;
* a **decoder** maps float32 codes ``(batch, in_features)`` to
  ``(batch, out_features)``: the likelihood's parameters for each row (for
  the Gaussian and Bernoulli likelihoods one value per feature: the mean,
  or the logit).

Rows stay flat: an image encoder reshapes ``(batch, C*H*W)`` itself, channel
by channel (channels first, as torch lays out images). A conditional model
appends its condition to the rows, so ``in_features`` counts it. Neither
module may modify its input in place.

Row independence: skvae evaluates a fitted model in eval mode
(``module.eval()``) on fixed-size chunks of rows, so that a row's output
is bitwise the same whatever other rows share its call. A module keeps that
guarantee when each output row depends on its own input row alone (no
batch statistics in eval mode, no attention across rows) and when its
operations give a row the same bits wherever it sits in a fixed-size batch.
The built-in modules do: ``skvae.nn.Linear`` pads narrow widths in eval
mode, where a plain ``nn.Linear`` narrower than 16 units may round a row
differently by position.
"""

import torch
from torch import nn

from .layers import Conv2d, ConvTranspose2d, activation_layer, init_glorot_, materialise_, mlp

# Every convolution halves (down) or doubles (up) the image: kernel 4,
# stride 2, padding 1, as in DCGAN and most image VAEs. An axis of size 1 is
# left alone (kernel 1, stride 1), so a 1 x n image is convolved along its
# width only, as a signal is.
_HALVING = (4, 2, 1)
_KEEPING = (1, 1, 0)


def _geometry(height, width):
    """Kernel, stride and padding (each a pair) of the convolution applied to a height x width map."""
    by_axis = [_HALVING if size >= 2 else _KEEPING for size in (height, width)]
    return tuple(zip(*by_axis))


def conv_shapes(image_shape, n_convolutions):
    """``(height, width)`` after each of ``n_convolutions`` halvings, the input's first.

    An axis halves, rounding down, until it reaches 1, and then stays 1.
    """
    height, width = image_shape[-2:]
    shapes = [(height, width)]
    for _ in range(n_convolutions):
        height, width = max(1, height // 2), max(1, width // 2)
        shapes.append((height, width))
    return shapes


def _channels_first(image_shape):
    shape = tuple(int(n) for n in image_shape)
    return shape if len(shape) == 3 else (1, *shape)


class MLPEncoder(nn.Module):
    """Dense layers of ``hidden_layer_sizes``, each followed by the activation.

    With no hidden layers it is the identity: the latent head alone is then
    a linear encoder.

    Parameters
    ----------
    in_features : int
        Width of the input rows.

    hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the dense layers.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation after each layer.

    generator : torch.Generator or None, default=None
        Source of the initial weights; None uses torch's global RNG.
    """

    def __init__(self, in_features, hidden_layer_sizes=(128, 64), activation="relu", *, generator=None):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.layers = mlp([in_features, *hidden], activation, generator, activate_last=True)
        self.out_features = hidden[-1] if hidden else in_features

    def forward(self, x):
        return self.layers(x)


class MLPDecoder(nn.Module):
    """Dense layers from the code through ``hidden_layer_sizes`` to ``out_features``.

    No activation after the last layer: it outputs the likelihood's
    parameters.

    Parameters
    ----------
    in_features : int
        Width of the code (with a condition, if any, appended).

    out_features : int
        The likelihood's parameters per row.

    hidden_layer_sizes : tuple of int, default=(64, 128)
        Widths of the dense layers, from the code outwards (the estimators
        pass the encoder's in reverse).

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation between layers.

    generator : torch.Generator or None, default=None
        Source of the initial weights; None uses torch's global RNG.

    output_bias : torch.Tensor of shape (out_features,) or None, default=None
        The last layer's initial bias (the likelihoods' ``initial_output_bias``);
        None leaves it as initialised.
    """

    def __init__(self, in_features, out_features, hidden_layer_sizes=(64, 128), activation="relu",
                 *, generator=None, output_bias=None):
        super().__init__()
        self.layers = mlp([in_features, *hidden_layer_sizes, out_features], activation, generator)
        self.out_features = out_features
        if output_bias is not None:
            with torch.no_grad():
                self.layers[-1].bias.copy_(output_bias)

    def forward(self, z):
        return self.layers(z)


def _init_conv_(conv, activation_name, generator):
    # Glorot over each output's receptive field, as for a dense layer.
    receptive = conv.kernel_size[0] * conv.kernel_size[1]
    fan_in, fan_out = conv.in_channels * receptive, conv.out_channels * receptive
    return init_glorot_(conv, fan_in, fan_out, activation_name, generator)


def _materialise(conv, activation_name, generator):
    """A convolution built on the meta device, given real float32 weights from ``generator``."""
    materialise_(conv)
    if generator is None:
        conv.reset_parameters()
        return conv
    return _init_conv_(conv, activation_name, generator)


class ConvEncoder(nn.Module):
    """Strided convolutions down, then dense layers.

    Each convolution (kernel 4, stride 2, padding 1) halves the height and
    width, rounding down, and is followed by the activation; an axis that
    has reached size 1 is not convolved further (kernel 1 along it).

    Parameters
    ----------
    image_shape : tuple (channels, height, width) or (height, width)
        Shape of one image; each row holds one, flattened channels first.

    conv_channels : tuple of int, default=(8, 8)
        Output channels of each convolution.

    hidden_layer_sizes : tuple of int, default=(128, 64)
        Dense layers after the flattened convolutions.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation after each layer.

    n_extra_features : int, default=0
        Values appended to each row after the image (a condition); they
        join the flattened convolution features before the dense layers.

    generator : torch.Generator or None, default=None
        Source of the initial weights; None uses torch's global RNG.
    """

    def __init__(self, image_shape, conv_channels=(8, 8), hidden_layer_sizes=(128, 64),
                 activation="relu", *, n_extra_features=0, generator=None):
        super().__init__()
        image_shape = _channels_first(image_shape)
        channels = [image_shape[0], *conv_channels]
        shapes = conv_shapes(image_shape, len(conv_channels))
        layers = [nn.Unflatten(1, image_shape)]
        for c_in, c_out, shape in zip(channels[:-1], channels[1:], shapes):
            conv = Conv2d(c_in, c_out, *_geometry(*shape), device="meta")
            layers += [_materialise(conv, activation, generator), activation_layer(activation)]
        layers.append(nn.Flatten())
        self.convolutions = nn.Sequential(*layers)
        self.n_pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.n_extra_features = n_extra_features
        height, width = shapes[-1]
        flat = channels[-1] * height * width + n_extra_features
        self.dense = MLPEncoder(flat, hidden_layer_sizes, activation, generator=generator)
        self.out_features = self.dense.out_features

    def forward(self, x):
        features = self.convolutions(x[:, : self.n_pixels])
        if self.n_extra_features:
            features = torch.cat([features, x[:, self.n_pixels :]], dim=1)
        return self.dense(features)


class ConvDecoder(nn.Module):
    """Dense layers, then transposed convolutions up to the image: ``ConvEncoder`` mirrored.

    Each transposed convolution doubles the height and width (adding one
    where the encoder rounded down). The last outputs ``out_features /
    (height * width)`` channels, the likelihood's parameters for each pixel
    (as many as the image has channels, for one parameter per value), with
    no activation after it.

    Parameters
    ----------
    in_features : int
        Width of the code (with a condition, if any, appended).

    out_features : int
        The likelihood's parameters per row: a multiple of height * width.

    image_shape, conv_channels, activation, generator
        As for ``ConvEncoder``.

    output_bias : torch.Tensor of shape (out_features,) or None, default=None
        Where the outputs start (the likelihoods' ``initial_output_bias``):
        each output channel's bias starts at the mean over its pixels.
        None leaves the biases as initialised.

    hidden_layer_sizes : tuple of int, default=(64, 128)
        Dense layers from the code outwards.
    """

    def __init__(self, in_features, out_features, image_shape, conv_channels=(8, 8),
                 hidden_layer_sizes=(64, 128), activation="relu", *, generator=None, output_bias=None):
        super().__init__()
        image_shape = _channels_first(image_shape)
        height, width = image_shape[1:]
        if out_features % (height * width):
            raise ValueError(
                f"out_features={out_features} is not a whole number of values per pixel of a "
                f"{height} x {width} image."
            )
        shapes = conv_shapes(image_shape, len(conv_channels))
        channels = [*reversed(conv_channels), out_features // (height * width)]
        top = (channels[0], *shapes[-1])
        flat = top[0] * top[1] * top[2]
        self.dense = mlp([in_features, *hidden_layer_sizes, flat], activation, generator, activate_last=True)
        layers = [nn.Unflatten(1, top)]
        steps = list(zip(channels[:-1], channels[1:], reversed(shapes[:-1]), reversed(shapes[1:])))
        for index, (c_in, c_out, (h_out, w_out), (h_in, w_in)) in enumerate(steps):
            kernel, stride, padding = _geometry(h_out, w_out)
            # The encoder rounded an odd size down; one more row or column
            # of output puts it back.
            extra = tuple(out - s * n for out, s, n in zip((h_out, w_out), stride, (h_in, w_in)))
            conv = ConvTranspose2d(
                c_in, c_out, kernel, stride, padding, output_padding=extra, device="meta"
            )
            layers.append(_materialise(conv, activation, generator))
            if index < len(steps) - 1:
                layers.append(activation_layer(activation))
        if output_bias is not None:
            # One bias per output channel: the mean over its pixels of theirs.
            with torch.no_grad():
                layers[-1].bias.copy_(output_bias.view(channels[-1], -1).mean(1))
        layers.append(nn.Flatten())
        self.convolutions = nn.Sequential(*layers)
        self.out_features = out_features

    def forward(self, z):
        return self.convolutions(self.dense(z))


def output_width(module, in_features, role):
    """Run ``module`` on two zero rows and return its output width; a clear error if it is not rows of float32."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros(2, in_features, dtype=torch.float32))
    except (RuntimeError, ValueError, TypeError) as error:
        # torch.set_default_dtype(torch.float64) builds a user's layers in float64.
        default = ("" if torch.get_default_dtype() == torch.float32 else
                   f" torch's default dtype is {torch.get_default_dtype()} (torch.set_default_dtype), so layers "
                   "built without a dtype hold it: build them with dtype=torch.float32, or set the default back.")
        raise ValueError(
            f"The {role} failed on a float32 CPU tensor of shape (2, {in_features}), the shape it "
            f"must accept (rows of {in_features} values): {error}{default}"
        ) from error
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 2 or out.shape[1] == 0:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"The {role} must map a float32 tensor of shape (batch, {in_features}) to one of "
            f"shape (batch, n_outputs), n_outputs at least 1; for 2 rows it returned {shape}."
        )
    if out.dtype != torch.float32:
        raise ValueError(
            f"The {role} must compute in float32, as skvae trains in float32; it returned "
            f"{out.dtype}. Build its layers with dtype=torch.float32 (the default)."
        )
    return out.shape[1]
