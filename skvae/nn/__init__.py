"""The torch side of skvae: the column codec, encoders, decoders, latents, likelihoods and the model families.

Pure PyTorch, no scikit-learn. The estimators assemble a model from these
parts; a user's own encoder or decoder plugs in where the built-in ones do
(see ``skvae.nn.encoders`` for the interface), and a model family keeps the
contract written in ``skvae.nn.model``.
"""

from .adversarial import Discriminator, VAEGANModel
from .autoencoder import PlainAutoencoderModel, sparsity_penalty
from .columns import ColumnCodec
from .encoders import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .hierarchical import LadderLatent, LadderVAEModel
from .latents import DeterministicLatent, GaussianLatent, Latent
from .layers import ACTIVATIONS, Conv2d, ConvTranspose2d, Linear
from .likelihoods import LIKELIHOODS, BernoulliLikelihood, GaussianLikelihood, Likelihood
from .model import AutoencoderModel, Batch
from .quantized import VectorQuantizedLatent, VQVAEModel
from .variational import VariationalModel

__all__ = [
    "ACTIVATIONS",
    "LIKELIHOODS",
    "AutoencoderModel",
    "Batch",
    "BernoulliLikelihood",
    "ColumnCodec",
    "Conv2d",
    "ConvDecoder",
    "ConvTranspose2d",
    "ConvEncoder",
    "DeterministicLatent",
    "Discriminator",
    "GaussianLatent",
    "GaussianLikelihood",
    "LadderLatent",
    "LadderVAEModel",
    "Latent",
    "Likelihood",
    "Linear",
    "MLPDecoder",
    "MLPEncoder",
    "PlainAutoencoderModel",
    "VAEGANModel",
    "VQVAEModel",
    "VariationalModel",
    "VectorQuantizedLatent",
    "sparsity_penalty",
]
