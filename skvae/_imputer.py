"""VAEImputer: missing values filled in by a VAE of the observed entries (MIWAE, HI-VAE)."""

import numbers
from numbers import Real
from warnings import warn

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, MissingValues
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._call_inputs import (
    HOLE_READ_AS,
    columns_with_holes,
    unknown_levels,
    warn_of_inputs_far_beyond,
    warn_of_new_holes,
    widened,
)
from ._data import map_rows
from ._docs import fill_doc
from ._export import ImputationGraph
from ._fill_bounds import fill_bounds
from ._kinds import column_kind
from ._random import draw_seed, seed_source
from ._schema import plain_value
from ._sources import block_rows, evaluation_chunk_rows
from ._vae import VAETransformer
from ._validation import as_pandas, call_parameter, output_dtype, with_plain_holes


def _no_inverse(imputer):
    # Raised here, the reason travels with scikit-learn's "has no attribute" as its cause.
    raise AttributeError("An imputer's output is X with the holes filled, not codes: there is nothing to invert. "
                         "For codes of X, fit a VAETransformer (it reads holes as they are).")


@fill_doc
class VAEImputer(VAETransformer):
    """Imputation of missing values with a variational autoencoder.

    A VAE is trained on the observed entries only: its bound sums each
    row's log-likelihood over the entries that are there, and its encoder
    reads, beside the values (0 for a hole), an indicator of each column
    that had holes at fit (Mattei & Frellsen 2019; Nazábal et al. 2020).
    ``transform`` encodes each row from what it has and fills its holes
    from the decoder; observed entries come back untouched (but for a
    category unseen at fit under ``handle_unknown="ignore"``, which counts
    as a hole and is filled). Mixed
    DataFrames work as with ``VAETransformer(likelihood="auto")``: a
    categorical hole gets a category, a count an integer.

    The scikit-learn face is ``SimpleImputer``'s and ``IterativeImputer``'s:
    ``fit``, ``transform``, ``fit_transform``, ``missing_values`` and
    ``sample_posterior``; the VAE's own methods (``score_samples``,
    ``sample``, ...) remain available. ``sample`` draws rows as the
    training rows came, holes included at each column's rate
    (``from_likelihood=True``, the default), as missing values (NaN,
    None in a column of Python objects, ``pd.NA`` in a nullable one), not
    as the placeholder;
    ``sample(n, from_likelihood=False)`` gives complete rows.

    Parameters
    ----------
    latent_dim : int, default=2
        Dimension of the code z, through which every hole is filled: raise
        it on a wide table, whose columns need more than two dimensions to
        fill each other's holes (breast cancer's 30 columns with 20% of the
        entries hidden, seed 0: an RMSE of 0.62 standard deviations at 2,
        0.45 at 8, ``IterativeImputer`` 0.43).

    missing_values : int, float, str, np.nan, None or pandas.NA, default=np.nan
        The placeholder for missing values, as in ``SimpleImputer``; NaN
        and ``pd.NA`` are always missing too. A DataFrame's integer or bool
        column that holds the placeholder at fit is modelled, and comes
        back, in pandas' nullable dtype (``Int64``, ``boolean``), which can
        hold a hole, with whole-number fills (a bool column's values match
        a bool placeholder only, and a column of numbers' a number:
        ``missing_values=0`` leaves False values observed); a categorical column's
        placeholder level is left out of its categories in what comes back
        (``transform``'s and ``sample``'s). A number is compared in X's
        dtype: -99.9 (or ``np.float64(-99.9)``) marks float32 X's -99.9,
        which ``SimpleImputer`` misses for a NumPy float64.

    sample_posterior : bool, default=False
        False: fill each hole with the decoder's value at the posterior
        mean code (the mean of a Gaussian column, the median of a
        log-normal one, the most probable category or count of a discrete
        one: a negative binomial's falls towards 0 as its learned
        overdispersion grows, below the column's mean). True: draw the code from
        q(z | observed entries) and the hole from p(x | z), from a generator
        seeded by ``random_state``: repeated ``fit_transform`` calls with
        different ``random_state`` give multiple imputations (Rubin 1987)
        whose spread reflects the uncertainty. The same X gives the same
        draws; a row's draw depends on the rows imputed with it.

    min_value : float or array-like of shape (n_features,), default=-np.inf
        Smallest value a fill may take, as in ``IterativeImputer``: a
        scalar for every column of numbers but booleans and columns
        modelled on [0, 1] (flags, shares, pixels, where a floor meant for
        amounts would decide every fill), or one bound per column in X's
        column order (a Series is read by the training columns' names,
        which its labels must be, or for an array fitted without names by
        the features' positions; an infinity, None or NaN for none). A
        decoder's mean can lie beyond the values seen at fit, below 0 for
        an amount, say (``sample`` keeps its rows within the training
        range; fills are not bounded unless asked). Per column, a finite
        bound for a category, date or duration is refused, and so is one
        that no value of a frame column's dtype meets. A column whose fills are whole numbers (an
        integer dtype, a count likelihood) takes the whole numbers within
        its bounds. A finite scalar that bounds no column is refused,
        unless the columns it leaves already lie within it (``min_value=0``
        where every column is modelled on [0, 1], as "auto" may do on one
        fold's rows). Read at each call (``set_params`` on a fitted imputer
        takes effect), and in the exported graph as ``transform`` applies
        it.

    max_value : float or array-like of shape (n_features,), default=np.inf
        Largest value a fill may take, as ``min_value``.

    add_indicator : bool, default=False
        If True, ``transform`` appends, as ``IterativeImputer`` does, one
        column per column that had holes at fit, marking the entries it
        filled (``indicator_.features_`` lists those columns): a
        downstream model can then tell a filled value from an observed
        one. In X's float dtype (1.0 for a filled entry) after an array's
        columns; after a DataFrame's, as bool columns named
        ``missingindicator_<name>``, or ``("missingindicator", label)``
        where its labels are not all strings (scikit-learn then reads the
        output, as it read X, without feature names). A hole in a column
        that had none at fit is filled but not marked
        (``MissingIndicator(error_on_new=False)``), and an unseen category
        under ``handle_unknown="ignore"``, filled, is marked. Read at each
        call (``set_params`` on a fitted imputer takes effect), and in the
        exported graph as ``transform`` applies it (as floats there).

    keep_empty_features : bool, default=False
        What becomes of a column without an observed value at fit, from
        which there is nothing to learn: the model never reads it (its
        values at later calls change no fill, code or score), and, as in
        ``IterativeImputer``, ``transform`` leaves it out of its output
        (fit warns of it) or, if True, returns it with each hole filled
        with 0 and its observed values as they are (an object column where
        its dtype holds no number). ``sample``'s rows, too, leave it out or
        hold it, as floats (NaN holes, or 0 with ``from_likelihood=False``).
        A fit continued by ``partial_fit`` or ``warm_start=True`` keeps
        the first call's choice. With ``add_indicator=True`` it is marked
        either way, as a column that had holes at fit. A ``min_value`` or
        ``max_value`` per column gives it a bound, which is not read. Read
        at each call (``set_params`` on a fitted imputer takes effect), and
        in the exported graph as ``transform`` applies it. A pixel of an
        image (``image_shape``) is never left out: such a column is refused.

    ${network_parameters}

    ${vae_parameters}

    ${denoising_parameters}

    ${training_parameters}

    Attributes
    ----------
    ${training_attributes}

    ${vae_loss_attributes}

    ${stopping_attributes}

    ${vae_attributes}

    ${column_attributes}

    ${input_attributes}

    indicator_ : sklearn.impute.MissingIndicator or None
        The indicator ``add_indicator=True`` appends: its ``features_`` are
        the columns that had holes at fit, its ``missing_values`` this
        imputer's (NaN for ``pd.NA``). Used alone, it marks only that
        placeholder, as ``MissingIndicator`` does; ``transform`` marks
        every entry it fills (NaN, ``pd.NA`` and NaT too). Built from the
        fitted columns at each access (``set_params`` on it does not
        stick); None when ``add_indicator`` is False.

    See Also
    --------
    sklearn.impute.SimpleImputer : Imputation by a column statistic.
    sklearn.impute.IterativeImputer : Imputation by chained regressions.

    References
    ----------
    Mattei, P.-A. & Frellsen, J. (2019). MIWAE: Deep Generative Modelling and
    Imputation of Incomplete Data Sets. ICML.

    Nazábal, A., Olmos, P. M., Ghahramani, Z. & Valera, I. (2020). Handling
    Incomplete Heterogeneous Data using VAEs. Pattern Recognition.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 5))
    >>> X[rng.rand(200, 5) < 0.2] = np.nan
    >>> filled = VAEImputer(max_iter=20, random_state=0).fit_transform(X)
    >>> bool(np.isnan(filled).any()), bool(np.array_equal(filled[~np.isnan(X)], X[~np.isnan(X)]))
    (False, True)
    """

    _parameter_constraints: dict = {
        **VAETransformer._parameter_constraints,
        "missing_values": [MissingValues()],
        "sample_posterior": ["boolean"],
        "min_value": [None, Interval(Real, None, None, closed="both"), "array-like"],
        "max_value": [None, Interval(Real, None, None, closed="both"), "array-like"],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
    }
    _unobserved_columns_unread = True

    def __init__(
        self,
        latent_dim=2,
        *,
        missing_values=np.nan,
        sample_posterior=False,
        min_value=-np.inf,
        max_value=np.inf,
        add_indicator=False,
        keep_empty_features=False,
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
        self.missing_values = missing_values
        self.sample_posterior = sample_posterior
        self.min_value = min_value
        self.max_value = max_value
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    def _validate_fit(self, X, y, incremental, condition_options):
        data = super()._validate_fit(X, y, incremental, condition_options)
        self._fill_bounds()  # refused before training, as IterativeImputer's fit refuses them
        unread = [name for _, name in self._schema.unread]
        if data.fresh and unread and not call_parameter(self, "keep_empty_features"):
            later = (" partial_fit's first call decides this: values that later blocks hold there are not read."
                     if incremental else "")
            warn(
                f"{type(self).__name__}: skipping features without any observed values: {unread[:5]}"
                f"{', ...' if len(unread) > 5 else ''} ({len(unread)} of {self.n_features_in_} columns have no "
                f"observed value in the {data.X.shape[0]} training rows). transform leaves them out of its "
                f"output, as IterativeImputer does; keep_empty_features=True keeps them, filled with 0.{later}",
                UserWarning,
            )
        return data

    def _fill_bounds(self):
        """``(low, high)``: float64 bounds of each column's fills in X's units, or None where none is bounded."""
        return fill_bounds(self._schema, call_parameter(self, "min_value"), call_parameter(self, "max_value"))

    def _validated(self, X, reset, likelihood=None):
        frame_fitted = not reset and self._schema.frame
        try:
            return super()._validated(self._marked(as_pandas(X), frame_fitted), reset, likelihood)
        except ValueError as error:
            string = getattr(error, "string", None)
            if string is None:
                raise
            raise ValueError(f"{error} Or, if {string!r} marks the missing values, say so: "
                             f"VAEImputer(missing_values={string!r}).") from None

    def _marked(self, X, frame_fitted=False):
        """X with its ``missing_values`` placeholders as NaN (a copy, when there are any).

        ``frame_fitted``: the model reads X by columns, as the frame it was fitted on, so an array of
        strings or objects keeps its values (a category "01234" is not the number 1234).
        """
        placeholder = self.missing_values
        if isinstance(placeholder, np.generic):
            # As a Python number, compared in X's dtype (a float32 -99.9 is a hole), as save/load
            # and the exported graph read it: numpy's float64 -99.9 matched no float32 value.
            placeholder = placeholder.item()
        if placeholder is None or placeholder is pd.NA or (isinstance(placeholder, float) and np.isnan(placeholder)):
            return X  # holes already
        if isinstance(X, pd.DataFrame):
            hits = X == placeholder
            # A flag is no number: with missing_values=0, False == 0 made every False flag a hole, filled
            # as True (and missing_values=False each 0.0 of a column of numbers).
            other_kind = "iufc" if isinstance(placeholder, bool) else "b"
            unlike = [j for j, dtype in enumerate(X.dtypes) if dtype.kind in other_kind]
            if unlike:
                hits.iloc[:, unlike] = False
            marked = X.mask(hits)
            for j in np.flatnonzero(hits.any().to_numpy()):
                column = X.iloc[:, j]
                if column.dtype.kind in "iub":
                    # As pandas' nullable dtype, which the model then keeps (Int64 in, Int64 out):
                    # mask() made an integer column float, fitted as one and filled with fractions.
                    marked.isetitem(j, column.astype(_nullable(column.dtype)).mask(hits.iloc[:, j]))
            for j, dtype in enumerate(X.dtypes):
                # A categorical dtype keeps the placeholder among its categories after mask(): the
                # model would hold a level for it, which sample and fills could give back.
                if isinstance(dtype, pd.CategoricalDtype) and placeholder in dtype.categories:
                    marked.isetitem(j, marked.iloc[:, j].cat.remove_categories([placeholder]))
            return marked
        if sp.issparse(X):
            if placeholder == 0:
                raise ValueError(
                    "Imputation is not possible when missing_values == 0 and X is sparse: the implicit "
                    "zeros would all be holes. Provide a dense array, or mark holes as NaN."
                )
            # Its own copy, in a format that sums duplicates (DIA, LIL and DOK do not).
            X = X.copy() if hasattr(X, "sum_duplicates") else X.tocsr()
            X.sum_duplicates()  # a placeholder stored as two entries is one value
            if X.dtype.kind != "f":
                X = X.astype(np.float64)
            X.data[X.data == placeholder] = np.nan
            return X
        # A frame-fitted model reads a list's rows as the frame's (a list of floats and strings is
        # not all strings).
        X = np.asarray(X, dtype=object) if frame_fitted and isinstance(X, (list, tuple)) else np.asarray(X)
        if X.dtype.kind in "USO" and (frame_fitted or isinstance(placeholder, str)):
            # Value by value, before any string is read as a number: pd.NA compares as NA, which
            # no mask takes. A hole is NaN in an object array (a string "nan" would be a value).
            hits = np.frompyfunc(lambda value: _is_placeholder(value, placeholder), 1, 1)(X).astype(bool)
            if hits.any():
                X = np.where(hits, np.nan, X.astype(object))
            if frame_fitted:
                return X
        if X.dtype.kind in "USO":
            X = with_plain_holes(X)  # pd.NA a hole, "1.5" the number: comparable with a number
        if X.dtype.kind in "biufO" and isinstance(placeholder, str):
            return X  # a string placeholder cannot occur among numbers
        holes = X == placeholder
        if X.dtype.kind in "iub":
            X = X.astype(np.float64)
        return np.where(holes, np.nan, X) if holes.any() else X

    def transform(self, X):
        """Fill the missing entries of X; observed entries come back as they were.

        (But for a category unseen at fit under ``handle_unknown="ignore"``,
        which counts as a hole and is filled.) A DataFrame's column comes back
        in its training dtype, so an observed value that dtype cannot hold
        (2.5 in a column of integers) is refused, and a float64 value in a
        column that was float32 at fit takes float32's rounding, as that
        column's training values did (fit on the float64 frame to keep them).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with holes (NaN, ``pd.NA`` or ``missing_values``).

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            X without holes (and, with ``add_indicator=True``, the missing
            indicator's columns after X's): an array in X's float dtype (dense for a
            sparse X too, which ``SimpleImputer`` keeps sparse), or, for a
            DataFrame fitted column by column, a DataFrame with the
            training columns and dtypes. Nullable ones (``Int64``) read
            as objects where scipy stacks the output beside a sparse
            step's (``FeatureUnion``): follow the imputer with
            ``FunctionTransformer(np.asarray, kw_args={"dtype": float},
            feature_names_out="one-to-one")``.
        """
        model, device = self._inference_model()
        given, given_dtype = X, getattr(X, "dtype", None)  # an array's: float16 comes back float16, as SimpleImputer's does
        whole = self._validated(X, reset=False)
        schema, columns = self._schema, model.columns
        if schema.frame and list(whole.columns) != schema.input_names:
            # A frame without the training names (scikit-learn has warned) is read by position, as
            # an array is: the output names its columns as the training frame did.
            whole = whole.set_axis(schema.input_names, axis=1)
        X = schema.read(whole)
        n_read = len(schema.columns)
        generator = None
        if call_parameter(self, "sample_posterior"):
            generator = torch.Generator(device=device).manual_seed(self._imputation_seed)
        bounds = self._fill_bounds()
        if bounds is not None:
            bounds = tuple(torch.from_numpy(bound).to(device) for bound in bounds)

        # Categorical columns without holes at fit, where an unseen category read as a hole is told of.
        flagged = set(columns.flagged)
        unflagged = [j for j, c in enumerate(schema.columns) if c.categories is not None and j not in flagged]
        unknown, far = set(), {}
        indicated = self._indicated_columns()
        # The read columns among them, by their place among the model's columns.
        marked = list(schema.flagged) if indicated else []

        def prepare(block, first_row):
            values = schema.values(block, first_row, handle_unknown=self._handle_unknown)
            widened(far, schema.inputs_far_beyond_support(values))
            if unflagged and np.isnan(values.sum()):
                # Only where those columns read a hole: a hole elsewhere (the usual fill) costs nothing.
                holed = np.asarray(unflagged)[np.isnan(values[:, unflagged]).any(axis=0)]
                unknown.update(unknown_levels(block, values, holed, schema))
            return values

        def fill(values, condition, n_rows, first_row):
            batch = self._encoded(columns, values, condition, n_rows, first_row, targets=False,
                                  frame=X if schema.frame else None)
            values = values.double()
            filled = model.impute(batch, values, generator, bounds)
            # A frame's holes, which restoring its columns reads: its unknown levels among them.
            if schema.frame:
                return torch.cat([filled, torch.isnan(values).double()], dim=1)
            return torch.cat([filled, torch.isnan(values[:, marked]).double()], dim=1) if marked else filled

        # Draws from one generator in order follow the chunks' padded sizes: on a CPU, streamed wide
        # X took smaller chunks than the same X in memory, and other draws; both take the smaller
        # here. (A GPU pads every chunk to one size: smaller chunks there would multiply the work.)
        chunk_rows = evaluation_chunk_rows(X)
        if generator is not None and device.type == "cpu":
            chunk_rows = block_rows(X.shape[1])
        options = {"device": device, "prepare": prepare, "chunk_rows": chunk_rows,
                   "work_per_row": self._multiply_adds(model), "in_order": generator is not None}
        if not schema.frame:
            # Written in X's float dtype, chunk by chunk, within its range: a float64 buffer of fills
            # and hole flags beside the output peaked at 5 times a float32 output (SimpleImputer: 1.5).
            dtype = np.dtype(given_dtype if given_dtype in (np.float16, np.float32, np.float64) else output_dtype(X))
            filled = map_rows(X, fill, n_read + len(marked), out_dtype=dtype, saturate=True, **options)
            new_holes = columns_with_holes(X) - flagged
        else:
            out = map_rows(X, fill, 2 * n_read, **options)
            filled, holes = out[:, :n_read], out[:, n_read:] > 0
            new_holes = set(np.flatnonzero(holes.any(axis=0)).tolist()) - flagged
        warn_of_inputs_far_beyond(self, far)
        # Masking hid entries in training as a hole reads here (a zero input): it learnt them.
        if new_holes and not self._learnt_to_read_any_hole():
            warn_of_new_holes(
                self,
                new_holes,
                f"The model never learnt to read a hole there: its encoder takes one {HOLE_READ_AS}, "
                "and the fills lean on the other columns less well. Fit on rows with holes in these "
                'columns, as the rows to fill have them, or, where the training rows have none, with '
                'corruption="masking", which hides entries while training.',
                unknown & new_holes,
            )
        if not schema.frame:
            if not schema.unread:
                return filled
            return self._with_unread(whole, filled[:, :n_read], filled[:, n_read:], indicated)
        out = self._restored_frame(X, filled, holes)
        if schema.unread:
            out = self._with_unread(whole, out, holes[:, marked], indicated)
        elif indicated:
            out = pd.concat([out, self._indicator_frame(holes[:, indicated], out.index, indicated)], axis=1)
        return self._in_polars_dtypes(out, given)

    def _in_polars_dtypes(self, out, given):
        """``out`` in a polars X's own column dtypes, where ``set_output`` asks for polars.

        scikit-learn's polars output converts the pandas frame as polars reads
        pandas: an Enum became a Categorical (its level order and unused levels
        lost), a Date a Datetime, a Decimal(10, 2) a Decimal(5, 2). A polars
        frame it passes on as it is.
        """
        if type(given).__module__.split(".")[0] != "polars" or \
                _get_output_config("transform", self)["dense"] != "polars":
            return out
        import polars as pl

        schema = given.collect_schema() if hasattr(given, "collect_schema") else given.schema
        frame = pl.DataFrame(out)
        try:
            return frame.cast({name: dtype for name, dtype in schema.items() if name in frame.columns})
        except pl.exceptions.PolarsError:  # a dtype polars cannot cast to: as scikit-learn converts it
            return out

    def _with_unread(self, whole, out, marks, indicated):
        """``transform``'s output with the unread columns: kept (holes as 0) or left out; then every indicator.

        ``out``: the read columns filled, ``marks`` the holes of the read
        columns that had holes at fit (under ``add_indicator``); ``whole``:
        X with all its columns.
        """
        schema = self._schema
        positions = schema.unread_positions
        given, holes = schema.unread_part(whole)
        if call_parameter(self, "keep_empty_features"):
            kept = ([_zero_filled(given.iloc[:, k], holes[:, k]) for k in range(len(positions))] if schema.frame
                    else np.where(holes, 0, given).T)
            out = self._with_unread_columns(out, kept)
        if not indicated:
            return out
        read = schema.read_positions
        sources = {read[j]: marks[:, k] for k, j in enumerate(schema.flagged)}
        sources.update({position: holes[:, k] for k, position in enumerate(positions)})
        marked = np.column_stack([sources[position] for position in indicated])
        if not schema.frame:
            return np.hstack([out, marked.astype(out.dtype)])
        return pd.concat([out, self._indicator_frame(marked.astype(bool), out.index, indicated)], axis=1)

    def _indicator_frame(self, marked, index, indicated):
        """The indicator's bool columns of a frame's output, named as scikit-learn names them."""
        labels = self._schema.input_names
        if all(isinstance(label, str) for label in labels):
            names = list(self.indicator_.get_feature_names_out(labels))
        else:
            # A string beside other labels makes scikit-learn refuse the frame's feature names.
            names = [("missingindicator", labels[j]) for j in indicated]
        return pd.DataFrame(marked, index=index, columns=pd.Index(names, tupleize_cols=False))

    def _sample(self, n_samples, random_state, y=None, from_likelihood=True):
        rows = super()._sample(n_samples, random_state, y, from_likelihood)
        schema = self._schema
        if not schema.unread or not call_parameter(self, "keep_empty_features"):
            return rows
        # Kept as transform keeps it: holes, as every training row had there, or transform's fill.
        fill = np.nan if from_likelihood else 0.0
        return self._with_unread_columns(rows, [np.full(len(rows), fill)] * len(schema.unread))

    def _with_unread_columns(self, out, columns):
        """``out``, the read columns (a frame of its own, or an array), with ``columns``, one for each unread
        column, in their places in X."""
        schema = self._schema
        if schema.frame:
            for (position, name), column in zip(schema.unread, columns):
                out.insert(position, name, column, allow_duplicates=True)
            return out
        whole = np.empty((out.shape[0], self.n_features_in_), dtype=out.dtype)
        whole[:, schema.read_positions] = out
        for position, column in zip(schema.unread_positions, columns):
            whole[:, position] = column
        return whole

    def _restored_frame(self, X, filled, holes):
        """X's frame with its holes (``holes``) taking the fills (``filled``), each column in its training dtype."""
        schema = self._schema
        # Observed entries are X's own, untouched; the holes take the decoded values in the column's dtype.
        restored = schema.restore(filled, index=X.index)
        out = X.copy()
        # Float columns in their training dtype are filled together, by dtype: one at a time, a
        # table of 1,000 such columns took 280 ms against the array's 22.
        floats = {}
        for j, (dtype, training_dtype) in enumerate(zip(out.dtypes, restored.dtypes)):
            if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype == training_dtype:
                floats.setdefault(dtype, []).append(j)
        for dtype, positions in floats.items():
            given = out.iloc[:, positions].to_numpy(dtype=dtype)
            out.iloc[:, positions] = np.where(holes[:, positions], restored.iloc[:, positions].to_numpy(dtype=dtype), given)
        done = {j for positions in floats.values() for j in positions}
        for j, column in enumerate(schema.columns):
            if j in done:
                continue
            name, hole = column.name, holes[:, j]
            # pandas calls unordered categories in another order the same dtype: not the training one.
            if hole.any() or out[name].dtype != restored[name].dtype or _other_category_order(out[name], restored[name]):
                filled_column = restored[name].copy()
                kept = np.flatnonzero(~hole)
                if kept.size:  # holes alone (a record's lone NaT, typed without its zone) keep nothing
                    # In the training dtype: a bool column given as 0/1 comes back bool.
                    filled_column.iloc[kept] = _as_training_dtype(X[name].iloc[kept], filled_column.dtype, name)
                out[name] = filled_column
        return out

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit to X, then fill its holes.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with holes.

        y : None
            Ignored.

        ${sample_weight_parameter}

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            As ``transform``'s: X's columns, then the indicator's with
            ``add_indicator=True``.
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def to_torch(self, method="transform"):
        """The imputation, ``transform``, as a standalone torch module.

        The module reads X as ``VAETransformer.to_torch``'s transform graph
        does (numbers, a category as its index in ``column_categories_``, NaN
        for a hole, and ``missing_values`` where it is a number, in the
        columns of numbers, booleans included, but not dates or durations,
        as ``transform`` reads it) and returns the same rows, in X's dtype, with
        every hole filled by its most probable value, in those units, unrounded:
        ``transform`` then rounds an integer column's fill to a whole number
        and a date's to the unit its training values were whole numbers of
        (``column_time_units_``). With ``add_indicator=True``, the
        indicator's columns follow, 1.0 where a hole was filled. Only the
        deterministic imputation exports: with ``sample_posterior=True`` it
        raises.

        Parameters
        ----------
        method : {"transform"}, default="transform"
            The method to compute.

        Returns
        -------
        module : torch.nn.Module
        """
        return super().to_torch(method)

    def to_onnx(self, path, method="transform", dtype=np.float32):
        """Export the imputation, ``transform``, to ONNX, as ``to_torch`` computes it.

        Parameters
        ----------
        path : str or path-like
            Where to write the ``.onnx`` file.

        method : {"transform"}, default="transform"
            The method to export.

        dtype : {np.float32, np.float64}, default=np.float32
            The graph input's dtype.

        Returns
        -------
        path : str or path-like
            ``path``, written.
        """
        return super().to_onnx(path, method, dtype)

    def _serving_graph(self, method):
        if method != "transform":
            why = (" Its output is X with the holes filled, not codes, so it has no inverse_transform."
                   if method == "inverse_transform" else "")
            raise ValueError(f"A VAEImputer exports its transform, the imputation; got method={method!r}.{why}")
        if call_parameter(self, "sample_posterior"):
            raise ValueError(
                "sample_posterior=True draws each fill at random, which an exported graph does not "
                "reproduce. Set sample_posterior=False to export the deterministic imputation."
            )
        placeholder, numeric = self.missing_values, None
        if isinstance(placeholder, numbers.Real) and not np.isnan(placeholder):
            # Not in a date or duration column either, which transform's X == missing_values never matches.
            numeric = [column.categories is None and column.kind not in ("datetime", "timedelta")
                       for column in self._schema.columns]
            for position in self._schema.unread_positions:
                numeric.insert(position, True)  # not read, but kept or marked as transform marks its holes
        else:
            placeholder = None  # NaN, None and pd.NA are NaN in the graph; a string is a category's index
        return ImputationGraph(self.network_, placeholder, numeric, self._fill_bounds(),
                               indicated=self._indicated_columns(), read=self._schema.read_positions,
                               unread=self._schema.unread_positions,
                               keep_unread=call_parameter(self, "keep_empty_features")).eval()

    @available_if(_no_inverse)
    def inverse_transform(self, X):
        """Not available: an imputer's output is X itself, not codes."""

    def get_feature_names_out(self, input_features=None):
        """The input feature names: an imputer keeps its columns; then the indicator's, if any.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        indicator = self.indicator_
        out = names[self._output_positions()]
        if indicator is None:
            return out
        return np.concatenate([out, indicator.get_feature_names_out(names)])

    @property
    def _n_features_out(self):
        return len(self._output_positions()) + len(self._indicated_columns())

    def _output_positions(self):
        """Positions in X of the columns ``transform`` returns (before the indicator's)."""
        if not self._schema.unread or call_parameter(self, "keep_empty_features"):
            return list(range(self.n_features_in_))
        return self._schema.read_positions

    def _indicated_columns(self):
        """Positions in X of the columns whose holes ``transform`` marks: those with holes at fit, under ``add_indicator``."""
        if not call_parameter(self, "add_indicator"):
            return []
        schema = self._schema
        read = schema.read_positions
        return sorted([read[j] for j in schema.flagged] + schema.unread_positions)

    @property
    def indicator_(self):
        check_is_fitted(self)
        if not call_parameter(self, "add_indicator"):
            return None
        # Fitted on one row with the placeholder where the columns had holes at fit, and another
        # value elsewhere: its features_ are those columns, and it reads X by the placeholder, as
        # IterativeImputer's does, with no copy of X kept.
        placeholder = self.missing_values
        if placeholder is pd.NA or (isinstance(placeholder, float) and np.isnan(placeholder)):
            placeholder = np.nan
        holes = np.zeros((1, self.n_features_in_), dtype=bool)
        holes[0, self._indicated_columns()] = True
        if placeholder is None or isinstance(placeholder, str):
            row = np.where(holes, placeholder, "observed").astype(object)
        else:
            row = np.where(holes, placeholder, 0.0 if placeholder != 0 else 1.0)
        # Imported here: sklearn.impute brings neighbors, svm and more (50 ms of every cold start).
        from sklearn.impute import MissingIndicator

        return MissingIndicator(missing_values=placeholder, error_on_new=False).fit(row)

    @property
    def _imputation_seed(self):
        return draw_seed(seed_source(self._score_seed))


def _zero_filled(column, holes):
    """An unread column kept by ``keep_empty_features``: its ``holes`` 0 (its dtype kept where it holds a number)."""
    if column.dtype.kind in "iufc":
        return column.mask(holes, 0)
    return column.astype(object).mask(holes, 0)


def _is_placeholder(value, placeholder):
    """Whether one value of an object, string or bytes array is the placeholder (pd.NA, an array: no)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")  # b"?" is the placeholder "?"
    try:
        return value is not pd.NA and bool(value == placeholder)
    except (TypeError, ValueError):  # an array in a cell, which the schema refuses by name
        return False


def _nullable(dtype):
    """pandas' nullable dtype of a numpy integer or bool dtype: int64 -> Int64, bool -> boolean."""
    if dtype.kind == "b":
        return pd.BooleanDtype()
    return pd.api.types.pandas_dtype(f"{'UInt' if dtype.kind == 'u' else 'Int'}{8 * dtype.itemsize}")


def _as_training_dtype(observed, dtype, name):
    """Observed entries in the column's training dtype, refused where that would change them.

    An integer or boolean column given as floats (holes make pandas hold it
    so) comes back in its own dtype; 2.5 cannot, and truncating it would
    return an observed entry changed. So with a date or duration in a
    coarser unit than given (10:20:30.999 in seconds), and a float beyond a
    narrower float's range; a float64 into a float32 column takes float32's
    rounding, as the column's values do.
    """
    try:
        converted = observed.astype(dtype)
    except (TypeError, ValueError):
        converted = None
    changed = None
    if converted is None:
        changed = np.ones(len(observed), dtype=bool)
    elif pd.api.types.is_numeric_dtype(dtype):  # integers, bools, floats
        given = pd.to_numeric(observed, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        kept = converted.to_numpy(dtype=np.float64, na_value=np.nan)
        # A float column changes a value only by overflowing (its rounding is the column's own).
        changed = np.isfinite(given) & ~np.isfinite(kept) if pd.api.types.is_float_dtype(dtype) else given != kept
    elif column_kind(dtype) in ("datetime", "timedelta"):
        changed = (converted.reset_index(drop=True) != observed.reset_index(drop=True)).to_numpy(dtype=bool)
    if changed is not None and changed.any():
        row = int(np.flatnonzero(changed)[0])
        value = observed.iloc[row]
        raise ValueError(
            f"Column {name!r} was {dtype} at fit, but row {plain_value(observed.index[row])!r} holds "
            f"{plain_value(value)!r}, which {dtype} cannot hold: the imputer "
            "returns observed entries as they are, in the column's training dtype. Round the "
            "column first, or fit on it in a dtype that holds it."
        )
    return converted.to_numpy()


def _other_category_order(given, training):
    """Whether two categorical columns list their categories in different orders."""
    return isinstance(given.dtype, pd.CategoricalDtype) and isinstance(training.dtype, pd.CategoricalDtype) \
        and not given.cat.categories.equals(training.cat.categories)
