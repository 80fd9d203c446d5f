"""VAEGANTransformer: a VAE whose decoder is also trained against a discriminator (Larsen et al. 2016)."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ._docs import fill_doc
from ._sources import CHECK_ROWS, spread_rows
from ._vae import VAETransformer
from ._warnings import warn
from .nn import VAEGANModel

# The discriminator is judged after training on this many training rows,
# as many reconstructions and as many decoded prior draws.
DIAGNOSTIC_ROWS = 4 * CHECK_ROWS

# It "wins completely" when it classifies at least this share of each kind
# right: real rows, reconstructions and decoded prior draws.
SATURATED_ACCURACY = 0.99

# ... judged on at least this many rows of each kind: on fewer, a share of
# 0.99 is every row right, which a working discriminator (right 60-80% of
# the time) often is on a partial_fit block of one to three rows (7 of 40
# one-row calls warned); one right nine times in ten seems to have won once
# in 150 calls on 16 rows (0.9 ** 48).
SATURATED_MIN_ROWS = 16

# It has "collapsed" when its logit varies over the training rows and their
# reconstructions by no more than this: measured exactly 0 for a collapsed
# one (dead ReLU units), about 0.5 for working ones.
CONSTANT_LOGIT_STD = 1e-4


@fill_doc
class VAEGANTransformer(VAETransformer):
    """VAE-GAN: a VAE whose decoder is also trained against a discriminator.

    A ``VAETransformer`` (encoder, Gaussian posterior q(z | x), decoder,
    pixel likelihood p(x | z)) with a third network, a discriminator D,
    after Larsen et al. (2016). D reads rows as the decoder's means
    describe them (probabilities for ``likelihood="bernoulli"``,
    standardised values for ``"gaussian"``, log1p of counts for
    ``"poisson"`` and ``"negative_binomial"``, one-hot codes for ``"categorical"``)
    and answers with one logit: is this row a real one? D is built like the
    encoder (an MLP of ``hidden_layer_sizes``, or the convolutional encoder
    when ``image_shape`` is set) with a one-logit head; its last hidden
    layer is the feature layer of the feature-matching term.

    The variant trained here keeps the VAE's loss whole (minus the ELBO:
    pixel log-likelihood and KL) and adds, for the encoder and decoder,
    ``feature_matching_weight`` times Larsen's reconstruction term in D's
    feature layer (half the squared distance between D's features of x and
    of its reconstruction) and ``adversarial_weight`` times the
    non-saturating adversarial loss -log D(fake), averaged over
    reconstructions and decoded prior draws; D learns to tell real rows
    from both kinds of fake. Larsen et al. replace the pixel likelihood by
    the feature-matching term; keeping it here makes ``score_samples`` a
    true bound and steadies training (D cannot drag the decoder away from
    the data), at the cost of some of the sharpness the pure variant gets.

    Both players take their step at once, from one loss and one optimizer:
    D's loss reads the fakes detached, and the decoder's terms run through D
    with D's parameters detached, so each loss moves only its own player.
    Every draw (posterior and prior codes, minibatch order) comes from
    ``random_state``: the same seed gives a bitwise identical model.

    ``transform`` returns mu(x), ``inverse_transform`` the decoder mean of
    a code, and ``sample`` rows drawn from p(x | z) (with
    ``from_likelihood=False`` the decoder mean), as for ``VAETransformer``. ``score_samples``
    is the ELBO (or the IWAE bound) of the trained encoder and decoder: a
    lower bound on log p(x) under the VAE part of the model, the decoder's
    likelihood p(x | z) with the prior N(0, I); the discriminator takes no
    part in it. It is comparable with a ``VAETransformer``'s, and the
    adversarial terms usually cost some nats of it.

    After training, D is judged on up to 1024 training rows (spread over
    the set), their reconstructions and as many decoded prior draws
    (``discriminator_accuracy_``; ``partial_fit``: the call's rows). A
    ``UserWarning`` says what to change when D wins completely (at least
    99% right on each kind, judged on 16 rows or more: its signal no
    longer tells the decoder how to look real) or has collapsed (the same
    logit for every training row and reconstruction: the model was trained
    as a plain VAE at best). Non-finite
    losses raise, as for every estimator here.

    Parameters
    ----------
    latent_dim : int, default=2
        Dimension of the code z, the number of output features.

    ${network_parameters}

    ${vae_parameters}

    adversarial_weight : float, default=2.0
        Weight of the non-saturating adversarial loss in the encoder and
        decoder's objective. 0 leaves only feature matching. Chosen on
        4,000 real 28 x 28 digits (``benchmarks/family_images.py``,
        ``latent_dim=8``): at 0.1 the samples were judged less confidently
        than the VAE's (0.860 against 0.883) and were no sharper; at 2.0
        more confidently and sharper on each of three seeds, for about 8
        nats of held-out ELBO (both sampling codes from N(0, I); since they
        draw codes from a mixture fitted to the training codes, sharper on
        each seed and more confidently on average, 0.944 against 0.939,
        docs/family.md). It is a weight for images: on a table the
        game moves the columns (load_diabetes: sample means up to 0.56
        standard deviations off, against 0.04 for ``VAETransformer``;
        docs/family.md), so use ``VAETransformer`` there.

    feature_matching_weight : float, default=0.1
        Weight of the feature-matching reconstruction term (D's last hidden
        layer). With both weights 0 the encoder and decoder train as a
        ``VAETransformer`` while D merely watches. On load_digits (60
        epochs, ``latent_dim=8``) weights of 1 for both (feature matching
        above all) collapsed the samples onto a few shapes and cost 6.5
        nats.

    ${denoising_parameters}

    ${training_parameters_before_n_iter_no_change}

    n_iter_no_change : int or np.inf, default=200
        Epochs without improvement allowed before stopping; also the span
        of the moving average the rule judges. The rule judges the VAE
        part's bound, which a game may leave flat while the samples still
        improve: with the VAE's 10 (and this ``adversarial_weight``), fits
        on load_digits stopped after as little as 0.6 s and their samples
        were judged worse than the VAE's (0.741 against 0.856, three
        seeds); at the default ``max_iter`` a fit runs every epoch
        (``benchmarks/vaegan.py``), and ends without a
        ``ConvergenceWarning`` where the rule could not have ended it sooner.

    early_stopping : "auto" or bool, default="auto"
        True: hold out ``validation_fraction`` of the training data, judge
        epochs by the VAE part's bound on it, and keep the weights of the
        epoch where it was best: a bound the game may leave flat or worsen
        while the samples improve, so that epoch can be an early one of the
        game (``n_iter_`` still counts every epoch trained). ``"auto"`` is
        False for this model whatever the number of rows (the other members
        hold rows out from 10,000 on): the game's last epoch is kept.

