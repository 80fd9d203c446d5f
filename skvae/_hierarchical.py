"""HierarchicalVAETransformer: a VAE with several layers of latent variables (ladder VAE)."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval
from torch import nn

from ._architecture import _positive_ints
from ._docs import fill_doc
from ._export import method_dtype
from ._vae import VAETransformer
from .nn import LadderVAEModel


@fill_doc
class HierarchicalVAETransformer(VAETransformer):
    """Hierarchical VAE (ladder VAE) as a transformer: x -> every layer's posterior mean.

    A VAE with ``L = len(latent_dims)`` layers of Gaussian latent variables
    z_1 (bottom) to z_L (top). Generation runs top
    down: p(z_L) = N(0, I), p(z_i | z_{i+1}) a Gaussian whose mean and
    variance a small network computes from z_{i+1}, and p(x | z_1, ...,
    z_L) the decoder's (it reads every layer). Inference is the ladder VAE's (Sønderby et al. 2016): a
    bottom-up pass from x gives a Gaussian estimate of each layer, and each
    lower layer's posterior q(z_i | x, z_{i+1}) is that estimate combined,
    precision-weighted, with the top-down prior given the layer above; the
    top layer's posterior is its estimate. Training maximises the ELBO
    ``E_q[log p(x | z)] - beta * sum_i KL_i``, with one KL per layer (each
    lower layer's analytic given the drawn layer above), KL warm-up and
    free bits per layer.

    **What transform returns.** The posterior means of every layer,
    concatenated bottom layer first: ``latent_dims[0]`` columns of z_1, then
    z_2, and so on. The means are computed top down: the top layer's is
    the mean of its posterior; each lower layer's is the mean of q(z_i | x,
    z_{i+1}) with z_{i+1} at the mean just computed for the layer above.
    ``transform_layer=k`` returns only layer k's columns (0 = bottom, -1 =
    top). Lower layers hold detail, upper layers coarser, more global
    factors; which layers stay in use shows in ``n_active_units_``.

    **inverse_transform** accepts what ``transform`` returns. For all
    layers it decodes them; for one layer k it maps z_k down to z_1
    through the prior means, z_{i} = E[z_i | z_{i+1}], with the layers
    above k at 0 (the top layer's prior mean; for a middle layer k, 0
    stands in for what layer k alone does not hold), and decodes every
    layer, so one layer's round trip is rougher than all layers'.
    **sample** draws from the top prior down (ancestral sampling) and
    decodes every layer. **score_samples** is the ELBO,
    or with ``n_importance=K`` the importance-weighted bound (Burda et
    al. 2016), in nats in the units of X, as for ``VAETransformer``.

    Parameters
    ----------
    latent_dims : array-like of int, default=(4, 2)
        Sizes of the latent layers, bottom layer first; at least two layers.
        The number of output features is their sum (or one layer's size,
        with ``transform_layer``). The decoder reads every layer: a custom
        decoder is called with ``in_features=sum(latent_dims)``. The
        hierarchy's own networks (one dense layer per step up, a head per
        layer and a prior network per lower layer) have the width of the
        encoder's last hidden layer; with ``hidden_layer_sizes=()`` and the
        built-in encoder they have no hidden layers either (every head reads
        the encoder's features: the input, or a convolutional encoder's
        output; each prior is affine in the layer above), as wide tables get
        by ``"auto"``. The default's top layer is 2-D, like
        ``VAETransformer``'s default code, and the bottom layer twice as
        wide, as the ladder VAE halves its layers going up.

    ${network_parameters}

    ${vae_parameters_but_warmup_and_free_bits}

    kl_warmup : int, default=50
        Number of epochs over which the KL weight ramps linearly from 0 to
        ``beta``; 0 disables it. The stopping rule does not judge warm-up
        epochs. Longer than ``VAETransformer``'s 10, as ladder VAEs need
        (Sønderby et al. 2016): on 4,000 real 28 x 28 digits the held-out
        IWAE(50) bound of the default hierarchy rose from -126.8 to -123.8
        nats with 50 epochs of warm-up (seed 0), level with a one-layer
        VAE of the same total size there, -123.8; over six seeds the
        hierarchy is still 2.1 nats behind it (docs/family.md,
        ``benchmarks/family_images.py``).

    free_bits : float or array-like of float, default=0.5
        Minimum KL per latent dimension, in nats, below which a dimension is
        not penalised (Kingma et al. 2016): the batch-mean KL of each
        dimension is clamped from below in the training loss. One value for
        every layer, or one per layer, bottom first. Upper layers of a
        hierarchy are prone to collapse to their prior, which
        ``n_active_units_`` shows; free bits on them keep them in use.
        ``score`` is unaffected.

    transform_layer : int or None, default=None
        Which layer ``transform`` returns and ``inverse_transform`` takes:
        None for all of them, concatenated bottom first; k for layer k alone
        (0 = bottom, -1 = top). It can be changed after fitting. A column's
        name (``get_feature_names_out``) is its position in the concatenated
        code, whichever layers are returned.

    ${denoising_parameters}

    ${training_parameters}

    Attributes
    ----------
    ${training_attributes}

    ${vae_loss_attributes}

    ${stopping_attributes}

    kl_per_dim_ : list of ndarray
        One array per layer, bottom first, of shape ``(latent_dims[i],)``:
        the mean over the training data of each dimension's KL from its
        posterior to its prior, in nats, with the layers above at their
        posterior means. A lower layer's KL counts only what it holds beyond
        the layer above. Dimensions near 0 carry no information.

    n_active_units_ : list of int
        For each layer, bottom first, the number of dimensions whose
        ``kl_per_dim_`` exceeds 0.01 nats.

    noise_variance_ : ndarray of shape (n_features,) or None
        Learned observation noise variance of each feature, in the units of
        X squared, when every column is Gaussian and none censored; None
        otherwise (a Bernoulli, categorical, count or log-normal column:
        see ``column_likelihoods_``; a censored one: ``censored_bounds_``).

    ${column_attributes}

    ${input_attributes}

    See Also
    --------
    VAETransformer : The one-layer model.

    References
    ----------
    Sønderby, C. K., Raiko, T., Maaløe, L., Sønderby, S. K. & Winther, O.
    (2016). Ladder Variational Autoencoders. NeurIPS.

    Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance Weighted
    Autoencoders. ICLR.

    Kingma, D. P., Salimans, T., Jozefowicz, R., Chen, X., Sutskever, I. &
    Welling, M. (2016). Improved Variational Inference with Inverse
    Autoregressive Flow. NeurIPS.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import HierarchicalVAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16  # pixels in [0, 1]
    >>> hvae = HierarchicalVAETransformer((8, 4), likelihood="bernoulli", max_iter=5, random_state=0)
    >>> hvae.fit_transform(X).shape  # z_1's 8 means, then z_2's 4
    (1797, 12)
    >>> [kl.shape for kl in hvae.kl_per_dim_]
    [(8,), (4,)]
    >>> hvae.sample(3, random_state=0).shape  # from the top prior down
    (3, 64)
    >>> top = hvae.set_params(transform_layer=-1).transform(X)
    >>> top.shape
    (1797, 4)
    >>> hvae.inverse_transform(top).shape  # down through the prior means
    (1797, 64)
    >>> elbo = hvae.score(X)  # mean ELBO per sample, in nats
    >>> bool(hvae.score_samples(X, n_importance=8).mean() >= elbo)  # IWAE: tighter
    True
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in VAETransformer._parameter_constraints.items() if k != "latent_dim"},
        # An int too, so that latent_dims=3 meets the message that says what to give instead.
        "latent_dims": ["array-like", Interval(Integral, 1, None, closed="left")],
        "free_bits": [Interval(Real, 0, None, closed="left"), "array-like"],
        "transform_layer": [None, Interval(Integral, None, None, closed="neither")],
    }
    _architecture_constants = {"decoder_reads_every_layer": True, "linear_without_hidden_layers": True}
    _architecture_parameters = tuple(
        "latent_dims" if name == "latent_dim" else name for name in VAETransformer._architecture_parameters
    )

    def __init__(
        self,
        latent_dims=(4, 2),
        *,
        hidden_layer_sizes="auto",
        activation="relu",
        image_shape=None,
        conv_channels=(8, 8),
        encoder=None,
        decoder=None,
        likelihood="auto",
        handle_unknown="error",
        noise_variance="auto",
        beta=1.0,
        kl_warmup=50,
        free_bits=0.5,
        transform_layer=None,
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
        self.latent_dims = latent_dims
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.handle_unknown = handle_unknown
        self.noise_variance = noise_variance
        self.beta = beta
        self.kl_warmup = kl_warmup
        self.free_bits = free_bits
        self.transform_layer = transform_layer
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

    # -------------------------------------------------------------- the face

    def transform(self, X):
        """Encode X: the posterior means of every layer (or of ``transform_layer``'s).

        Means are computed top down, each given the means of the layers
        above (see the class description); columns run bottom layer first.
        Deterministic, and a row's code depends on that row alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, sum(latent_dims)) or (n_samples, latent_dims[k])
            The codes, float32 for float32 input and float64 otherwise.
        """
        return self._transform(X)

    def inverse_transform(self, X):
        """Decode codes back to the input space: the mean of p(x | z).

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(latent_dims)) or (n_samples, latent_dims[k])
            Codes as ``transform`` returns them: every layer's, or with
            ``transform_layer=k`` layer k's, which are mapped down to z_1
            through the prior means (the layers above k at 0).

        Returns
        -------
        X_original : ndarray or DataFrame of shape (n_samples, n_features)
            Decoder means in the units of the training data (probabilities
            in [0, 1] for ``likelihood="bernoulli"``).
            A DataFrame in the training columns and dtypes for a model
            fitted on one (a category as its most probable value, a bool
            or integer 0/1 column as 0 or 1 by its probability's side of
            1/2); otherwise an array: float32 for float32 codes, else float64.
        """
        return self._inverse_transform(X)

    def sample(self, n_samples=1, random_state=None, *, from_likelihood=True):
        """Generate new rows by ancestral sampling: z_L ~ N(0, I), z_i ~ p(z_i | z_{i+1}), x from p(x | z).

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

    def _serving_graph(self, method):
        graph = super()._serving_graph(method)
        layer = self._layer()
        if layer is None:
            return graph
        latent = self.network_.latent
        if method == "transform":
            return _LayerColumns(graph, latent.layer_slice(layer)).eval()
        return _FromLayer(copy.deepcopy(latent).cpu(), layer, graph).eval()

    @property
    def _n_features_out(self):
        latent, layer = self.network_.latent, self._layer()
        return latent.latent_dim if layer is None else latent.latent_dims[layer]

    def get_feature_names_out(self, input_features=None):
        """Names of ``transform``'s columns: the class's name and each column's position in the whole code.

        With ``transform_layer=k`` layer k's columns keep the names they
        have among all layers' (the top of ``latent_dims=(4, 2)`` is
        ``hierarchicalvaetransformer4`` and ``5``), so that no two layers'
        columns share a name.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the names seen in fit, as scikit-learn's
            transformers check them; unused otherwise.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        names = super().get_feature_names_out(input_features)
        layer = self._layer()
        if layer is None:
            return names
        start = self.network_.latent.layer_slice(layer).start
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{start + i}" for i in range(len(names))], dtype=object)

    # ------------------------------------------------------------- internals

    def _layer(self):
        """``transform_layer`` as a layer index from 0, checked against the fitted layers; or None."""
        return _checked_layer(self.transform_layer, self.network_.latent.latent_dims)

    def _check_family_parameters(self):
        latent_dims = _positive_ints(self.latent_dims, "latent_dims", "(8, 4)")
        if len(latent_dims) < 2:
            bottom = latent_dims[0] if latent_dims else 4
            raise ValueError(
                f"latent_dims={self.latent_dims!r} gives {'one latent layer' if latent_dims else 'no latent layer'}"
                "; a hierarchical VAE needs at least two, bottom "
                f"first, e.g. ({bottom}, {max(1, bottom // 2)}). For one layer use "
                f"VAETransformer(latent_dim={bottom}).")
        if not isinstance(self.free_bits, Real):
            try:
                free_bits = np.asarray(self.free_bits, dtype=float)
            except (TypeError, ValueError):  # not numbers: the message below names free_bits
                free_bits = np.array([np.nan])
            if free_bits.ndim != 1:  # [[1, 2]] would pass flattened, then fail in training
                free_bits = np.array([np.nan])
            if len(free_bits) != len(latent_dims) or not np.all(np.isfinite(free_bits) & (free_bits >= 0)):
                raise ValueError(
                    f"free_bits={self.free_bits!r} must be one non-negative number, or one per layer of "
                    f"latent_dims={latent_dims} ({len(latent_dims)} values, bottom first)."
                )
        _checked_layer(self.transform_layer, latent_dims)

    _family = LadderVAEModel
    _code_width_name = "sum(latent_dims)"

    def _transform(self, X, y=None):
        codes = super()._transform(X, y)
        layer = self._layer()
        if layer is None:
            return codes
        return np.ascontiguousarray(codes[:, self.network_.latent.layer_slice(layer)])

    def _code_layout(self):
        layer = self._layer()
        if layer is None:
            return super()._code_layout()
        width = self.network_.latent.latent_dims[layer]
        return (width, f"codes of layer transform_layer={self.transform_layer}, with latent_dims[{layer}]={width} columns",
                lambda latent, z: latent.from_layer(z, layer))


