"""The codebook of a VQ-VAE on digits, decoded: the prototypes it quantises every digit to.

VQVAETransformer(latent_dim=8, n_codes=64, likelihood="bernoulli") is fitted
on 1347 digits. Top: ``inverse_transform(codebook_)``, every codebook vector
decoded, ordered by how many training rows use it (``code_counts_``, printed
above each tile). Bottom: held-out digits (upper row) and their
reconstruction from their code, ``inverse_transform(codebook_[predict(X)])``
(lower row): with one code per row, a reconstruction is one of at most
``n_codes`` images. Printed: codes used, perplexity, held-out reconstruction
error and bound on log p(x).

Run: python examples/vqvae_codebook.py [--output DIR] [--quick]; --quick
(or SKVAE_EXAMPLES_QUICK=1) trains a tiny model on 300 digits in seconds.

measured (full run, OMP_NUM_THREADS=1, 14 s; 200 epochs on 1347 digits, 450
held out): the training digits use all 64 codes, perplexity 56.8; the
held-out digits use all 64 too; reconstruction MSE per pixel 0.0284, bound
on log p(x) -23.65 nats. The decoded codes are clean prototypes of every
class, several per class (slants, widths), the commonest 6, 0 and 3.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from sklearn.model_selection import train_test_split

from skvae import VQVAETransformer

LATENT_DIM = 8
N_CODES = 64
N_COLS = 16  # tiles per row of the codebook grid
N_SHOWN = 16  # held-out digits shown with their reconstruction


def mosaic(images, n_cols, gap=1):
    """Tile 8x8 images into one array, NaN-separated so the gaps show as lines; ``gap`` rows above each."""
    n_rows, step = int(np.ceil(len(images) / n_cols)), 8 + gap
    tiles = np.full((n_rows * step + 1, n_cols * 9 + 1), np.nan)
    for i, image in enumerate(images):
        row, col = divmod(i, n_cols)
        tiles[row * step + gap : row * step + gap + 8, col * 9 + 1 : col * 9 + 9] = image.reshape(8, 8)
    return tiles


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    X_train, X_test = train_test_split(X, stratify=y, random_state=SEED)

    vq = VQVAETransformer(LATENT_DIM, n_codes=N_CODES, likelihood="bernoulli", **model_params(quick))
    vq.fit(X_train)
    order = np.argsort(-vq.code_counts_, kind="stable")
    decoded = vq.inverse_transform(vq.codebook_[order])
    codes = vq.predict(X_test)
    reconstruction = vq.inverse_transform(vq.codebook_[codes])
    used = int((vq.code_counts_ > 0).sum())
    print(f"codes used by the {len(X_train)} training digits: {used} of {N_CODES}, "
          f"perplexity {vq.perplexity_:.1f}")
    print(f"held-out: {len(np.unique(codes))} codes used, reconstruction MSE per pixel "
          f"{np.mean((X_test - reconstruction) ** 2):.4f}, bound on log p(x) {vq.score(X_test):.2f} nats")

    cmap = plt.get_cmap("gray_r").with_extremes(bad="0.8")
    n_grid_rows = int(np.ceil(N_CODES / N_COLS))
    fig, (ax_codes, ax_recon) = plt.subplots(
        2, 1, figsize=(8, 4.6), height_ratios=[n_grid_rows * 11 + 3, 2 * 9 + 1], layout="constrained"
    )
    ax_codes.imshow(mosaic(decoded, N_COLS, gap=3), cmap=cmap, vmin=0, vmax=1)
    for i, count in enumerate(vq.code_counts_[order]):  # in the gap above each tile
        row, col = divmod(i, N_COLS)
        ax_codes.text(col * 9 + 4.5, row * 11 + 2.4, str(count), ha="center", va="bottom", fontsize=7, color="C3")
    ax_codes.set_axis_off()
    ax_codes.set_title(
        f"inverse_transform(codebook_): the {N_CODES} codes decoded, most used first\n"
        f"(red: training rows per code; {used} used, perplexity {vq.perplexity_:.1f})",
        fontsize=10,
    )
    shown = np.vstack([X_test[:N_SHOWN], reconstruction[:N_SHOWN]])
    ax_recon.imshow(mosaic(shown, N_SHOWN), cmap=cmap, vmin=0, vmax=1)
    ax_recon.set_yticks([5, 14], ["held out", "its code"], fontsize=8)
    ax_recon.set_xticks(9 * np.arange(N_SHOWN) + 5, [str(k) for k in codes[:N_SHOWN]], fontsize=7)
    ax_recon.set_xlabel("predict(X): the code of each held-out digit", fontsize=8)
    ax_recon.set_title("held-out digits and inverse_transform(codebook_[predict(X)])", fontsize=10)
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
