"""Serving graphs: ``transform`` and ``inverse_transform`` as torch modules, and as ONNX files.

A graph is the model's own modules, the front included
(``skvae.nn.columns``): what the estimator's method does to a row, and
nothing of scikit-learn. The transform graph reads X's columns as numbers,
as the front does (a category as its index in the fitted categories, a date
as nanoseconds since the epoch, NaN for a missing entry) and returns the
codes; the inverse_transform graph reads codes and returns each column's
decoded mean in X's units (a category's index). Any number of rows.
"""

import copy
import logging
import os
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._persistence import write_whole
from ._warnings import caught_warnings
from .nn import Batch

METHODS = ("transform", "inverse_transform")
# Graphs with more weights than this are written as torch writes them, the weights in a file
# beside the model (torch's own threshold for that), and not as one file written whole.
ONNX_WHOLE_FILE_BYTES = 1536 * 1024 * 1024


def method_dtype(given):
    """The dtype a method returns for input of torch dtype ``given``: float32 for float32, float64 for any other.

    ``skvae._validation.output_dtype``'s rule, which the graphs keep so that they return what the methods do.
    """
    return torch.float32 if given == torch.float32 else torch.float64


def _trainable_copy(model):
    """A copy of ``model`` on the CPU, in eval mode; of normal tensors even inside ``torch.inference_mode()``."""
    # Copied in inference mode, its tensors were inference tensors, which no later backward can use.
    with torch.inference_mode(False):
        return copy.deepcopy(model).cpu().eval()


class TransformGraph(nn.Module):
    """Rows ``(batch, n_features)`` of X's values to codes ``(batch, latent_dim)``, in ``transform``'s dtype."""

    def __init__(self, model, condition=None):
        super().__init__()
        self.model = _trainable_copy(model)
        # A conditional model's "no condition" input.
        self.register_buffer("condition", None if condition is None else torch.as_tensor(condition))

    def forward(self, x):
        condition = None
        if self.condition is not None:
            condition = self.condition.expand(x.shape[0], -1)
        # The network computes in float32.
        values = self.model.columns.unknown_categories_as_holes(x)
        return self.model.code(Batch(self.model.columns(values), condition=condition)).to(method_dtype(x.dtype))


class ImputationGraph(nn.Module):
    """Rows of X's values with NaN holes to the same rows with the holes filled, as ``VAEImputer.transform``."""

    def __init__(self, model, placeholder=None, numeric=None, bounds=None, indicated=(), read=(), unread=(),
                 keep_unread=False):
        super().__init__()
        self.model = _trainable_copy(model)
        # VAEImputer's min_value and max_value, float64 as transform bounds its fills.
        low, high = (None, None) if bounds is None else (torch.as_tensor(bound, dtype=torch.float64) for bound in bounds)
        self.register_buffer("low", low)
        self.register_buffer("high", high)
        # VAEImputer's missing_values when it is a number: a hole in the columns that hold
        # numbers (``numeric``), as transform reads it; a category is an index here.
        # A float64 buffer, compared in X's dtype as transform compares: a Python float became a
        # float32 constant in an ONNX graph, which no float64 -99.9 then equalled.
        self.register_buffer("placeholder", None if placeholder is None else torch.tensor(placeholder, dtype=torch.float64))
        self.register_buffer("numeric", None if numeric is None else torch.as_tensor(numeric, dtype=torch.bool))
        # VAEImputer's columns without an observed value at fit (positions in X), which the model does
        # not read (it reads those at ``read``): left out of the output, or (keep_empty_features) kept
        # with their holes as 0.
        joined = list(read) + list(unread)  # the model's columns, then the unread ones
        self.register_buffer("read", torch.as_tensor(read, dtype=torch.long) if len(unread) else None)
        self.register_buffer("unread", torch.as_tensor(list(unread), dtype=torch.long) if len(unread) else None)
        self.register_buffer("order", torch.as_tensor(np.argsort(joined), dtype=torch.long)
                             if len(unread) and keep_unread else None)
        # VAEImputer's add_indicator: the columns (positions in X) whose holes the output marks after
        # X's, as places among ``joined``.
        place = {position: k for k, position in enumerate(joined)}
        self.register_buffer("indicated", torch.as_tensor([place[j] for j in indicated], dtype=torch.long)
                             if len(indicated) else None)

    def forward(self, x):
        if self.placeholder is not None:
            # An integer tensor too (the usual data for missing_values=-1): its fill is float64 anyway.
            x = x if x.dtype.is_floating_point else x.to(torch.float64)
            x = torch.where((x == self.placeholder.to(x.dtype)) & self.numeric, torch.nan, x)
        given = None
        if self.read is not None:
            given, x = x[:, self.unread], x[:, self.read]
        x = self.model.columns.unknown_categories_as_holes(x)
        bounds = None if self.low is None else (self.low, self.high)
        filled = self.model.impute(Batch(self.model.columns(x)), x.to(method_dtype(x.dtype)), bounds=bounds)
        if x.dtype.is_floating_point and x.dtype != torch.float64:
            # An imputer returns X's own float dtype, float16 too (as SimpleImputer does), a fill
            # beyond its range at its largest value rather than infinite. (float64's own range needs
            # no clamp, whose bound, float64's largest, the ONNX exporter warned of overflowing a cast.)
            largest = torch.finfo(x.dtype).max
            filled = filled.clamp(-largest, largest).to(x.dtype)
        out = filled
        if given is not None:
            if self.order is not None:
                kept = torch.where(torch.isnan(given), torch.zeros_like(given), given).to(filled.dtype)
                out = torch.cat([filled, kept], dim=1)[:, self.order]
            x = torch.cat([x, given.to(x.dtype)], dim=1)
        if self.indicated is None:
            return out
        return torch.cat([out, torch.isnan(x[:, self.indicated]).to(filled.dtype)], dim=1)


