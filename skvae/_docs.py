"""Docstring paragraphs every estimator of the family shares, written once.

An estimator's docstring names a paragraph as ``${name}`` on a line of its
own; ``fill_doc`` puts the paragraph there when the class is defined, so
``help()`` shows the full text.
"""


NETWORK_PARAMETERS = """\
    hidden_layer_sizes : "auto" or array-like of shape (n_layers,), default="auto"
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order. ``()`` gives a linear encoder and decoder. ``"auto"``
        is ``(128, 64)``, or ``()`` when the training rows are fewer than
        the columns: there a nonlinear network only overfits (on khan, 83
        rows x 2,308 genes, mu(x) with ``latent_dim=8`` fed a logistic
        regression at 0.69 against PCA's 0.84, the linear model at 0.85;
        ``benchmarks/suite.py``). ``hidden_layer_sizes_`` holds the widths
        used.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.

    image_shape : tuple of int or None, default=None
        Shape of one image, ``(height, width)`` or ``(channels, height,
        width)``, when each row of X is an image flattened channel by
        channel, row by row (as ``load_digits().data`` is, and as
        ``images.reshape(n, -1)`` flattens a ``(n, channels, height,
        width)`` array). The encoder is then convolutional:
        ``len(conv_channels)`` strided convolutions (kernel 4, stride 2,
        each halving height and width until an axis reaches 1), then dense
        layers of ``hidden_layer_sizes``; the decoder mirrors it with
        transposed convolutions. Rows stay flat, so pipelines and
        ``set_output`` work unchanged; X must have channels * height *
        width features. ``(1, n)`` convolves a signal along its length.

    conv_channels : tuple of int, default=(8, 8)
        Output channels of each convolution when ``image_shape`` is set;
        ignored otherwise. On 4,000 real 28x28 digits at one thread
        (``benchmarks/family_images.py``), (8, 8) fitted in 2.4x a dense
        VAE's time with codes that classify better (logistic regression
        0.868 against 0.840, three seeds); (8, 16) took 3.1x with codes
        no better, (32, 64) 9.5x.

    encoder : class, callable or None, default=None
        Your own encoder: a ``torch.nn.Module`` class, or a function
        returning a module, called as ``encoder(in_features=n_inputs,
        **params)`` with the ``encoder__`` arguments below: one input per
        numeric column, one per category level, one missing-value indicator
        per column with holes at fit, and a conditional model's condition
        (``n_features`` for an array without holes; docs/custom_modules.md).
        It must map float32 rows ``(batch, n_inputs)`` to float32 features
        ``(batch, k)`` for any k; the latent head is added on top. A class
        or a ``functools.partial`` pickles; a lambda does not. None: the
        dense or convolutional encoder above. See ``skvae.nn.encoders`` for what
        keeps each row's output independent of the other rows.

    decoder : class, callable or None, default=None
        Your own decoder, called as ``decoder(in_features=code_width,
        out_features=n_outputs, **params)`` with the ``decoder__``
        arguments, where ``code_width`` is the width of what it decodes:
        ``latent_dim`` (a conditional model's plus its
        ``n_condition_features_``; a hierarchy's ``sum(latent_dims)``). It
        must map ``(batch, code_width)`` to ``(batch, n_outputs)``: the
        likelihood's parameters for each row (one per numeric column, one
        per category level). None: the decoder that mirrors the encoder
        above.
"""

DENOISING_PARAMETERS = """\
    corruption : {"gaussian", "masking"} or None, default=None
        Train a denoising autoencoder (Vincent et al. 2008): the encoder
        sees each training row corrupted and the loss scores the
        reconstruction of the clean row. The corruption acts on the
        encoder's inputs: standardised values (Gaussian and log-normal
        columns), X's own values (Bernoulli), a category's one-hot code and
        the missing-value indicators. ``"gaussian"`` adds noise of standard
        deviation ``corruption_level`` to them; ``"masking"`` sets a random
        share ``corruption_level`` of them to 0 (a standardised column's
        training mean, a category's "no category", an indicator's
        "observed"). The draws come from ``random_state``; level 0 draws
        nothing and trains the model ``corruption=None`` trains. Training only: ``transform``,
        ``inverse_transform`` and ``score_samples`` never corrupt their
        input; ``loss_curve_`` reports the loss on corrupted inputs.

    corruption_level : float, default=0.2
        The noise's standard deviation (``"gaussian"``) or the masked share
        of entries, in [0, 1) (``"masking"``).
"""

