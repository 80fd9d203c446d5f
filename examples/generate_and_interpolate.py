"""New digits from a VAE, and a walk through its latent space.

Top: ``sample()`` decodes codes drawn from a Gaussian mixture fitted to the
training digits' codes. Bottom: two real
digits are encoded with ``transform``, the straight line between their codes
is decoded with ``inverse_transform``, and the originals stand at either end.
"""

import numpy as np
from _common import digits, model_params, plt, save, setup

from skvae import VAETransformer

SAMPLE_GRID = 8  # an 8 x 8 grid of samples
STEPS = 8  # decoded points on the line, ends included
ENDS = (2, 7)  # interpolate from a typical 2 to a typical 7


def mosaic(images, n_cols):
    """Tile 8x8 images into one array, NaN-separated so the gaps show as lines."""
    n_rows = int(np.ceil(len(images) / n_cols))
    tiles = np.full((n_rows * 9 + 1, n_cols * 9 + 1), np.nan)
    for i, image in enumerate(images):
        row, col = divmod(i, n_cols)
        tiles[row * 9 + 1 : row * 9 + 9, col * 9 + 1 : col * 9 + 9] = image.reshape(8, 8)
    return tiles


def typical(X, y, digit):
    """The row of class ``digit`` nearest that class's mean image."""
    rows = X[y == digit]
    return rows[np.argmin(((rows - rows.mean(axis=0)) ** 2).sum(axis=1))]


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    vae = VAETransformer(latent_dim=8, likelihood="bernoulli", **model_params(quick, max_iter=200))
    vae.fit(X)
    print(
        f"mean ELBO on the training digits: {vae.score(X):.2f} nats; "
        f"active latent units: {vae.n_active_units_} of {vae.latent_dim}"
    )

    samples = vae.sample(SAMPLE_GRID**2, random_state=0)
    print(f"mean pixel intensity: data {X.mean():.3f}, samples {samples.mean():.3f}")

    ends = np.array([typical(X, y, digit) for digit in ENDS])
    mu_start, mu_end = vae.transform(ends)
    t = np.linspace(0, 1, STEPS)[:, None]
    path = vae.inverse_transform((1 - t) * mu_start + t * mu_end)

    # Ink dark on white; the NaN gaps between tiles in light grey.
    cmap = plt.get_cmap("gray_r").with_extremes(bad="0.8")
    fig, (ax_samples, ax_path) = plt.subplots(
        2, 1, figsize=(6, 7.6), height_ratios=[SAMPLE_GRID, 1.6], layout="constrained"
    )
    ax_samples.imshow(mosaic(samples, SAMPLE_GRID), cmap=cmap, vmin=0, vmax=1)
    ax_samples.set_title("vae.sample(64): decoder means of codes drawn where the training codes lie")
    ax_path.imshow(
        mosaic(np.vstack([ends[0], path, ends[1]]), STEPS + 2), cmap=cmap, vmin=0, vmax=1
    )
    ax_path.set_title(
        f"inverse_transform on the line from mu({ENDS[0]}) to mu({ENDS[1]});"
        "\nthe input digits at either end",
        fontsize=10,
    )
    for ax in (ax_samples, ax_path):
        ax.set_xticks([])
        ax.set_yticks([])
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
