"""Input corruptions for denoising autoencoders (Vincent et al. 2008).

Each takes the model's input rows (standardised for the Gaussian likelihood,
as given for the Bernoulli one), a level and a generator, and returns
corrupted rows; the model reconstructs the clean ones. Training only.
"""

import torch


def gaussian_noise(x, level, generator):
    """``x`` plus Gaussian noise of standard deviation ``level``."""
    return x + level * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def masking(x, level, generator):
    """``x`` with a random fraction ``level`` of its entries set to 0.

    0 is the feature's training mean for standardised input, and the usual
    "off" value for inputs in [0, 1].
    """
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= level
    return x * keep


CORRUPTIONS = {"gaussian": gaussian_noise, "masking": masking}