LIKELIHOOD_PARAMETERS = """\
    likelihood : str or dict, default="auto"
        Observation model p(x | z) of each column. ``"auto"`` chooses per
        column of a pandas DataFrame by dtype and values: booleans and 0/1
        flags Bernoulli, and, in a frame of numbers alone, all floats or
        all integers, every column Bernoulli when all lie in [0, 1] and a
        tenth of their values sit exactly at 0 or 1 (the pixels of images,
        with their background; a category, bool or date column beside
        them, or floats beside integers, makes them a table's numbers);
        a non-negative float or integer column log-normal when a Gaussian
        fits its ``log1p`` better than its values by more than 0.1 nats per
        value, leaving out the 0.5% most extreme values at each end
        (prices, populations, sales, career totals: skewed amounts);
        other floats, integers and dates Gaussian (an integer is as often a
        year or a code as a count: say ``{"visits": "poisson"}`` for
        counts); categories, strings and objects categorical, but for an
        object column holding numbers alone, which is read as numbers
        (for codes, ``astype("category")`` or ``{"zip": "categorical"}``). A float
        column that "auto" makes Gaussian or log-normal and whose values
        pile at its smallest or largest value (more than 10% of them
        there: a reading capped at a limit, rain that is mostly 0) is
        censored there: a value on that bound is scored by the
        probability of lying at or past it (a Tobit likelihood, not a
        density) and is drawn as often as the data hold it; a value past
        it keeps its density. Naming the column's likelihood in a dict
        turns this off. On an array it is
        ``"bernoulli"`` when every value lies in [0, 1] and a tenth of them
        sit at 0 or 1 (not counting columns of only 0 and 1, nor the one
        value at each bound that a ``MinMaxScaler`` puts in every column;
        flags alone count), else ``"gaussian"``: numbers a ``MinMaxScaler`` put
        in [0, 1] are measurements (two values a column at the bounds), and
        scored as probabilities they are imputed worse. A
        Bernoulli model cannot score rows beyond [0, 1], which a scaler
        fitted on other rows gives (a cross-validation fold's):
        ``MinMaxScaler(clip=True)`` keeps them in. On 5,000 real 28 x 28 digits the Bernoulli
        likelihood made a VAE's mu(x) a better feature than the Gaussian (logistic
        regression 0.83 against 0.75 at ``latent_dim=8``; PCA 0.76). ``"gaussian"`` suits real values: the model
        standardises them internally and learns each one's noise variance;
        outputs are in X's own units. ``"lognormal"`` is the Gaussian of
        ``log1p(x)`` for non-negative amounts with a long right tail: scores
        stay densities in X's units, and decoded values and draws are never
        negative. ``"bernoulli"`` suits values in [0,
        1] (binary columns, grey-level images). ``"categorical"`` gives
        each column one softmax over its categories (a DataFrame's columns
        only: an array's are numbers; ``pd.DataFrame(X)`` makes integer
        codes categories). ``"poisson"`` and
        ``"negative_binomial"`` (with a dispersion learned per column, as
        scvi-tools models counts) suit counts; the encoder reads their
        ``log1p``. A dict ``{column: likelihood}`` (column names, or
        indices for an array) overrides "auto" for the columns it names.
        ``column_likelihoods_`` shows the choice. Fit on a DataFrame,
        ``inverse_transform`` and ``sample`` return a DataFrame with the
        training columns and dtypes (dates, strings, categories, float32
        and nullable dtypes included).
"""

HANDLE_UNKNOWN_PARAMETER = """    handle_unknown : {"error", "ignore"}, default="error"
        What a category that fit never saw does at transform and score, as
        in ``OneHotEncoder``: raise, or count as missing.
"""

