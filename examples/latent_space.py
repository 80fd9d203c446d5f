"""The digits in two dimensions: a VAE's mu(x) beside PCA(2).

Both are fitted on all 1797 digits without labels; colour and the digit
drawn at each class's median show the classes each method keeps apart.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from matplotlib import patheffects
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skvae import VAETransformer


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)

    vae = VAETransformer(latent_dim=2, likelihood="bernoulli", **model_params(quick, max_iter=100))
    codes = {
        "VAE mu(x), latent_dim=2": vae.fit_transform(X),
        "PCA, n_components=2": PCA(2, random_state=SEED).fit_transform(X),
    }

    fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
    for ax, (title, Z) in zip(axes, codes.items()):
        # One number for what the picture shows: how often a row's nearest
        # neighbours in the plane share its label.
        accuracy = cross_val_score(KNeighborsClassifier(), Z, y, cv=5).mean()
        print(f"{title}: 5-fold kNN accuracy in 2-D = {accuracy:.3f}")
        points = ax.scatter(
            Z[:, 0], Z[:, 1], c=y, cmap="tab10", vmin=-0.5, vmax=9.5, s=8, alpha=0.7, linewidths=0
        )
        for digit in np.unique(y):
            ax.text(
                *np.median(Z[y == digit], axis=0),
                str(digit),
                fontsize=15,
                fontweight="bold",
                ha="center",
                va="center",
                path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
            )
        ax.set_title(f"{title}\n(5-NN accuracy in the plane: {accuracy:.3f})")
        ax.set_xlabel("component 1")
        ax.set_ylabel("component 2")
    fig.colorbar(points, ax=axes, ticks=range(10), label="digit", shrink=0.8)
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
