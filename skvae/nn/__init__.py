"""The torch side of skvae: encoders, decoders, latents, likelihoods and the model.

Pure PyTorch, no scikit-learn. The estimators assemble an
``AutoencoderModel`` from these parts; a user's own encoder or decoder
plugs in where the built-in ones do (see ``skvae.nn.encoders`` for the
interface).
"""

from .adversarial import Discriminator, VAEGANModel
from .encoders import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .hierarchical import LadderLatent
from .latents import DeterministicLatent, GaussianLatent, Latent
from .layers import ACTIVATIONS, Linear
from .likelihoods import LIKELIHOODS, BernoulliLikelihood, GaussianLikelihood, Likelihood
from .model import AutoencoderModel
from .quantized import VectorQuantizedLatent

__all__ = [
    "ACTIVATIONS",
    "LIKELIHOODS",
    "AutoencoderModel",
    "BernoulliLikelihood",
    "ConvDecoder",
    "ConvEncoder",
    "DeterministicLatent",
    "Discriminator",
    "GaussianLatent",
    "GaussianLikelihood",
    "LadderLatent",
    "Latent",
    "Likelihood",
    "Linear",
    "MLPDecoder",
    "MLPEncoder",
    "VAEGANModel",
    "VectorQuantizedLatent",
]