VAE_PARAMETERS = LIKELIHOOD_PARAMETERS + "\n" + HANDLE_UNKNOWN_PARAMETER + """\
    noise_variance : {"auto", "per_feature", "isotropic"}, default="auto"
        With ``likelihood="gaussian"``, whether the learned observation
        noise has one variance per feature (as in factor analysis) or one
        shared by all features in the units of X (as in probabilistic PCA;
        a ``VAETransformer`` with ``hidden_layer_sizes=()`` is then either
        model). ``"auto"`` shares it where the training rows are fewer than
        the columns (where ``hidden_layer_sizes="auto"`` gives a linear model)
        and gives one per feature otherwise: on gene-expression tables of
        83 and 63 rows (2,308 and 6,830 genes) a variance per feature let
        the noise take what the codes should carry (their accuracy
        0.75-1.01x PCA's, shared: 0.97-1.07x), at some cost in held-out
        likelihood (docs/real_data.md). Either way each feature's variance
        is the learned one plus a floor, step**2 / 12, step being the
        smallest gap between the feature's distinct training values (whole
        numbers: 1/12), so that no variance falls below what the values'
        own resolution can tell. A shared variance therefore reads higher
        by each feature's floor in ``noise_variance_``: much for a rounded
        feature, a little for a float one on few rows (10 rows of 20
        standard normal columns: 0.798 to 0.801), by float32's rounding on
        many. Ignored for ``"bernoulli"``.

    beta : float, default=1.0
        Weight of the KL term (beta-VAE, Higgins et al. 2017). Larger values
        give smoother, more disentangled codes at the cost of reconstruction.
        ``score`` always uses ``beta=1``, the true bound, so a grid search
        over beta by ``score`` picks the beta that generalises best as a
        density model; it does not reward a smaller beta for its features
        (the README's search picks 2). For features, search a pipeline by
        the downstream score, which often prefers a smaller beta.

    kl_warmup : int, default=10
        Number of epochs over which the KL weight ramps linearly from 0 to
        ``beta`` (Bowman et al. 2016; Sønderby et al. 2016). 0 disables it.
        The stopping rule does not judge warm-up epochs.

    free_bits : float, default=0.5
        Minimum KL per latent dimension, in nats, below which a dimension is
        not penalised (Kingma et al. 2016): the batch-mean KL of each
        dimension is clamped from below at this value in the training loss,
        so a dimension may carry up to this much information for free. A
        guard against posterior collapse, which ``kl_per_dim_`` shows as
        dimensions near 0 nats; ``score`` is unaffected (it is the true
        bound). The default 0.5 was chosen on half A of
        ``benchmarks/suite.py`` (mean LogReg accuracy on mu(x) +0.011 over
        17 settings against 0.0, better in 12); on load_digits with
        ``latent_dim=8`` it keeps 8 of 8 units active instead of 4. 0.0
        gives the plain ELBO objective.
"""

COLUMN_ATTRIBUTES = """\
    column_likelihoods_ : dict
        The likelihood of each column, by name (a DataFrame's) or index.

    column_categories_ : dict
        The categories of each categorical column, by name, in the order
        of their indices: what ``to_torch`` and ``to_onnx`` graphs read and
        return for such a column.

    censored_bounds_ : dict
        The columns censored at a bound (see ``likelihood``), by name:
        ``(low, high)``, None for a side that is not censored. Empty when
        none is.

    column_time_units_ : dict
        Each date or duration column's unit, by name: the coarsest of a
        day, an hour, a minute, a second, a millisecond and a microsecond
        that every training value (of every ``fit`` and ``partial_fit``
        call, on a time zone's wall clock) is a whole number of, as a
        ``pandas.Timedelta``; None for finer values. ``inverse_transform``,
        ``sample`` and the imputer round to it, as they round an integer
        column to whole numbers; the ``to_torch`` and ``to_onnx`` graphs
        return the unrounded nanoseconds.
"""

VAE_LOSS_ATTRIBUTES = """\
    loss_curve_ : list of float
        Training loss after each epoch: the negative (beta-weighted, warm-up
        scaled) ELBO per sample, in nats in the units of X, with each latent
        dimension's KL counted as at least ``free_bits``: above the true
        -ELBO (``-score(X)``) by up to ``free_bits`` nats for each dimension
        whose KL is below it.

    best_loss_ : float or None
        Lowest training loss after the warm-up (inf while every epoch so
        far fell inside it); None after a fit with early stopping (a later
        ``partial_fit`` tracks it from its own epochs on).
"""

