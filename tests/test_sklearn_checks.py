"""scikit-learn's own estimator checks, the whole suite, on every estimator.

The dense models run as they are. The convolutional models need an
``image_shape`` that matches X, but the suite makes its own data, from 1 to
10 features wide, and no fixed shape matches them all. ``RowImage`` runs
them anyway: it reads each row as a 1 x n_features image, fixed for the
duration of each fit and restored after it, so every check exercises the
convolutional encoder, decoder and evaluation; only where the image shape
comes from differs from the user-facing estimators.
"""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import (
    AutoencoderTransformer,
    ConditionalVAETransformer,
    HierarchicalVAETransformer,
    VAEGANTransformer,
    VAEImputer,
    VAETransformer,
    VQVAETransformer,
)

# Small networks and few epochs keep the suite fast; the checks test the
# contract, not the quality of the fit.
FAST = dict(hidden_layer_sizes=(8,), max_iter=3)
CONV = dict(FAST, conv_channels=(4,), image_shape=None)


class _RowImage:
    def _fit(self, X, incremental, **options):
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2:
            return super()._fit(X, incremental, **options)
        self.image_shape = (1, int(shape[1]))
        try:
            return super()._fit(X, incremental, **options)
        finally:
            self.image_shape = None


class RowImageVAE(_RowImage, VAETransformer):
    pass


class RowImageAutoencoder(_RowImage, AutoencoderTransformer):
    pass


class RowImageConditionalVAE(_RowImage, ConditionalVAETransformer):
    pass


class RowImageVQVAE(_RowImage, VQVAETransformer):
    pass


class RowImageHierarchicalVAE(_RowImage, HierarchicalVAETransformer):
    pass


class RowImageVAEGAN(_RowImage, VAEGANTransformer):
    pass


@parametrize_with_checks(
    [
        VAETransformer(**FAST),
        AutoencoderTransformer(**FAST),
        ConditionalVAETransformer(**FAST),
        VAEImputer(**FAST),
        AutoencoderTransformer(**FAST, sparsity=0.1, corruption="masking"),
        RowImageVAE(**CONV),
        RowImageAutoencoder(**CONV),
        RowImageConditionalVAE(**CONV, corruption="gaussian"),
        VQVAETransformer(**FAST, n_codes=4),
        HierarchicalVAETransformer(**FAST, latent_dims=(2, 1)),
        VAEGANTransformer(**FAST),
        RowImageVQVAE(**CONV, n_codes=4),
        RowImageHierarchicalVAE(**CONV, latent_dims=(2, 1)),
        RowImageVAEGAN(**CONV),
    ],
    expected_failed_checks=lambda estimator: {},
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_row_image_models_are_convolutional():
    X = np.random.RandomState(0).rand(20, 5)
    for Estimator in (RowImageVAE, RowImageAutoencoder):
        estimator = Estimator(**CONV).fit(X)
        assert estimator.image_shape is None
        assert type(estimator.network_.encoder).__name__ == "ConvEncoder"
        assert type(estimator.network_.decoder).__name__ == "ConvDecoder"