class InverseTransformGraph(nn.Module):
    """Codes ``(batch, latent_dim)`` to decoder means ``(batch, n_features)`` in X's units, in ``inverse_transform``'s dtype."""

    def __init__(self, model, conditions=None, weights=None):
        super().__init__()
        self.model = _trainable_copy(model)
        # A conditional model's classes and their training frequencies.
        self.register_buffer("conditions", None if conditions is None else torch.as_tensor(conditions))
        self.weights = weights

    def forward(self, z):
        codes = z.float()
        if self.conditions is None:
            out = self.model.decoded(codes)
        else:
            out = self.model.decoded_mixture(codes, self.conditions, self.weights)
        return out.to(method_dtype(z.dtype))


def serving_graph(estimator, method):
    """The torch module that computes ``method`` of the fitted ``estimator``, in eval mode."""
    return _graph(estimator, method).eval()


def _graph(estimator, method):
    check_method(method)
    if method == "transform":
        return TransformGraph(estimator.network_)
    return InverseTransformGraph(estimator.network_)


def check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")


def to_onnx(graph, path, method, width, dtype=np.float32):
    """Export ``graph`` (``method``'s) as an ONNX model with a dynamic batch dimension, reading ``dtype``.

    The file is written whole or not at all, as ``save`` writes: a failed
    write (a full disk) leaves the file that was there; a graph of more
    than ``ONNX_WHOLE_FILE_BYTES`` of weights is written by torch, with
    its weights beside the file.
    """
    dtypes = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
    try:
        example = torch.zeros(2, width, dtype=dtypes[np.dtype(dtype)])
    except (KeyError, TypeError):
        raise ValueError(f"dtype must be np.float32 or np.float64; got {dtype!r}.") from None
    if not isinstance(path, (str, bytes, os.PathLike)):
        # str(path) named a file after a file object's repr, and the object stayed empty.
        raise TypeError(f"path must be a file's path (str, bytes or os.PathLike): a large graph's weights are "
                        f"written in a file beside it; got {type(path).__name__}.")
    try:  # the exporter's own error said only which module, after building the graph
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(f'to_onnx needs the onnx and onnxscript packages ({error}): pip install '
                          '"skvae[onnx]".') from error
    name = "X"
    batch = torch.export.Dim("batch", min=1)
    # The exporter warns about torchvision operators, which skvae never uses.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with caught_warnings():
            # torch's exporter warns about its own pytree internals on every export.
            warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
            program = torch.onnx.export(
                graph, (example,), dynamo=True, input_names=[name],
                output_names=["X_new" if method == "transform" else "X_original"],
                dynamic_shapes={"x" if method == "transform" else "z": {0: batch}},
                verbose=False,
            )
    finally:
        registration.setLevel(level)
    # The exported graph's own constants, as torch counts them to choose (not the network's
    # weights: a transform graph holds no decoder, a conditional decoder's holds folded constants).
    weights = sum(v.const_value.nbytes for v in program.model.graph.initializers.values()
                  if v.const_value is not None)
    if weights > ONNX_WHOLE_FILE_BYTES:
        # One protobuf holds at most 2 GB: torch writes the weights beside the file (external data).
        program.save(os.fsdecode(os.fspath(path)), external_data=True)
    else:
        write_whole(path, program.model_proto.SerializeToString())  # the bytes program.save writes
    return path