VAE_ATTRIBUTES = """\
    kl_per_dim_ : ndarray of shape (latent_dim,)
        Mean KL(q(z_d | x) || N(0, 1)) of each latent dimension over the
        training data (the latest ``fit`` or ``partial_fit`` call's rows),
        in nats. Dimensions near 0 carry no information (posterior
        collapse).

    n_active_units_ : int
        Number of latent dimensions whose ``kl_per_dim_`` exceeds 0.01 nats.
        The threshold is lenient: a dimension at 0.05 nats carries almost no
        information, so read ``kl_per_dim_`` itself too.

    noise_variance_ : ndarray of shape (n_features,) or None
        Learned observation noise variance of each feature, in the units of
        X squared, when every column is Gaussian and none censored; None
        otherwise (a Bernoulli, categorical, count or log-normal column:
        see ``column_likelihoods_``; a censored one: ``censored_bounds_``).
"""

TRAINING_PARAMETERS = """\
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
        stops. As MLPRegressor's rule, but judged on an exponential moving
        average of the loss over about ``n_iter_no_change`` epochs: judged
        epoch by epoch, minibatch noise stops slowly improving fits early.

    n_iter_no_change : int or np.inf, default=10
        Epochs without improvement allowed before stopping; also the span
        of the moving average the rule judges. ``np.inf``, as in
        ``MLPRegressor``: the rule never stops a fit, which runs
        ``max_iter`` epochs (with ``early_stopping``, keeping its best
        epoch's weights).

    early_stopping : "auto" or bool, default="auto"
        True: hold out ``validation_fraction`` of the training data, judge
        epochs by ``score`` on it (a variational model's estimated from one
        draw per row, which is enough on average over the rows), and keep
        the weights of the best epoch. ``"auto"``, as in
        ``HistGradientBoostingClassifier``: True from 10,000 training rows
        on (unless ``validation_fraction=0``), where it ends a fit once the
        held-out bound stops improving (a 10,000 x 20 table fitted in 17 s
        instead of 47 s), False below,
        where the held-out rows cost more than the stop saves (mu(x) fed a
        classifier 0.011 worse on average on the small tables of
        ``benchmarks/suite.py``). ``partial_fit`` never holds rows out.

    validation_fraction : float, default=0.1
        Share of the training data held out with early stopping.

    shuffle : bool, default=True
        Reshuffle the training rows every epoch.

    warm_start : bool, default=False
        Continue from the current weights on ``fit`` instead of starting
        afresh. What the first fit read from X is kept, as by
        ``partial_fit``: the input scaling, each column's likelihood,
        levels, range (``sample`` draws within it: X's values beyond it
        draw a warning) and share of holes. Parameters that shape the
        network (``latent_dim`` or ``latent_dims``, ``hidden_layer_sizes``,
        ``activation``, ``likelihood``, ``image_shape``, the modules and
        their arguments, ...) cannot change.

    random_state : int, RandomState instance or None, default=None
        Seeds every random choice: weight initialisation, shuffling, the
        validation split and, where the model draws codes, that noise and
        the draws of ``score_samples`` (``sample`` takes a ``random_state``
        of its own). Pass an int for reproducible results: bitwise
        identical for the same number of torch threads; with another
        thread count (workers of ``GridSearchCV(n_jobs=k)``
        get fewer) they can differ in the last digits, as BLAS splits sums
        differently. ``None`` takes fresh entropy from the operating
        system; the global numpy and torch RNGs are never used: a custom
        module, which torch initialises (and, with dropout, trains) from
        torch's global generator, is built and trained under a seed drawn
        from ``random_state``, and the caller's global state is restored
        afterwards. That generator is the process's: another thread that
        draws from it during such a fit changes the fit's draws, and has
        its own changed (skvae's fits take turns).

    verbose : int, default=0
        0: silent. 1: a progress bar per fit (epochs, loss, validation
        score under early stopping, elapsed and remaining time) when
        ``tqdm`` is installed (``pip install skvae[progress]``; it draws in
        notebooks too; on stderr, as tqdm draws), else a line per epoch. 2
        or more: MLPRegressor's line per epoch, ``Iteration N, loss = ...``
        (``loss_curve_``'s value), and under early stopping ``Validation
        score: ...`` (``score`` of the held-out rows, in its own units), on
        stdout. Never changes the result.

    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to train and evaluate. ``"auto"`` takes a GPU when torch sees
        one. On a GPU, the encoded training rows move there once when they
        take at most half its free memory; otherwise they stay in pinned
        host memory and each minibatch is copied over as it is used (sparse
        and memmapped X are always read per minibatch). Evaluation runs in
        chunks of one shape, 8,192 rows (fewer for data over 1,024 values
        wide), however few are passed, so a row's output stays its own
        there too. Two fits with one ``random_state`` agree
        bitwise, except with convolutional networks, where cuDNN's fastest
        algorithms differ in the last digits (1.5e-5 measured) unless
        ``torch.backends.cudnn.deterministic = True``. A model trained on
        a GPU is pickled with CPU tensors and runs on CPU-only machines.

    **module_params
        ``encoder__<name>=value`` and ``decoder__<name>=value``: keyword
        arguments for a custom ``encoder`` or ``decoder``, routed as
        skorch routes ``module__``. They are parameters like any other:
        ``get_params``, ``set_params``, ``clone`` and ``GridSearchCV``
        (e.g. ``{"encoder__width": [64, 128]}``) handle them.
"""

