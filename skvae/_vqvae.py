"""VQVAETransformer: the vector-quantised autoencoder as a scikit-learn transformer with ``predict``."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._docs import fill_doc
from ._statistics import check_variance_units
from ._validation import call_parameter
from ._warnings import warn
from .nn import LIKELIHOODS, VQVAEModel


@fill_doc
class VQVAETransformer(BaseAutoencoder):
    """Vector-quantised variational autoencoder (VQ-VAE) as a transformer with ``predict``.

    An encoder network maps each row x to a continuous vector z_e(x) of
    ``latent_dim`` values; the row's code is the nearest of ``n_codes``
    codebook vectors e_k (squared Euclidean distance), and a decoder maps
    e_k back to the parameters of p(x | e_k) (van den Oord et al. 2017).
    One code per row: the model is a learned, nonlinear vector quantiser of
    the data, and its scikit-learn face is ``KMeans``'s and ``PCA``'s
    together:

    * ``transform(X)`` returns z_e(x), the continuous encoder output, the
      usual feature for downstream models (with ``transform_quantized=True``,
      the quantised vector e_k instead);
    * ``predict(X)`` returns each row's code index k, like
      ``KMeans.predict`` (there is no ``fit_predict``: a transformer's
      ``fit_transform`` returns codes, so call ``fit(X).predict(X)``);
    * ``inverse_transform(Z)`` decodes vectors as given, continuous or
      quantised (the decoder was trained on codebook vectors:
      ``inverse_transform(codebook_[predict(X)])`` is the model's own
      reconstruction);
    * ``sample(n)`` decodes codebook vectors drawn from ``code_prior_``;
    * ``score_samples(X)`` is a lower bound on log p(x) under a
      categorical prior over the codes (see its docstring).

    Training minimises the reconstruction loss -log p(x | e_k) plus the
    commitment loss ``commitment_cost * ||z_e(x) - sg(e_k)||^2`` (sg: no
    gradient), with the straight-through estimator (the encoder receives
    the gradient the decoder gives e_k). The codebook is not learned by
    gradient: each code is an exponential moving average (decay 0.99,
    Laplace-smoothed counts) of the encoder outputs assigned to it (van den
    Oord et al. 2017, appendix A; Razavi et al. 2019), which needs no
    learning rate of its own and converges faster than the codebook loss
    ``||sg(z_e) - e_k||^2``. A code unused for a long time (its running
    count below 1/16 of the average) is moved onto an encoder output of the
    current minibatch, drawn from ``random_state``; the first training step
    initialises the whole codebook so, from the data.

    Parameters
    ----------
    latent_dim : int, default=2
        Size of each codebook vector and of z_e(x): the number of output
        features of ``transform``.

    n_codes : int, default=64
        Number of codebook vectors, the values ``predict`` takes. One code
        per row makes reconstruction a choice among ``n_codes`` prototypes:
        more codes reconstruct better but each is learned from fewer rows.
        The default serves data sets of a thousand to a few thousand rows
        (about 28 training rows per code on load_digits: a fit with
        ``latent_dim=8`` there used all 64 codes, perplexity 56); for more
        rows, more codes pay off. More codes than training rows warn (as
        ``KMeans`` refuses more clusters than rows): codes no row takes keep
        a share of ``code_prior_``, which ``sample`` draws from.

    commitment_cost : float, default=0.25
        Weight of the commitment loss ``||z_e(x) - sg(e_k)||^2``, summed over
        the latent dimensions and averaged over the rows (van den Oord et al.
        2017 found 0.1 to 2.0 robust).

    transform_quantized : bool, default=False
        What ``transform`` (and ``to_torch`` / ``to_onnx``) returns: False,
        the continuous encoder output z_e(x); True, the quantised vector
        ``codebook_[predict(X)]``, which the decoder reads. Takes effect at
        once, without refitting.

    ${network_parameters}

    ${likelihood_parameters}

    noise_variance : {"auto", "per_feature", "isotropic"}, default="auto"
        With ``likelihood="gaussian"``, one learned noise variance per
        feature or one shared by all features (in the units of X).
        ``"auto"``: shared where the training rows are fewer than the
        columns, as for ``VAETransformer``.

    ${denoising_parameters}

    ${training_parameters}

    Attributes
    ----------
    ${training_attributes}

    codebook_ : ndarray of shape (n_codes, latent_dim)
        The codebook vectors, in the space of ``transform``'s output.

    code_counts_ : ndarray of shape (n_codes,)
        Number of training rows whose code is each codebook vector: the
        latest ``fit`` call's rows under the fitted model, plus those of
        every ``partial_fit`` call since (from the first call of a
        stream, if no ``fit`` came before), each block's codes as chosen
        at the end of its own call (earlier blocks are gone, and the
        model has moved since).

    code_prior_ : ndarray of shape (n_codes,)
        The categorical prior pi over the codes: the training frequencies,
        Laplace-smoothed, ``(code_counts_ + 1) / (n_samples_seen_ +
        n_codes)``. ``sample`` draws from it and ``score_samples`` uses it.

    perplexity_ : float
        ``exp`` of the entropy of the training rows' code distribution
        ``code_counts_ / n_samples_seen_``: the number of equally used
        codes that would give the same spread, between 1 (one code for
        every row) and ``n_codes`` (all used equally).

    n_samples_seen_ : int
        Number of rows ``code_counts_`` counts, ``code_counts_.sum()``:
        those of the latest ``fit`` and of every ``partial_fit`` call
        since.

    noise_variance_ : ndarray of shape (n_features,) or None
        Learned observation noise variance of each feature, in the units of
        X squared, when every column is Gaussian and none censored; None
        otherwise (see ``column_likelihoods_`` and ``censored_bounds_``).

    loss_curve_ : list of float
        Training loss after each epoch, per sample: -log p(x | e_k) (in
        nats, in the units of X) plus the commitment loss.

    best_loss_ : float or None
        Lowest training loss; None after a fit with early stopping (a
        later ``partial_fit`` tracks it from its own epochs on).

    ${stopping_attributes}

    ${column_attributes}

    ${input_attributes}

    See Also
    --------
    VAETransformer : The variational autoencoder, with a continuous Gaussian code.
    AutoencoderTransformer : The deterministic autoencoder.
    sklearn.cluster.KMeans : Vector quantisation of the raw features.

    References
    ----------
    van den Oord, A., Vinyals, O. & Kavukcuoglu, K. (2017). Neural Discrete
    Representation Learning. NeurIPS.

    Razavi, A., van den Oord, A. & Vinyals, O. (2019). Generating Diverse
    High-Fidelity Images with VQ-VAE-2. NeurIPS.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VQVAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16  # pixels in [0, 1]
    >>> vq = VQVAETransformer(latent_dim=4, n_codes=16, likelihood="bernoulli", max_iter=5,
    ...                       random_state=0)
    >>> vq.fit_transform(X).shape  # z_e(x)
    (1797, 4)
    >>> codes = vq.predict(X)  # one code index per row
    >>> codes.shape, codes.dtype
    ((1797,), dtype('int64'))
    >>> vq.codebook_.shape
    (16, 4)
    >>> vq.inverse_transform(vq.codebook_[codes]).shape  # the model's reconstructions
    (1797, 64)
    >>> vq.sample(3, random_state=0).shape
    (3, 64)
    >>> bool(1 <= vq.perplexity_ <= 16)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "n_codes": [Interval(Integral, 1, None, closed="left")],
        "commitment_cost": [Interval(Real, 0, None, closed="left")],
        "transform_quantized": ["boolean"],
        "likelihood": [StrOptions({*LIKELIHOODS, "auto"}), dict],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "noise_variance": [StrOptions({"auto", "per_feature", "isotropic"})],
    }
    _architecture_parameters = (*BaseAutoencoder._architecture_parameters, "n_codes", "noise_variance")

    def __init__(
        self,
        latent_dim=2,
        *,
        n_codes=64,
        commitment_cost=0.25,
        transform_quantized=False,
        hidden_layer_sizes="auto",
        activation="relu",
        image_shape=None,
        conv_channels=(8, 8),
        encoder=None,
        decoder=None,
        likelihood="auto",
        handle_unknown="error",
        noise_variance="auto",
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
        self.n_codes = n_codes
        self.commitment_cost = commitment_cost
        self.transform_quantized = transform_quantized
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.handle_unknown = handle_unknown
        self.noise_variance = noise_variance
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

    def transform(self, X):
        """Encode X: the continuous encoder output z_e(x), or its code vector.

        Deterministic: a row's output depends on that row alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, latent_dim)
            z_e(x) of each row, or with ``transform_quantized=True`` the
            codebook vector ``codebook_[predict(X)]``; float32 for float32
            input and float64 otherwise.
        """
        return self._transform(X)

    def predict(self, X):
        """The code of each row: the index of the codebook vector nearest to z_e(x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to quantise.

        Returns
        -------
        codes : ndarray of shape (n_samples,), dtype int64
            Indices into ``codebook_``, in ``[0, n_codes)``.
        """
        def nearest(model, batch, n_rows):
            # float64 holds every index exactly.
            return model.latent.nearest(model.encode(batch.x, batch.condition)).unsqueeze(1).double()

        return self._map_batches(X, nearest, 1, out_dtype=np.float64)[:, 0].astype(np.int64)

    def score_samples(self, X):
        """Lower bound on the log-likelihood log p(x) of each row, in nats: the ELBO.

        The model is p(x) = sum_k pi_k p(x | e_k), with the categorical
        prior pi = ``code_prior_`` (the smoothed training frequencies of the
        codes). The posterior q(k | x) puts all its mass on the row's code
        k(x) = ``predict(x)``, so its KL to the prior is -log pi_k and the
        ELBO is ``log p(x | e_k(x)) + log pi_k(x)``. A uniform prior would
        give ``-log(n_codes)`` in place of ``log pi_k(x)``: the fitted one is
        tighter on data like the training data. For
        ``likelihood="gaussian"`` the value is a density in the units of X
        (the log-Jacobian of the internal standardisation is included), so
        it is comparable with ``PCA.score_samples`` and
        ``VAETransformer.score_samples``. Deterministic; a row's value
        depends on that row alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The bound for each row; higher is better. float32 for float32
            X, float64 otherwise.
        """
        return self._score_samples(X)

    def sample(self, n_samples=1, random_state=None, *, from_likelihood=True):
        """Generate new rows: decode codebook vectors drawn from the prior ``code_prior_``.

        With one code per row, the decoder's means (``from_likelihood=False``)
        are at most ``n_codes`` distinct rows; the default draws from p(x | z)
        around them.

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

    def _checked_codes(self, X):
        check_is_fitted(self)
        if np.ndim(X) == 1 and np.asarray(X).dtype.kind in "iu":
            # predict's code indices: scikit-learn's advice, reshape(-1, 1), decodes the indices
            # themselves as vectors where latent_dim is 1, silently.
            raise ValueError(
                f"inverse_transform decodes code vectors of latent_dim={self.network_.latent_dim} values; "
                "X is 1-D integers, which look like code indices from predict. Pass codebook_[codes], "
                "the vectors those indices name."
            )
        return super()._checked_codes(X)

    def _check_statistics(self, statistics):
        check_variance_units(statistics, self._schema)  # noise_variance_ is reported in X's units squared, as the VAE's

    def _validate_fit(self, X, y, incremental, condition_options):
        data = super()._validate_fit(X, y, incremental, condition_options)
        n_rows = data.X.shape[0]
        # Every fit sets code_prior_ from its rows; later partial_fit blocks (a stream, whose
        # code_prior_ counts every block's rows) are not told again.
        if (data.fresh or not data.incremental) and self.n_codes > n_rows:
            # KMeans refuses more clusters than rows; here codes no row takes keep a share of
            # code_prior_ (0.45 of it for 64 codes on 30 rows), which sample draws from.
            warn(
                f"{type(self).__name__}: n_codes={self.n_codes} is more than the {n_rows} training rows, "
                f"so at least {self.n_codes - n_rows} codes are never any row's; code_prior_ still "
                "gives them a share, which sample draws from and every row's score pays for. Choose "
                "n_codes at most the number of rows.",
                UserWarning,
            )
        return data

    def _serving_graph(self, method):
        self._inference_model()  # the latent learns transform_quantized
        return super()._serving_graph(method)

    # ------------------------------------------------------------------ hooks

    _family = VQVAEModel

    def _inference_model(self):
        model, device = super()._inference_model()
        model.latent.quantize_code = call_parameter(self, "transform_quantized")
        return model, device

    def _loss_weights(self, epochs_elapsed):
        return {**super()._loss_weights(epochs_elapsed), "commitment_cost": self.commitment_cost}
