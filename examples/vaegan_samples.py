"""Digits drawn from a VAE and from a VAE-GAN with the same settings, side by side.

VAETransformer and VAEGANTransformer (latent_dim=8, likelihood="bernoulli",
same epochs and seed) are fitted on the digits. Top row of panels:
``sample(48)`` of each, the decoder means of codes each draws from the
mixture fitted to its own training codes (same random_state). Bottom: held-out digits and their reconstructions
``inverse_transform(transform(X))`` by each model. Printed: the held-out
ELBO of each and the VAE-GAN's ``discriminator_accuracy_``; the sharpness and
fidelity numbers are in benchmarks/vaegan.py.

Run: python examples/vaegan_samples.py [--output DIR] [--quick]; --quick
(or SKVAE_EXAMPLES_QUICK=1) trains tiny models on 300 digits in seconds.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from sklearn.model_selection import train_test_split

from skvae import VAEGANTransformer, VAETransformer

LATENT_DIM = 8
N_SAMPLES = 48
N_COLS = 8


def mosaic(images, n_cols):
    """Tile 8x8 images into one array, NaN-separated so the gaps show as lines."""
    n_rows = int(np.ceil(len(images) / n_cols))
    tiles = np.full((n_rows * 9 + 1, n_cols * 9 + 1), np.nan)
    for i, image in enumerate(images):
        row, col = divmod(i, n_cols)
        tiles[row * 9 + 1 : row * 9 + 9, col * 9 + 1 : col * 9 + 9] = image.reshape(8, 8)
    return tiles


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    X_train, X_test = train_test_split(X, stratify=y, random_state=SEED)
    params = model_params(quick, max_iter=40)
    models = {
        "VAE": VAETransformer(LATENT_DIM, likelihood="bernoulli", **params).fit(X_train),
        "VAE-GAN": VAEGANTransformer(LATENT_DIM, likelihood="bernoulli", **params).fit(X_train),
    }
    for name, model in models.items():
        print(f"{name:<8} held-out ELBO {model.score(X_test):8.2f} nats")
    print("VAE-GAN discriminator accuracy:", models["VAE-GAN"].discriminator_accuracy_)

    originals = X_test[:N_COLS]
    cmap = plt.get_cmap("gray_r").with_extremes(bad="0.8")
    fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), height_ratios=[6, 3], layout="constrained")
    for column, (name, model) in enumerate(models.items()):
        samples = model.sample(N_SAMPLES, random_state=SEED)
        axes[0, column].imshow(mosaic(samples, N_COLS), cmap=cmap, vmin=0, vmax=1)
        axes[0, column].set_title(f"{name}: sample({N_SAMPLES})", fontsize=10)
        reconstructions = model.inverse_transform(model.transform(originals))
        axes[1, column].imshow(mosaic(np.vstack([originals, reconstructions]), N_COLS), cmap=cmap, vmin=0, vmax=1)
        axes[1, column].set_title(f"{name}: held-out digits (top), reconstructions", fontsize=10)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
