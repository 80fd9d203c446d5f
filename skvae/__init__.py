"""skvae: variational and plain autoencoders as scikit-learn transformers."""

from ._autoencoder import AutoencoderTransformer
from ._conditional import ConditionalVAETransformer
from ._vae import VAETransformer

__all__ = ["AutoencoderTransformer", "ConditionalVAETransformer", "VAETransformer"]
__version__ = "0.2.0.dev0"