def _checked_layer(layer, latent_dims):
    if layer is None:
        return None
    n_layers = len(latent_dims)
    # Read at each call (set_params after fit skips fit's validation): any value gets this message.
    integral = isinstance(layer, Integral) and not isinstance(layer, bool)
    if not integral or not -n_layers <= layer < n_layers:
        raise ValueError(
            f"transform_layer={layer!r} {'names no layer' if integral else 'is not an integer naming a layer'} "
            f"of latent_dims={tuple(latent_dims)}: pass 0 (the bottom) to {n_layers - 1} (the top), -1 for "
            "the top, or None for every layer."
        )
    return int(layer) % n_layers


class _LayerColumns(nn.Module):
    """A transform graph's output narrowed to one layer's columns."""

    def __init__(self, graph, columns):
        super().__init__()
        # Not "graph": a torch.fx GraphModule, which export makes of this, has its own.
        self.inner, self.start, self.stop = graph, columns.start, columns.stop

    def forward(self, x):
        return self.inner(x)[:, self.start : self.stop]


class _FromLayer(nn.Module):
    """One layer's codes mapped down to the bottom layer, then an inverse_transform graph."""

    def __init__(self, latent, layer, graph):
        super().__init__()
        self.latent, self.layer, self.inner = latent, layer, graph

    def forward(self, z):
        # The layers compute in float32; the inner graph then answers in inverse_transform's dtype.
        return self.inner(self.latent.from_layer(z.float(), self.layer).to(method_dtype(z.dtype)))
