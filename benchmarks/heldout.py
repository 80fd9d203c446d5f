"""Held-out metrics shared by the benchmarks (compare_pca.py, suite.py).

Kept apart from the scripts so that one benchmark can use another's
measurements without importing its data sets, figures and command line.
"""

import numpy as np

from skvae import AutoencoderTransformer


def held_out_loglik(pipe, X):
    """Mean log-density of X in its own units, or NaN when the model defines none.

    A StandardScaler in front of PCA makes PCA's score a density of the scaled
    rows; the change of variables back to X subtracts sum(log scale), the same
    Jacobian the VAE applies to its internal standardisation.

    ``pipe`` is a fitted Pipeline whose steps before the last are scalers
    (with ``scale_``) and whose last step has ``score`` (PCA,
    FactorAnalysis, a VAE).
    """
    model = pipe[-1]
    if isinstance(model, AutoencoderTransformer):
        return np.nan  # its score is minus the MSE, not a log-likelihood
    log_jacobian = 0.0
    for _, scaler in pipe.steps[:-1]:
        X = scaler.transform(X)
        log_jacobian += np.log(scaler.scale_).sum()
    return model.score(X) - log_jacobian
