"""What ``sample`` draws codes from: a Gaussian mixture fitted to the training rows' codes.

A VAE's bound is taken under the prior N(0, I), but the codes its encoder
gives the training rows (mu(x), what ``transform`` returns) do not fill
that prior: with free bits and a few active dimensions they cluster, and
codes drawn from N(0, I) fall between the clusters, where the decoder
gives rows no training row resembles. Drawing from a mixture fitted to the
codes after training (ex-post density estimation, Ghosh et al. 2020)
keeps the draws where the data's codes are. Measured with
``VAETransformer()`` against sdmetrics' Quality Report of the rows it
draws (``benchmarks/synthesis.py``, docs/synthesis.md), and on digits by
the confidence of a classifier of the real ones (docs/family.md).

The mixture is fitted here by a plain EM, not by
``sklearn.mixture.GaussianMixture``, whose input checks, per-call set-up
and k-means start took 42 ms on the codes of 100 rows: a small fit of
15 ms took 52 ms, and the test suite 85 s longer; here it takes 19 ms.
"""

import math

import numpy as np
import torch
from scipy.spatial.distance import cdist

from .nn.latents import MIXTURE_COMPONENTS

# A component per this many rows at least (and two per code dimension, for
# a full covariance): fewer rows leave N(0, I).
ROWS_PER_COMPONENT = 10
# The mixture is fitted to at most this many codes, an even stride of the rows.
MAX_MIXTURE_ROWS = 5_000
# Each component's covariance is widened by this share of the codes' own
# variance: EM can give a component one training code, and its draws, at
# the added diagonal alone, decoded to that row's reconstruction (1% of a
# sample's rows within 0.01 of one).
COVARIANCE_SHARE = 0.05
# EM's stopping rule (the mean log-likelihood's gain per iteration, nats, as
# scikit-learn's tol) and its limit; the covariance's added diagonal, as
# scikit-learn's reg_covar but relative to the codes' mean variance, which
# keeps a component on a few identical codes a distribution.
MIXTURE_TOL, MIXTURE_MAX_ITER, MIXTURE_REG = 1e-3, 100, 1e-6
# Lloyd iterations of the k-means start.
LLOYD_ITERATIONS = 10


def fit_code_mixture(model, rows, seed):
    """Fit ``model.latent``'s sampling mixture to the codes of the training row source ``rows``.

    A latent without one (the autoencoder's Gaussian, the VQ-VAE's code
    counts, a hierarchy's top layer) is left alone.
    """
    if not hasattr(model.latent, "fit_mixture"):
        return
    n_rows = len(rows)
    rows_per_component = max(ROWS_PER_COMPONENT, 2 * model.latent.latent_dim)
    n_components = min(MIXTURE_COMPONENTS, min(n_rows, MAX_MIXTURE_ROWS) // rows_per_component)
    if n_components < 1:
        return
    stride = max(1, -(-n_rows // MAX_MIXTURE_ROWS))
    with torch.inference_mode():
        # Only the rows kept are read: a memmap's others stay on disk.
        codes = [model.code(batch).double().cpu().numpy() for batch in rows.blocks(stride=stride)]
    model.latent.fit_mixture(*gaussian_mixture(np.concatenate(codes), n_components, np.random.RandomState(seed)))


def clear_code_mixture(model):
    """Draw from N(0, I) again: after ``partial_fit``, whose block is not all the data the codes came from."""
    if hasattr(model.latent, "clear_mixture"):
        model.latent.clear_mixture()


def gaussian_mixture(X, n_components, rng):
    """Weights, means and covariances of a Gaussian mixture with full covariances fitted to X by EM.

    Started as scikit-learn's default starts it, from k-means: centres
    seeded by k-means++ from ``rng`` (Arthur & Vassilvitskii 2007), a few
    Lloyd iterations, each row given to its nearest centre. (Started from
    random rows instead, samples of load_digits were judged 0.896 and 0.916
    against 0.919 and 0.923, two seeds, measured before the components
    were widened.)
    """
    distinct = np.unique(X, axis=0)
    n_components = min(n_components, len(distinct))
    centres = distinct[[rng.randint(len(distinct))]]
    squared = ((distinct - centres[0]) ** 2).sum(1)
    for _ in range(1, n_components):
        centre = distinct[rng.choice(len(distinct), p=squared / squared.sum())]
        centres = np.vstack([centres, centre])
        squared = np.minimum(squared, ((distinct - centre) ** 2).sum(1))
    for _ in range(LLOYD_ITERATIONS):
        nearest = _nearest(X, centres)
        centres = np.array([X[nearest == k].mean(0) if (nearest == k).any() else centres[k]
                            for k in range(n_components)])
    nearest = _nearest(X, centres)
    responsibilities = np.eye(n_components)[nearest]
    # Relative to the codes' scale: an absolute diagonal is lost to rounding on codes near 1e6.
    spread = X.var(0)
    scale = float(spread.mean()) or 1.0  # codes all equal: any covariance will do
    floor = np.diag(COVARIANCE_SHARE * spread + MIXTURE_REG * scale)
    previous = -np.inf
    for _ in range(MIXTURE_MAX_ITER):
        weights, means, covariances = _m_step(X, responsibilities, floor)
        log_joint = _log_densities(X, means, covariances) + np.log(weights)  # (rows, components)
        top = log_joint.max(1, keepdims=True)
        log_rows = top[:, 0] + np.log(np.exp(log_joint - top).sum(1))
        responsibilities = np.exp(log_joint - log_rows[:, None])
        mean_log_likelihood = float(log_rows.mean())
        if mean_log_likelihood - previous < MIXTURE_TOL:
            break
        previous = mean_log_likelihood
    return _m_step(X, responsibilities, floor)


def _nearest(X, centres):
    """Each row's nearest centre, by squared distances computed pair by pair.

    ``cdist`` takes a fifth of the time of a (rows, centres, features)
    array, and, unlike |x|^2 - 2 x.c + |c|^2 (which rounds at eps * |x|^2),
    keeps tight clusters far from the origin apart.
    """
    return cdist(X, centres, "sqeuclidean").argmin(1)


def _m_step(X, responsibilities, floor):
    counts = responsibilities.sum(0) + 10 * np.finfo(np.float64).eps
    means = responsibilities.T @ X / counts[:, None]
    # A product a component: numpy's stacked product of transposed views
    # took twice as long (2.2 against 1.0 ms on 5,000 codes, 10 components).
    covariances = np.empty((len(means), X.shape[1], X.shape[1]))
    for k, mean in enumerate(means):
        centred = X - mean
        covariances[k] = (responsibilities[:, k] * centred.T) @ centred / counts[k]
    covariances += floor
    return counts / counts.sum(), means, covariances


def _log_densities(X, means, covariances):
    """log N(x | mean_k, covariance_k) of every row under every component, ``(rows, components)``."""
    factors = np.linalg.cholesky(covariances)
    # Whitened by the factors' inverses, a matrix product a component: a
    # stacked np.linalg.solve with the rows as right-hand sides took 5.8 ms
    # of each EM iteration's 8 on 5,000 codes, this 1.0.
    whitening = np.linalg.inv(factors)
    squared = np.empty((len(X), len(means)))
    for k, (mean, transform) in enumerate(zip(means, whitening)):
        whitened = (X - mean) @ transform.T
        squared[:, k] = np.einsum("ij,ij->i", whitened, whitened)
    log_det = 2.0 * np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(1)
    return -0.5 * (squared + log_det + X.shape[1] * math.log(2 * math.pi))