class ExportMixin:
    """``to_torch`` and ``to_onnx`` for a fitted estimator whose ``_serving_graph(method)`` gives the module."""

    def to_torch(self, method="transform"):
        """The computation of ``transform`` or ``inverse_transform`` as a standalone torch module.

        The module is the model's own modules, its front included, so it
        computes what the method computes, for any number of rows it
        accepts, to float32's rounding (the method pads its blocks of rows
        so that a row's result never depends on the rows beside it; the
        module does not: about 1e-7 apart); it checks nothing (a value
        outside a likelihood's support, such as a negative amount in a
        log-normal column, on which ``transform`` raises, is read as the
        graph's arithmetic takes it: that amount as 0). The
        transform graph reads X as numbers, one column per column of X,
        float32 or float64: numbers and booleans as they are, a date as
        nanoseconds since the epoch (a duration as nanoseconds), a
        category as its index in ``column_categories_[name]``, NaN for a
        missing entry and for a category unseen at fit under
        ``handle_unknown="ignore"`` (an index no level has, such as pandas'
        ``cat.codes`` -1 for a hole, is read as a hole too), and
        returns the codes in ``transform``'s dtype (float32 for float32 X,
        float64 otherwise; computed in float32). The
        inverse_transform graph reads codes and returns each column's
        decoded mean in those units, in ``inverse_transform``'s dtype, unrounded
        (``inverse_transform`` then rounds an integer to a whole number and
        a date to the unit its training values were whole numbers of). The module holds a
        copy of the weights, on the CPU, in eval mode; ``torch.jit.trace``
        and ``torch.export.export`` accept it, for serving without skvae.
        Its weights keep ``requires_grad`` (the module can be trained
        further): serve it under ``torch.inference_mode()`` (or call
        ``.detach()``) before ``.numpy()``.

        Parameters
        ----------
        method : {"transform", "inverse_transform"}, default="transform"
            The method to compute. A conditional model's graphs compute them
            without y: the code without a condition, and the decoding
            averaged over the classes.

        Returns
        -------
        module : torch.nn.Module
        """
        check_is_fitted(self)
        return self._serving_graph(method)

    def _serving_graph(self, method):
        return serving_graph(self, method)

    def to_onnx(self, path, method="transform", dtype=np.float32):
        """Export ``transform`` or ``inverse_transform`` to ONNX, as ``to_torch`` computes it.

        The graph has a dynamic batch dimension and reads ``dtype`` tensors
        (see ``to_torch`` for what the columns hold); onnxruntime reproduces
        the estimator's method within 1e-5 relative. Pass
        ``dtype=np.float64`` for columns whose values float32 cannot hold
        to the precision they vary by (dates in nanoseconds, large offsets).
        Needs the ``onnx`` and ``onnxscript`` packages (``pip install
        skvae[onnx]``).

        Parameters
        ----------
        path : str, bytes or path-like
            Where to write the ``.onnx`` file: written whole or not at all,
            as ``save`` writes (a failed write leaves the file that was
            there). A graph holding over 1.5 GB of weights (the method's
            part of the network) is written as torch writes it, the weights
            in a ``.data`` file beside it.

        method : {"transform", "inverse_transform"}, default="transform"
            The method to export (see ``to_torch``).

        dtype : {np.float32, np.float64}, default=np.float32
            The graph input's dtype.

        Returns
        -------
        path : str or path-like
            ``path``, written.
        """
        check_is_fitted(self)
        width = self.n_features_in_ if method == "transform" else self._n_features_out
        return to_onnx(self._serving_graph(method), path, method, width, dtype)
