"""AutoencoderTransformer: the deterministic autoencoder as a scikit-learn transformer."""

import torch

from ._base import BaseAutoencoder, row_blocks
from ._likelihoods import BernoulliLikelihood, SquaredErrorLikelihood
from ._networks import Autoencoder


class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder as a transformer: x -> code(x).

    An encoder network maps each row to a ``latent_dim``-dimensional code and
    a decoder maps the code back; both are trained with Adam to minimise the
    reconstruction loss (squared error for ``likelihood="gaussian"``,
    binary cross-entropy for ``"bernoulli"``). There is no prior over codes
    and no KL term: see ``VAETransformer`` for the probabilistic model.

    Parameters
    ----------
    latent_dim : int, default=2
        Dimension of the code, the number of output features.

    hidden_layer_sizes : array-like of shape (n_layers,), default=(128, 64)
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order. ``()`` gives a linear autoencoder, whose optimal codes
        span the same subspace as PCA's.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.

    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Reconstruction loss. ``"gaussian"``: squared error on internally
        standardised features (every feature weighs the same whatever its
        units; outputs are in X's units). ``"bernoulli"``: binary
        cross-entropy, for X in [0, 1]; X outside [0, 1] raises an error.

    batch_size : int or "auto", default="auto"
        Minibatch size. ``"auto"`` means ``n_samples // 10`` clipped to
        [16, 200] (and to ``n_samples``): about ten steps per epoch on small
        data sets, where MLPRegressor's ``min(200, n_samples)`` would leave
        one or two.

    learning_rate_init : float, default=1e-3
        Adam's step size.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    tol : float, default=1e-4
        Tolerance of the stopping rule: when the loss (or the validation
        score, with ``early_stopping``) does not improve by at least ``tol``
        for more than ``n_iter_no_change`` consecutive epochs, training
        stops.

    n_iter_no_change : int, default=10
        Epochs without improvement allowed before stopping.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, judge epochs
        by ``score`` on it, and keep the weights of the best epoch.

    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.

    shuffle : bool, default=True
        Reshuffle the training rows every epoch.

    warm_start : bool, default=False
        Continue from the current weights on ``fit`` instead of starting
        afresh. The input scaling of the first fit is kept, and parameters
        that shape the network (``latent_dim``, ``hidden_layer_sizes``,
        ``activation``, ``likelihood``) cannot change.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. Pass
        an int for reproducible results: bitwise identical for the same number
        of torch threads; with another thread count (workers of
        ``GridSearchCV(n_jobs=k)`` get fewer) they can differ in the last
        digits, as BLAS splits sums differently. ``None`` takes fresh entropy
        from the operating system; the global numpy and torch RNGs are never
        used.

    verbose : int, default=0
        Print the loss after every epoch.

    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and evaluate. ``"auto"`` takes a GPU when torch sees
        one. A model trained on a GPU is pickled with CPU tensors and runs
        on CPU-only machines.

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained encoder and decoder.

    n_iter_ : int
        Number of epochs run, across ``warm_start`` fits and ``partial_fit``
        calls.

    loss_curve_ : list of float
        Training loss after each epoch, per sample: half the squared error
        summed over the standardised features, or the binary cross-entropy
        summed over features.

    best_loss_ : float or None
        Lowest training loss; None with early stopping.

    validation_scores_ : list of float or None
        ``score`` on the validation set after each epoch of the latest
        ``fit`` (a warm-started fit starts a new list), with early stopping;
        None otherwise.

    best_validation_score_ : float or None
        Best of ``validation_scores_``; None without early stopping.

    latent_mean_ : ndarray of shape (latent_dim,)
        Mean of the training codes.

    latent_covariance_ : ndarray of shape (latent_dim, latent_dim)
        Covariance of the training codes; ``sample`` draws from
        N(latent_mean_, latent_covariance_).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    VAETransformer : The variational autoencoder, with a likelihood bound.
    sklearn.decomposition.PCA : The linear counterpart, with the same API.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(latent_dim=4, max_iter=5, random_state=0)
    >>> Z = ae.fit_transform(X)
    >>> Z.shape
    (1797, 4)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> bool(-1 < ae.score(X) < 0)  # minus the standardised reconstruction error
    True
    """

    def __init__(
        self,
        latent_dim=2,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        likelihood="gaussian",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def score_samples(self, X):
        """Minus the mean squared reconstruction error of each row, the quantity training minimises.

        For ``likelihood="gaussian"``: ``-mean_j ((x_j - x_hat_j) / s_j) ** 2``
        with ``x_hat = inverse_transform(transform(x))`` and ``s_j`` feature
        j's standard deviation in the training data, so every feature counts
        the same whatever its units, as in training (1 is the error of
        predicting each feature's mean). For ``"bernoulli"``: the same without
        the scaling, in the units of X. It is not a log-likelihood (an
        autoencoder defines none), but higher is better, so ``score`` serves
        model selection and low values flag rows the model reconstructs
        badly (anomalies).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._score_samples(X)

    def sample(self, n_samples=1, random_state=None):
        """Generate new rows by decoding codes drawn from a Gaussian fitted to the training codes.

        An autoencoder has no prior over its codes, so ``sample`` draws from
        N(``latent_mean_``, ``latent_covariance_``), the Gaussian fitted to
        the codes of the training data. Codes need not fill that Gaussian,
        so samples can be less realistic than a VAE's.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; ``None`` takes fresh OS entropy.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Decoded rows in the units of X.
        """
        return self._sample(n_samples, random_state)

    # ------------------------------------------------------------------ hooks

    def _build_network(self, n_features, hidden_layer_sizes, generator):
        likelihood = SquaredErrorLikelihood() if self.likelihood == "gaussian" else BernoulliLikelihood()
        return Autoencoder(
            n_features, self.latent_dim, hidden_layer_sizes, self.activation, likelihood, generator
        )

    def _batch_loss(self, network, x, epochs_elapsed, generator):
        return -network.likelihood.log_prob(x, network.decode(network.encode(x))).mean()

    def _encode_mean(self, network, x):
        return network.encode(x)

    def _row_scores(self, network, x):
        # x is standardised already for the Gaussian likelihood.
        error = x - network.likelihood.mean(network.decode(network.encode(x)))
        return -error.square().mean(-1)

    def _draw_codes(self, n_samples, rng):
        return rng.multivariate_normal(self.latent_mean_, self.latent_covariance_, size=n_samples)

    def _fitted_statistics(self, network, X):
        latent_dim = network.latent_dim
        total = torch.zeros(latent_dim, dtype=torch.float64, device=X.device)
        outer = torch.zeros(latent_dim, latent_dim, dtype=torch.float64, device=X.device)
        with torch.inference_mode():
            for block in row_blocks(X):
                codes = network.encode(block).double()
                total += codes.sum(0)
                outer += codes.T @ codes
        n_samples = X.shape[0]
        mean = total / n_samples
        covariance = outer / n_samples - torch.outer(mean, mean)
        return {
            "latent_mean_": mean.cpu().numpy(),
            "latent_covariance_": covariance.cpu().numpy(),
        }
