"""Digits on request with a conditional VAE, and one digit's style in every class.

ConditionalVAETransformer(...).fit(X, y) learns p(x | y) on the digits and
their labels. Top: ``sample(8, y=k)`` for each class k, one row per class.
Bottom: "style transfer": a real digit x is encoded with its own label,
z = transform(x, y=label), and z is decoded under every class,
inverse_transform(z, y=k); the original stands first. Printed: the share of
``sample(200, y=k)`` that an SVC trained on real digits calls k, and the
held-out accuracy of an SVC on the codes transform(X) (no y, as a Pipeline
calls it) of the CVAE against a plain VAETransformer with the same settings.
The CVAE's code is meant to carry the style that the label does not
explain, so it should be the worse feature for predicting the label.

Run: python examples/conditional_digits.py [--output DIR] [--quick]; --quick
(or SKVAE_EXAMPLES_QUICK=1) trains tiny models on 300 digits in seconds.

measured (full run, ``python examples/make_figures.py``, 8 s on a 2-core
machine, the same figures at OMP_NUM_THREADS=1 and 2; both models
latent_dim=8, free_bits=0.5, 200 epochs on 1347 digits, 450 held out): an
SVC on pixels (0.987 on real test digits) calls 99.7% of the generated
digits by their requested class (per class 99.0% to 100%; 1 and 9 lowest).
SVC accuracy on transform(X_test): 0.969 on the VAE's codes, 0.691 on the
CVAE's, as intended. Test bound on log p(x): -24.91 nats for the VAE, -24.80
for the CVAE (summing over the classes); the CVAE's log p(x | y) with the
true labels, -22.57. In an earlier run without free_bits the CVAE kept only
2 of 8 latent units active (the VAE 4) and its codes gave the SVC 0.511.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from skvae import ConditionalVAETransformer, VAETransformer

LATENT_DIM = 8
N_COLS = 8  # generated digits per class in the grid
N_CHECK = 200  # generated digits per class that the SVC judges
STYLE_INDEX = 0  # which test digit lends its style


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
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=SEED)

    params = model_params(quick, max_iter=200, free_bits=0.5)
    cvae = ConditionalVAETransformer(LATENT_DIM, likelihood="bernoulli", **params)
    vae = VAETransformer(LATENT_DIM, likelihood="bernoulli", **params)
    cvae.fit(X_train, y_train)
    vae.fit(X_train)
    classes = cvae.classes_

    # Does sample(n, y=k) draw a k? Ask a classifier that never saw a generated digit.
    judge = SVC().fit(X_train, y_train)
    print(
        f"SVC on pixels, accuracy on {len(X_test)} real test digits: "
        f"{judge.score(X_test, y_test):.3f}"
    )
    print("class  share of sample(200, y=k) that the SVC calls k")
    hits = []
    for k in classes:
        generated = cvae.sample(N_CHECK, y=k, random_state=SEED + int(k))
        hits.append(np.mean(judge.predict(generated) == k))
        print(f"{k:>5}  {hits[-1]:.3f}")
    print(f"  all  {np.mean(hits):.3f}")

    # The codes as features for the label: the CVAE's are meant to hold little of it.
    # Without y, cvae.score bounds log p(x) = log sum_k p(k) p(x | k), as the VAE's ELBO does.
    print(
        f"model (latent_dim={LATENT_DIM})  active units  test bound on log p(x)  "
        "SVC accuracy on transform(X)"
    )
    for name, model in [("VAE", vae), ("CVAE, no y", cvae)]:
        svc = SVC().fit(model.transform(X_train), y_train)
        accuracy = svc.score(model.transform(X_test), y_test)
        print(
            f"{name:<25} {model.n_active_units_:>12}  {model.score(X_test):>22.2f}  "
            f"{accuracy:>28.3f}"
        )
    print(f"CVAE test ELBO of log p(x | y) with the true labels: {cvae.score(X_test, y_test):.2f}")

    grid = np.vstack([cvae.sample(N_COLS, y=k, random_state=SEED + int(k)) for k in classes])
    x, label = X_test[STYLE_INDEX], y_test[STYLE_INDEX]
    z = cvae.transform(x[None], y=[label])
    transfer = cvae.inverse_transform(np.repeat(z, len(classes), axis=0), y=classes)

    # Ink dark on white; the NaN gaps between tiles in light grey.
    cmap = plt.get_cmap("gray_r").with_extremes(bad="0.8")
    n_transfer = len(classes) + 1
    fig, (ax_grid, ax_transfer) = plt.subplots(
        2, 1, figsize=(6.5, 9.4), height_ratios=[len(classes), 1.6], layout="constrained"
    )
    ax_grid.imshow(mosaic(grid, N_COLS), cmap=cmap, vmin=0, vmax=1)
    ax_grid.set_yticks(9 * np.arange(len(classes)) + 5, [f"y={k}" for k in classes])
    ax_grid.set_xticks([])
    ax_grid.set_title(
        f"cvae.sample({N_COLS}, y=k): one row per class\n"
        f"(an SVC on real digits calls {np.mean(hits):.0%} of 200 per class k)",
        fontsize=10,
    )
    ax_transfer.imshow(mosaic(np.vstack([x, transfer]), n_transfer), cmap=cmap, vmin=0, vmax=1)
    ax_transfer.set_xticks(
        9 * np.arange(n_transfer) + 5, ["input"] + [str(k) for k in classes], fontsize=8
    )
    ax_transfer.set_yticks([])
    ax_transfer.set_title(
        f"style transfer: z = transform(x, y={label}), then inverse_transform(z, y=k)",
        fontsize=10,
    )
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
