"""Flagging unseen digits with VAEOutlierDetector: score histograms and the threshold.

Left, novelty detection: the detector learns every digit but one on clean
rows, with ``contamination="auto"`` (the threshold ``offset_`` is set on
held-out training rows so that about 1% of new normal rows are flagged);
the histograms are its ``score_samples`` (the VAE's ELBO) on a test split
of the other digits and on the unseen digit. Right, outlier detection: the
training rows already hold that digit at 5%, ``contamination=0.05``, and
``predict`` flags 5% of them. A digit that makes up 5% of the training
rows is a class the VAE learns too: fewer of them stand out than when it
was never seen.
"""

import numpy as np
from _common import SEED, digits, model_params, plt, save, setup
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skvae import VAEOutlierDetector, VAETransformer

HELD_OUT = 0
LATENT_DIM = 8
CONTAMINATION = 0.05


def _histograms(ax, scores, is_anomaly, offset, labels):
    bins = np.histogram_bin_edges(scores, bins=40)
    for flag, label in zip((0, 1), labels):
        ax.hist(scores[is_anomaly == flag], bins=bins, alpha=0.6, density=True, label=label)
    ax.axvline(offset, color="black", linestyle="--", label=f"offset_ = {offset:.1f}")
    ax.set_xlabel("score_samples: ELBO (nats); left of the line: predict = -1")
    ax.set_ylabel("density")
    ax.legend()


def main():
    output, quick = setup(__doc__)
    X, y = digits(quick)
    normal, anomalous = X[y != HELD_OUT], X[y == HELD_OUT]
    X_train, X_test_normal = train_test_split(normal, test_size=0.3, random_state=SEED)
    anomalous_train, anomalous_test = anomalous[: len(anomalous) // 2], anomalous[len(anomalous) // 2 :]
    X_test = np.vstack([X_test_normal, anomalous_test])
    is_anomaly = np.r_[np.zeros(len(X_test_normal)), np.ones(len(anomalous_test))]

    def detector(**params):
        # Grey levels in [0, 1]: the Bernoulli likelihood, as for every digits example
        vae = VAETransformer(LATENT_DIM, likelihood="bernoulli", **model_params(quick))
        return VAEOutlierDetector(vae, random_state=SEED, **params)

    fig, (ax_novelty, ax_outlier) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")

    novelty = detector().fit(X_train)
    scores = novelty.score_samples(X_test)
    flagged = novelty.predict(X_test) == -1
    auc = roc_auc_score(is_anomaly, -scores)
    print(
        f"novelty: AUROC {auc:.3f}; flagged {flagged[is_anomaly == 0].mean():.1%} of the other digits "
        f"and {flagged[is_anomaly == 1].mean():.1%} of the {HELD_OUT}s"
    )
    _histograms(ax_novelty, scores, is_anomaly, novelty.offset_,
                ("other digits (test split)", f"unseen {HELD_OUT}s"))
    ax_novelty.set_title(
        f'Novelty: fit on clean rows, contamination="auto"\n'
        f"AUROC {auc:.3f}; flags {flagged[is_anomaly == 0].mean():.1%} of normal test rows, "
        f"{flagged[is_anomaly == 1].mean():.0%} of the {HELD_OUT}s"
    )

    n_contamination = min(len(anomalous_train), round(len(X_train) * CONTAMINATION / (1 - CONTAMINATION)))
    contaminated = np.vstack([X_train, anomalous_train[:n_contamination]])
    is_planted = np.r_[np.zeros(len(X_train)), np.ones(n_contamination)]
    outlier = detector(contamination=CONTAMINATION).fit(contaminated)
    train_scores = outlier.score_samples(contaminated)
    train_flagged = outlier.predict(contaminated) == -1
    auc = roc_auc_score(is_planted, -train_scores)
    print(
        f"outlier: AUROC {auc:.3f} on the training rows; flagged {train_flagged.mean():.1%} of them "
        f"({train_flagged[is_planted == 1].mean():.1%} of the planted {HELD_OUT}s)"
    )
    _histograms(ax_outlier, train_scores, is_planted, outlier.offset_,
                ("other digits", f"{HELD_OUT}s planted at {CONTAMINATION:.0%}"))
    ax_outlier.set_title(
        f"Outlier: training rows hold {CONTAMINATION:.0%} {HELD_OUT}s, contamination={CONTAMINATION}\n"
        f"AUROC {auc:.3f}; flags {train_flagged.mean():.1%} of the training rows"
    )
    fig.suptitle(f"VAEOutlierDetector on digits: {HELD_OUT} is the anomaly")
    save(fig, output, __file__)


if __name__ == "__main__":
    main()