TRAINING_ATTRIBUTES = """\
    network_ : skvae.nn.AutoencoderModel
        The trained torch model: the column codec at its front, encoder,
        latent and decoder, in evaluation mode.

    hidden_layer_sizes_ : tuple of int
        The hidden layers' widths the network was built with
        (``hidden_layer_sizes``, with ``"auto"`` resolved).

    n_iter_ : int
        Number of epochs run, across ``warm_start`` fits and ``partial_fit``
        calls.
"""

STOPPING_ATTRIBUTES = """\
    validation_scores_ : list of float or None
        ``score`` on the validation set after each epoch of the latest
        ``fit`` (a warm-started fit starts a new list), with early stopping;
        None otherwise, and after a ``partial_fit``, which trains without it
        (the weights the list judged have moved since).

    best_validation_score_ : float or None
        Best of ``validation_scores_`` after the warm-up, the epoch whose
        model is kept (-inf while every epoch so far fell inside it; the
        warm-up's epochs are listed but not judged, as for ``best_loss_``);
        None without early stopping and after a ``partial_fit``.
"""

INPUT_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
"""

SAMPLE_WEIGHT_PARAMETER = """\
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, non-negative: each row's term of the
            training loss, and of the held-out score early stopping judges,
            counts in proportion to its weight, as in ``MLPRegressor``.
            None, or equal weights, fit exactly as no weights do. Only the
            loss is weighted, not what is read from the rows around
            training: each column's scaling, range, categories, share of
            holes and ``"auto"`` likelihood, the ``"auto"`` architecture,
            and the statistics fitted after training (``kl_per_dim_``, the
            distribution of codes ``sample`` draws from). To weight those
            too, repeat rows in proportion to their weights
            (``X[rng.choice(len(X), size=n, p=w / w.sum())]``).
"""

FROM_LIKELIHOOD_PARAMETER = """\
        from_likelihood : bool, default=True
            True: each row is drawn from p(x | z) for its code, with the
            likelihood's noise (a category drawn from its probabilities, a
            0/1 column drawn 0 or 1, a grey level at its probability), and
            holes at each column's training rate, as a synthesizer of new
            rows draws them (each column's holes on their own, whatever the
            row's values and its other holes: which columns were missing
            together is not learned); on real tables this matched their
            marginals and pairs better than the means (docs/synthesis.md).
            False: each row is the decoder's mean for its code (a
            probability for a float Bernoulli column, 0 or 1 for a
            DataFrame's bool or integer one, by the probability's side of
            1/2; the most probable category, a count's mean, a log-normal
            column's median, rounded for a DataFrame's integer column: an
            array's columns come back as floats, whatever its dtype).
            Either way numeric columns stay
            within their training range. The first rows' codes do not depend
            on ``n_samples``, so with False neither do the first rows; their
            draws from p(x | z) and holes do (as ``GaussianMixture.sample``'s
            rows do).
