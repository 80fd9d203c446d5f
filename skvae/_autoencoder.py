"""AutoencoderTransformer: the deterministic autoencoder as a scikit-learn transformer."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder
from ._docs import fill_doc
from .nn import LIKELIHOODS, PlainAutoencoderModel


@fill_doc
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

    ${network_parameters}

    ${likelihood_parameter}

        For the autoencoder the likelihood sets the reconstruction loss,
        minus its log-likelihood with no learned noise: for
        ``"gaussian"`` the squared error of internally standardised values
        (every feature weighs the same whatever its units; outputs are in
        X's units), for ``"bernoulli"`` the binary cross-entropy, for the
        others their negative log-likelihood.

    ${handle_unknown_parameter}

    sparsity : float, default=0.0
        Weight of a sparsity penalty on the codes, added to the training
        loss: a sparse autoencoder, whose codes are near 0 for most rows in
        most dimensions. The penalty is the L1 norm of each row's code with
        every dimension measured in units of its root mean square over the
        minibatch, ``mean_rows sum_j |z_j| / rms_j`` (between 0 and
        ``latent_dim``). L1 rather than the KL-sparsity of Ng's notes, which
        needs units squashed into (0, 1) (sigmoids); the codes here are
        linear. Relative to the RMS because a plain L1 penalty on linear
        codes is met without any sparsity: the network shrinks the codes
        and scales up the weights that read them. On load_digits
        (``latent_dim=8``, Bernoulli, 60 epochs; ``python
        examples/sparse_codes.py``) the share of held-out code entries below
        a tenth of their dimension's RMS went from 5.4% at 0 to 34% at 1.0,
        with reconstruction error from 0.0162 to 0.0199.
        ``loss_curve_`` includes the penalty; ``score`` does not.

    ${denoising_parameters}

    ${training_parameters}

    Attributes
    ----------
    ${training_attributes}

    loss_curve_ : list of float
        Training loss after each epoch, per sample: half the squared error
        summed over the standardised features, or the binary cross-entropy
        summed over features; plus the sparsity penalty when ``sparsity >
        0`` (and on corrupted inputs, with ``corruption``).

    best_loss_ : float or None
        Lowest training loss; None after a fit with early stopping (a
        later ``partial_fit`` tracks it from its own epochs on).

    ${stopping_attributes}

    latent_mean_ : ndarray of shape (latent_dim,)
        Mean of the training codes: those of the latest ``fit`` call's
        rows under the fitted encoder, pooled, as ``IncrementalPCA``
        pools its batches, with those of every ``partial_fit`` call since
        (the first call of a stream, if no ``fit`` came before), each
        block's codes as encoded at the end of its own call (earlier
        blocks are gone, and the encoder has moved since).

    latent_covariance_ : ndarray of shape (latent_dim, latent_dim)
        Covariance (divided by ``n_samples_seen_``) of the same codes;
        ``sample`` draws from N(latent_mean_, latent_covariance_). It is
        singular while the rows seen are fewer than ``latent_dim``.

    n_samples_seen_ : int
        Number of rows ``latent_mean_`` and ``latent_covariance_``
        describe: those of the latest ``fit`` and of every
        ``partial_fit`` call since.

    ${column_attributes}

    ${input_attributes}

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
        hidden_layer_sizes="auto",
        activation="relu",
        image_shape=None,
        conv_channels=(8, 8),
        encoder=None,
        decoder=None,
        likelihood="auto",
        handle_unknown="error",
        sparsity=0.0,
        corruption=None,
        corruption_level=0.2,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        shuffle=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
        **module_params,
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.handle_unknown = handle_unknown
        self.sparsity = sparsity
        self.corruption = corruption
        self.corruption_level = corruption_level
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
        self._store_module_params(module_params)

    def score_samples(self, X):
        """Minus the mean squared reconstruction error of each row.

        For ``likelihood="gaussian"``: ``-mean_j ((x_j - x_hat_j) / s_j) ** 2``
        with ``x_hat = inverse_transform(transform(x))`` (before a
        DataFrame's integer columns are rounded to whole numbers) and
        ``s_j`` feature j's standard deviation in the training data, so every feature counts
        the same whatever its units, as in training, which minimises this
        error (1 is the error of predicting each feature's mean). For
        ``"bernoulli"``: the same without the scaling, in the units of X
        (training minimises the cross-entropy instead). A categorical
        column's error is its Brier score (the squared distance of the
        category's one-hot code from the decoded probabilities), a count's
        and a log-normal column's the error of its mean on the standardised
        ``log1p`` scale the encoder reads it on; a
        missing entry counts for nothing. It is not a log-likelihood (an
        autoencoder defines none), but higher is better, so ``score`` serves
        model selection among models of one capacity (a reconstruction
        error falls as capacity grows: a search over ``latent_dim`` picks
        the largest, up to the identity, where ``PCA.score`` and the VAE's
        do not) and low values flag rows the model reconstructs badly
        (anomalies).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus each row's reconstruction error (above); higher is
            better. float32 for float32 X, float64 otherwise.
        """
        return self._score_samples(X)

    def sample(self, n_samples=1, random_state=None, *, from_likelihood=True):
        """Generate new rows by decoding codes drawn from a Gaussian fitted to the training codes.

        An autoencoder has no prior over its codes, so ``sample`` draws from
        N(``latent_mean_``, ``latent_covariance_``), the Gaussian fitted to
        the codes of the training data. Codes need not fill that Gaussian,
        so samples can be less realistic than a VAE's. Nor does an
        autoencoder learn its noise: with ``from_likelihood=True`` a Gaussian
        (or log-normal) column is drawn around its decoded value with the
        column's mean squared reconstruction error over the training rows
        (that noise's maximum-likelihood variance, over the rows the latent
        moments describe, pooled as they are), not with the unit variance of standardised values its squared-error
        training implies, which would add the column's whole spread again.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; ``None`` takes fresh OS entropy. The
            estimator's own ``random_state`` is not read here (as in
            ``KernelDensity.sample``, unlike ``GaussianMixture.sample``):
            pass one to draw the same rows again.

        ${from_likelihood_parameter}

        Returns
        -------
        ${sample_returns}
        """
        return self._sample(n_samples, random_state, from_likelihood=from_likelihood)

    # ------------------------------------------------------------------ hooks

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "likelihood": [StrOptions({*LIKELIHOODS, "auto"}), dict],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "sparsity": [Interval(Real, 0, None, closed="left")],
    }
    _family = PlainAutoencoderModel
    _one_output_is_dead = True

    def _loss_weights(self, epochs_elapsed):
        return {**super()._loss_weights(epochs_elapsed), "sparsity": self.sparsity}
