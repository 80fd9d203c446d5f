"""Spotting an unseen digit with the VAE's likelihood bound, against PCA's.

Both models learn every digit but one; ``-score_samples`` (minus the ELBO for
the VAE, minus the Gaussian log-likelihood for PCA) then scores a test set in
which the held-out digit is the anomaly. The figure shows their ROC curves.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from skvae import VAETransformer

HELD_OUT = 0
LATENT_DIM = 8


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    normal, anomalous = X[y != HELD_OUT], X[y == HELD_OUT]
    X_train, X_normal_test = train_test_split(normal, test_size=0.25, random_state=SEED)
    X_test = np.vstack([X_normal_test, anomalous])
    is_anomaly = np.r_[np.zeros(len(X_normal_test)), np.ones(len(anomalous))]

    models = {
        "VAE (-ELBO)": VAETransformer(
            LATENT_DIM, likelihood="bernoulli", **model_params(quick, max_iter=100)
        ),
        "PCA (-log-likelihood)": PCA(LATENT_DIM, random_state=SEED),
    }
    fig, (ax_roc, ax_hist) = plt.subplots(1, 2, figsize=(10.5, 4.2), layout="constrained")
    for name, model in models.items():
        anomaly_score = -model.fit(X_train).score_samples(X_test)
        auc = roc_auc_score(is_anomaly, anomaly_score)
        print(f"{name}: ROC-AUC = {auc:.3f}")
        ax_roc.plot(*roc_curve(is_anomaly, anomaly_score)[:2], label=f"{name}, AUC = {auc:.3f}")
        if name.startswith("VAE"):
            bins = np.histogram_bin_edges(anomaly_score, bins=40)
            for flag, label in ((0, "other digits (test split)"), (1, f"held-out {HELD_OUT}s")):
                ax_hist.hist(
                    anomaly_score[is_anomaly == flag],
                    bins=bins,
                    alpha=0.6,
                    density=True,
                    label=label,
                )
    ax_roc.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax_roc.set_xlabel("false positive rate (normal digits flagged)")
    ax_roc.set_ylabel(f"true positive rate ({HELD_OUT}s flagged)")
    ax_roc.set_title(f"ROC, anomaly score = -score_samples, latent dim {LATENT_DIM}")
    ax_roc.legend(loc="lower right")
    ax_hist.set_xlabel("VAE anomaly score: -ELBO (nats)")
    ax_hist.set_ylabel("density")
    ax_hist.set_title("VAE scores on the test set")
    ax_hist.legend()
    fig.suptitle(
        f"Trained on {len(X_train)} digits without a {HELD_OUT}; "
        f"tested on {len(X_normal_test)} others and {len(anomalous)} {HELD_OUT}s"
    )
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