"""

SAMPLE_RETURNS = """\
        X_new : ndarray or DataFrame of shape (n_samples, n_features)
            One row decoded from each drawn code, in the units of X, as
            ``from_likelihood`` says: by default drawn from p(x | z) (0 or
            1 for a Bernoulli column that held only 0 and 1 at fit, the
            probability itself for grey levels; an image's float pixels
            alike, 0 or 1 only where every pixel held only 0 and 1), with
            ``from_likelihood=False`` the decoder's mean (a probability for
            a float Bernoulli column; a DataFrame's bool or integer one
            comes back 0 or 1, in its dtype). A
            DataFrame in the training columns and dtypes for a model fitted
            on one, each float column of real values rounded to the fewest
            digits after the point that showed every training value, up to
            6 (whole numbers for a float column of whole numbers, an integer
            column with holes as ``read_csv`` gives it; one place for
            lengths in tenths), as SDV's synthesizers round;
            otherwise a float64 array, whatever X's float dtype was
            (as ``GaussianMixture.sample``).
"""

DOCS = {
    "from_likelihood_parameter": FROM_LIKELIHOOD_PARAMETER,
    "sample_weight_parameter": SAMPLE_WEIGHT_PARAMETER,
    "sample_returns": SAMPLE_RETURNS,
    "network_parameters": NETWORK_PARAMETERS,
    "denoising_parameters": DENOISING_PARAMETERS,
    "likelihood_parameters": LIKELIHOOD_PARAMETERS + "\n" + HANDLE_UNKNOWN_PARAMETER,
    "likelihood_parameter": LIKELIHOOD_PARAMETERS,
    "handle_unknown_parameter": HANDLE_UNKNOWN_PARAMETER,
    "vae_parameters": VAE_PARAMETERS,
    # For estimators whose free_bits paragraph differs (a default, per-layer values).
    "vae_parameters_but_free_bits": VAE_PARAMETERS[: VAE_PARAMETERS.index("    free_bits :")],
    # For the hierarchy, whose warm-up default differs as well.
    "vae_parameters_but_warmup_and_free_bits": VAE_PARAMETERS[: VAE_PARAMETERS.index("    kl_warmup :")],
    "vae_loss_attributes": VAE_LOSS_ATTRIBUTES,
    "vae_attributes": VAE_ATTRIBUTES,
    "column_attributes": COLUMN_ATTRIBUTES,
    "training_parameters": TRAINING_PARAMETERS,
    # For the VAE-GAN, whose stopping default differs.
    "training_parameters_before_n_iter_no_change": TRAINING_PARAMETERS[
        : TRAINING_PARAMETERS.index("    n_iter_no_change :")],
    "training_parameters_after_early_stopping": TRAINING_PARAMETERS[
        TRAINING_PARAMETERS.index("    validation_fraction :"):],
    "training_attributes": TRAINING_ATTRIBUTES,
    "stopping_attributes": STOPPING_ATTRIBUTES,
    "input_attributes": INPUT_ATTRIBUTES,
}


def _filled(doc):
    lines = []
    for line in doc.split("\n"):
        name = line.strip()
        if name.startswith("${") and name.endswith("}"):
            lines.append(DOCS[name[2:-1]].rstrip("\n"))
        else:
            lines.append(line)
    return "\n".join(lines)


def fill_doc(cls):
    """Class decorator: put the shared paragraphs into ``cls.__doc__`` and its own methods' docstrings."""
    if cls.__doc__ is None:  # python -OO strips docstrings
        return cls
    cls.__doc__ = _filled(cls.__doc__)
    for method in vars(cls).values():
        if callable(method) and getattr(method, "__doc__", None) and "${" in method.__doc__:
            method.__doc__ = _filled(method.__doc__)
    return cls