${training_parameters_after_early_stopping}

    Attributes
    ----------
    ${training_attributes}

    loss_curve_ : list of float
        Training loss after each epoch: the negative (beta-weighted, warm-up
        scaled) ELBO per sample, in nats in the units of X (each latent
        dimension's KL counted as at least ``free_bits``), exactly as a
        ``VAETransformer`` reports it. The adversarial, feature-matching and
        discriminator terms add their gradients to each step but nothing to
        this value, so that the curve and the ``tol`` stopping rule read the
        fit of the VAE part, not the back-and-forth of the game.

    best_loss_ : float or None
        Lowest training loss after the warm-up (inf while every epoch so
        far fell inside it); None after a fit with early stopping (a later
        ``partial_fit`` tracks it from its own epochs on).

    ${stopping_attributes}

    ${vae_attributes}

    discriminator_accuracy_ : dict of str to float
        Share of rows the trained discriminator classifies right, by kind:
        ``"real"`` (training rows called real), ``"reconstructions"`` and
        ``"samples"`` (decoded prior draws called fake), on up to 1024 of
        the call's rows (``partial_fit``: the block's). Near 0.5 where the
        game is balanced; all near 1 means the discriminator won.

    ${column_attributes}

    ${input_attributes}

    See Also
    --------
    VAETransformer : The same model without the discriminator.
    AutoencoderTransformer : The deterministic autoencoder.

    References
    ----------
    Larsen, A. B. L., Sønderby, S. K., Larochelle, H. & Winther, O. (2016).
    Autoencoding beyond pixels using a learned similarity metric. ICML.

    Goodfellow, I. et al. (2014). Generative Adversarial Nets. NeurIPS.

    Kingma, D. P. & Welling, M. (2014). Auto-Encoding Variational Bayes. ICLR.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAEGANTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X[:300] / 16  # pixels in [0, 1]
    >>> vaegan = VAEGANTransformer(4, likelihood="bernoulli", hidden_layer_sizes=(32,),
    ...                            max_iter=3, random_state=0)
    >>> Z = vaegan.fit_transform(X)
    >>> Z.shape
    (300, 4)
    >>> vaegan.sample(3, random_state=0).shape
    (3, 64)
    >>> vaegan.inverse_transform(Z[:2]).shape
    (2, 64)
    >>> bool(vaegan.score(X) < 0)  # the VAE part's ELBO, in nats
    True
    >>> sorted(vaegan.discriminator_accuracy_)
    ['real', 'reconstructions', 'samples']
    """

    _parameter_constraints: dict = {
        **VAETransformer._parameter_constraints,
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "feature_matching_weight": [Interval(Real, 0, None, closed="left")],
    }

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
        noise_variance="auto",
        beta=1.0,
        kl_warmup=10,
        free_bits=0.5,
        adversarial_weight=2.0,
        feature_matching_weight=0.1,
        corruption=None,
        corruption_level=0.2,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=200,
        early_stopping="auto",
        validation_fraction=0.1,
        shuffle=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
        **module_params,
    ):
        super().__init__(
            latent_dim, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            image_shape=image_shape, conv_channels=conv_channels, encoder=encoder, decoder=decoder,
            likelihood=likelihood, handle_unknown=handle_unknown, noise_variance=noise_variance,
            beta=beta, kl_warmup=kl_warmup, free_bits=free_bits, corruption=corruption,
            corruption_level=corruption_level, batch_size=batch_size,
            learning_rate_init=learning_rate_init, max_iter=max_iter, tol=tol,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
            validation_fraction=validation_fraction, shuffle=shuffle, warm_start=warm_start,
            random_state=random_state, verbose=verbose, device=device, **module_params,
        )
        self.adversarial_weight = adversarial_weight
        self.feature_matching_weight = feature_matching_weight

    # ------------------------------------------------------------------ hooks

    _family = VAEGANModel
    # The default n_iter_no_change trains every epoch of the game: reaching max_iter is the plan.
    _warn_when_the_rule_cannot_stop = False
    # Early stopping keeps the epoch of the best held-out bound: an early epoch of the game.
    _auto_early_stopping = False

    def _loss_weights(self, epochs_elapsed):
        return {
            **super()._loss_weights(epochs_elapsed),
            "adversarial_weight": self.adversarial_weight,
            "feature_matching_weight": self.feature_matching_weight,
        }

    def _after_training(self, model, rows, statistics):
        statistics["discriminator_accuracy_"] = self._judge_discriminator(model, rows)

    def _judge_discriminator(self, model, rows):
        """The discriminator's accuracy on training rows, reconstructions and prior draws; warn if it failed."""
        batch = spread_rows(rows, DIAGNOSTIC_ROWS)
        n_rows = batch.x.shape[0]
        # Drawn apart from the training generator, from a seed fixed at fit.
        generator = torch.Generator(device=batch.x.device).manual_seed(self._score_seed)
        noise = torch.randn((n_rows, model.latent_dim), generator=generator, device=batch.x.device,
                            dtype=batch.x.dtype)
        with torch.inference_mode():
            views = model.views(batch, noise)
            _, logits = model.discriminate(torch.cat(views))
        real, reconstructions, samples = logits.split(n_rows)
        accuracy = {
            "real": float((real > 0).double().mean()),
            "reconstructions": float((reconstructions <= 0).double().mean()),
            "samples": float((samples <= 0).double().mean()),
        }
        self._warn_if_failed(accuracy, logits[: 2 * n_rows])
        return accuracy

    def _warn_if_failed(self, accuracy, data_logits):
        # data_logits: those of the training rows and their reconstructions,
        # where the feature-matching term and half the adversarial one act.
        shares = ", ".join(f"{kind} {share:.1%}" for kind, share in accuracy.items())
        if min(accuracy.values()) >= SATURATED_ACCURACY and len(data_logits) >= 2 * SATURATED_MIN_ROWS:
            warn(
                f"{type(self).__name__}: the discriminator tells real rows from generated ones every "
                f"time (accuracy on {shares}): it has won the game, and its signal no longer tells "
                "the decoder how to look real. Raise adversarial_weight or feature_matching_weight, "
                "lower learning_rate_init, or fit on more rows.",
                UserWarning,
            )
        if data_logits.double().std() <= CONSTANT_LOGIT_STD:
            warn(
                f"{type(self).__name__}: the discriminator has collapsed: it gives every row the "
                f"same logit ({float(data_logits.mean()):.3g}; accuracy on {shares}), so the adversarial "
                "and feature-matching terms teach the decoder nothing and the model is at best a "
                "plain VAE. Lower learning_rate_init, or use wider hidden_layer_sizes or "
                "activation='tanh' (dead ReLU units), and fit again.",
                UserWarning,
            )
