"""Sparse codes from an autoencoder: what the sparsity penalty buys and costs.

AutoencoderTransformer(8, likelihood="bernoulli", sparsity=s) adds to the
training loss the L1 norm of each code, every dimension in units of its root
mean square over the minibatch. For each s on a grid, fitted on the training
digits: the share of held-out code entries that are near zero (magnitude
below a tenth of that dimension's RMS over the training codes), and the
held-out reconstruction error, mean squared error of
inverse_transform(transform(X)). The figure shows the trade-off and the
codes of a few held-out digits at s=0 and at the largest s.

Run: python examples/sparse_codes.py [--output DIR] [--quick]; --quick (or
SKVAE_EXAMPLES_QUICK=1) trains tiny models on 300 digits in seconds.

measured (full run, OMP_NUM_THREADS=1, 16 s on a busy 2-core machine; 60
epochs on 1347 digits, 450 held out): sparsity 0 / 0.1 / 0.3 / 1 / 3 gave
5.6% / 8.0% / 10.9% / 33.7% / 79.9% near-zero code entries and
reconstruction MSE 0.0162 / 0.0160 / 0.0161 / 0.0199 / 0.0327. Up to 0.3 the
codes get a little sparser for free; from 1 on the error grows. A caveat the
heat maps show: the penalty divides by the RMS, and a few rows with very
large codes raise the RMS, so the penalty also pays for heavy tails. At 3 the
top 1% of training rows hold 55% of the codes' sum of squares (5% at 0), and
"near zero" means small beside those outliers, not zero.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from sklearn.model_selection import train_test_split

from skvae import AutoencoderTransformer

LATENT_DIM = 8
SPARSITY = [0.0, 0.1, 0.3, 1.0, 3.0]
NEAR_ZERO = 0.1  # "near zero": |z_j| below this share of dimension j's training RMS
N_SHOWN = 10  # held-out digits in each heat map, one per class


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    X_train, X_test, _, y_test = train_test_split(X, y, stratify=y, random_state=SEED)

    params = model_params(quick, max_iter=60)
    near_zero, mse, scaled_codes = [], [], {}
    print(f"{len(X_test)} test digits; last column: share of the training codes' sum of z_j^2 held")
    print("by the top 1% of rows, averaged over j (how much a few outliers make up the RMS)")
    print("sparsity  near-zero code entries  reconstruction MSE  top 1% rows' share of z^2")
    for s in SPARSITY:
        model = AutoencoderTransformer(LATENT_DIM, likelihood="bernoulli", sparsity=s, **params)
        model.fit(X_train)
        # The penalty's own unit: each dimension's root mean square (not its
        # standard deviation), here over the training codes.
        squares = model.transform(X_train) ** 2
        rms = np.sqrt(np.mean(squares, axis=0))
        n_top = max(1, len(X_train) // 100)
        top_share = np.mean(np.sort(squares, axis=0)[-n_top:].sum(axis=0) / squares.sum(axis=0))
        codes = model.transform(X_test) / rms
        near_zero.append(np.mean(np.abs(codes) < NEAR_ZERO))
        mse.append(np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2))
        scaled_codes[s] = codes
        print(f"{s:>8}  {near_zero[-1]:>22.1%}  {mse[-1]:>18.4f}  {top_share:>26.1%}")

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), layout="constrained")
    (ax_share, ax_mse), heat_axes = axes
    positions = np.arange(len(SPARSITY))  # equal spacing: the grid starts at 0
    ax_share.plot(positions, near_zero, marker="o", color="tab:blue")
    ax_share.set_ylabel(f"held-out code entries with |z_j| < {NEAR_ZERO} RMS_j")
    ax_share.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax_share.set_title("sparsity of the codes")
    ax_mse.plot(positions, mse, marker="o", color="tab:orange")
    ax_mse.set_ylabel("held-out reconstruction MSE")
    ax_mse.set_title("what it costs: reconstruction error")
    for ax in (ax_share, ax_mse):
        ax.set_xticks(positions, [f"{s:g}" for s in SPARSITY])
        ax.set_xlabel("sparsity")
        ax.grid(alpha=0.3)

    # The first test digit of each class; codes in units of their dimension's RMS.
    shown = [np.flatnonzero(y_test == k)[0] for k in np.unique(y_test)][:N_SHOWN]
    limit = max(np.abs(scaled_codes[s][shown]).max() for s in (SPARSITY[0], SPARSITY[-1]))
    for ax, s in zip(heat_axes, (SPARSITY[0], SPARSITY[-1])):
        image = ax.imshow(
            scaled_codes[s][shown].T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto"
        )
        ax.set_xticks(range(len(shown)), [str(k) for k in y_test[shown]])
        ax.set_yticks(range(LATENT_DIM))
        ax.set_xlabel("held-out digit (its class)")
        ax.set_ylabel("code dimension j")
        ax.set_title(f"sparsity={s:g}: z_j / RMS_j")
    fig.colorbar(image, ax=heat_axes, label="code in units of its training RMS")
    fig.suptitle(
        f"AutoencoderTransformer({LATENT_DIM}, likelihood='bernoulli', sparsity=s) on "
        f"{len(X_train)} training digits"
    )
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
