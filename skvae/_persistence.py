"""Saving and loading: a plain state for pickle and skops, and a file format that runs no code.

``plain_state`` turns a fitted estimator's ``__dict__`` into builtins and
numpy arrays: the torch model becomes its architecture and its weights, so
pickles hold no torch objects (a model trained on a GPU loads on any
machine) and skops needs to trust only the estimator's class. ``save``
writes the same state as JSON beside a safetensors file of the arrays, in
one zip archive; ``load`` reads it back without unpickling anything.
"""

import base64
import contextlib
import datetime
import decimal
import errno
import functools
import inspect
import io
import json
import os
import secrets
import shutil
import zipfile
import zlib
from importlib import import_module

import dateutil.tz
import numpy as np
import pandas as pd
import sklearn
import sklearn.base
import torch
from sklearn.utils.validation import check_is_fitted

from ._architecture import ROUTED_PREFIXES
from ._conditions import Conditions
from ._data import Scaling, on_cpu_by_default
from ._kinds import column_kind
from ._schema import Column, Schema
from ._state_checks import (
    DamagedState,
    check_columns,
    check_number,
    pickled_state_checked,
    same,
    shown,
)
from ._training import History
from ._warnings import warn
from .nn.layers import all_finite

# 1: skvae 0.2.0.dev0 before mixed columns (a "_scaling"); 2: a "_layout" of the columns;
# 3: a "_schema" of the columns, their statistics in the model's own state.
FORMAT_VERSION = 3
_METADATA, _ARRAYS = "skvae.json", "arrays.safetensors"


# ---------------------------------------------------------------- plain state


def plain_state(estimator, state):
    """``state`` (a copy of the estimator's ``__dict__``) with every fitted object made plain."""
    state = dict(state)
    if "network_" in state:
        model = state["network_"]
        state["network_"] = {
            "n_condition": _n_condition(state),
            "state_dict": {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()},
        }
    if "_optimizer_state" in state:
        state["_optimizer_state"] = _to_numpy(state["_optimizer_state"])
    if "_schema" in state:
        state["_schema"] = _plain_schema(state["_schema"])
    if "_history" in state:
        state["_history"] = dict(vars(state["_history"]))
    if "_rng" in state:
        state["_rng"] = _plain_rng(state["_rng"])
    if "_metadata_request" in state:
        # Metadata routing's requests (set_partial_fit_request(classes=True)): {method: {param: alias}}.
        state["_metadata_request"] = state["_metadata_request"]._serialize()
    if "_conditions" in state:
        conditions = state["_conditions"]
        state["_conditions"] = {
            "classes": conditions.classes,
            "scaling": None if conditions.scaling is None else _plain_scaling(conditions.scaling),
            "n_covariates": conditions.n_covariates,
            "names": None if conditions.names is None else list(conditions.names),
        }
    return state


@on_cpu_by_default
def restore_state(estimator, state):
    """Undo ``plain_state``: rebuild the fitted objects, the torch model last."""
    state = dict(state)
    statistics = None
    if "_schema" in state:
        state["_schema"] = _restore_schema(state["_schema"])
    elif "_layout" in state or "_scaling" in state:  # formats 1 and 2
        state["_schema"], statistics = _schema_of_format_2(state)
    if "network_" in state and "_schema" not in state:
        raise ValueError("The saved state holds a network but no description of its columns: it is damaged.")
    if "_schema" in state and "n_features_in_" in state:
        schema = state["_schema"]
        if len(schema.columns) + len(schema.unread) != state["n_features_in_"] or \
                any(position >= state["n_features_in_"] for position in schema.unread_positions):
            raise DamagedState(f"{len(schema.columns)} columns and {len(schema.unread)} unread ones for "
                                f"n_features_in_={state['n_features_in_']}")
        names = state.get("feature_names_in_")
        if schema.frame and names is not None and [str(name) for name in names] != schema.input_names:
            raise DamagedState(f"columns {schema.input_names[:20]} for feature_names_in_ {list(names)[:20]}")
        check_columns(schema, state)
    if "network_" in state:
        state.setdefault("censored_bounds_", {})  # saved before censoring existed: none censored
        if state["censored_bounds_"] and state.get("noise_variance_") is not None:
            state["noise_variance_"] = None  # saved when it was reported for censored columns: as a fit gives it now
    if "_history" in state:
        state["_history"] = History(**state["_history"])
    check_number(state.get("_score_seed", 0), "its scoring seed", 0, 2**31 - 1, whole=True)  # as draw_seed draws it
    if not isinstance(state.get("_fitted_architecture", {}), dict):
        raise DamagedState(f"its architecture {state['_fitted_architecture']!r}, where a fit writes a dict")
    if "_rng" in state:
        rng = np.random.RandomState()
        try:
            rng.set_state(tuple(state["_rng"]))
        except (ValueError, TypeError, IndexError) as error:
            raise RuntimeError(f"its random state is not one numpy wrote ({error})") from None
        state["_rng"] = rng
    if "_conditions" in state:
        conditions = state["_conditions"]
        scaling = conditions["scaling"]
        state["_conditions"] = Conditions(
            classes=conditions["classes"],
            scaling=None if scaling is None else Scaling(**scaling),
            n_covariates=conditions["n_covariates"],
            names=None if conditions.get("names") is None else tuple(conditions["names"]),  # saved before: None
        )
        # classes_ and class_prior_ repeat the conditions' classes and the counts: an edited copy was
        # reported, and sample and scores without y drew by it, while the network read the other.
        if conditions["classes"] is not None:
            classes, counts = state.get("classes_"), state.get("class_count_")
            if not same(classes, conditions["classes"]):
                raise DamagedState(f"classes_ {shown(classes)} for conditions on {shown(conditions['classes'])}")
            if counts is None or not same(state.get("class_prior_"), counts / counts.sum()):
                raise DamagedState(f"class_prior_ {shown(state.get('class_prior_'))} for class_count_ {shown(counts)}")
            # Read by index at the next call: of another kind or shape, they failed there with a bare error.
            n_classes = len(conditions["classes"])
            trained = state.get("_trained_classes")
            if trained is not None and not (isinstance(trained, np.ndarray) and trained.dtype == bool
                                            and trained.shape == (n_classes,)):
                raise DamagedState(f"_trained_classes {shown(trained)}, where a fit writes {n_classes} booleans")
            rates = state.get("_class_hole_rates")
            n_columns = len(state["_schema"].columns) if "_schema" in state else None
            if rates is not None and not (isinstance(rates, np.ndarray) and rates.dtype.kind == "f"
                                          and rates.shape == (n_classes, n_columns)
                                          and bool(((rates >= 0) & (rates <= 1)).all())):
                raise DamagedState(f"_class_hole_rates {shown(rates)}, where a fit writes a {n_classes} x "
                                   f"{n_columns} array of rates in [0, 1]")
    if "_optimizer_state" in state:
        state["_optimizer_state"] = _to_torch(state["_optimizer_state"])
    network = state.pop("network_", None)
    requests = state.pop("_metadata_request", None)
    estimator.__dict__.update(state)
    if requests:
        with sklearn.config_context(enable_metadata_routing=True):  # set_*_request needs it on
            for method, params in requests.items():
                getattr(estimator, f"set_{method}_request")(**params)
    if network is not None:
        model = _rebuild_model(estimator, network, statistics)
        for name, value in model.fitted_copies().items():
            if name in state and not same(state[name], value):
                raise DamagedState(f"{name} {shown(state[name])} for a network that holds {shown(value)}")
        # Counted now, before any call can share the model: counting hooks its layers, and other
        # threads' first calls through them were counted too (a loaded model served at once cached
        # 100-700 times its work, and split one-row calls between threads).
        estimator._multiply_adds(model)
        estimator.network_ = model


def _n_condition(state):
    conditions = state.get("_conditions")
    return 0 if conditions is None else conditions.width


def _rebuild_model(estimator, network, statistics=None):
    """The torch model from its architecture and weights; ``statistics`` of the columns for a file of format 1 or 2."""
    from ._architecture import build_model
    from .nn import ColumnCodec

    spec = dict(estimator._fitted_architecture)
    spec["hidden_layer_sizes"] = getattr(estimator, "hidden_layer_sizes_", spec["hidden_layer_sizes"])
    schema = estimator._schema
    columns = ColumnCodec(schema.likelihoods, n_categories=schema.n_categories, flagged=schema.flagged,
                          statistics=statistics, censored=schema.censored,
                          noise_variance=getattr(estimator, "_noise_variance", spec.get("noise_variance")))
    model = build_model(estimator._family, spec, columns, torch.Generator(), 0, n_condition=network["n_condition"])
    weights = {k: torch.from_numpy(np.array(v)) for k, v in network["state_dict"].items()}
    for key, value in model.state_dict().items():
        # Saved before autoencoders' draws took their residual variance: the unit one they used.
        if key.endswith(".draw_variance") and key not in weights:
            weights[key] = torch.ones_like(value)
        # Saved before a constant column decoded as its value: none did.
        if key.endswith((".is_constant", ".constant_value")) and key not in weights:
            weights[key] = torch.zeros_like(value)
        # Saved before a log-normal column was bounded by its largest value itself: by its log alone.
        if key.endswith(".largest") and key not in weights:
            weights[key] = torch.full_like(value, torch.inf)
        # Saved before sample drew from a mixture fitted to the codes: N(0, I), the unfitted default.
        if key.rsplit(".", 1)[-1].startswith("mixture_") and key not in weights:
            weights[key] = value
    if statistics is None:
        expected, custom = model.state_dict(), _custom_prefixes(estimator)
        # load_state_dict casts: an edited file's float16, float64 or integer weights came back silently
        # other. (A user's module may change its own buffers' dtypes as it trains: that is its business.)
        other = sorted(key for key, value in weights.items() if key in expected and not key.startswith(custom)
                       and value.dtype != expected[key].dtype)
        if other:
            raise RuntimeError(f"weights of another dtype than the model's: {other}")
        model.load_state_dict(weights)
        return model.eval()
    # Format 1 or 2: the likelihood's keys moved under the column codec, which now
    # holds the column statistics (given above); priors come from fitted attributes.
    weights = {_format_2_key(k): v for k, v in weights.items() if not k.endswith(".bounds")}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    new_buffers = ("loc", "scale", "log_jacobian", "log_scale", "input_loc", "input_scale", "binary", "code_mean",
                   "code_covariance", "code_prior", "is_constant",
                   "constant_value", "mixture_fitted", "mixture_weights", "mixture_means", "mixture_factors",
                   "largest")
    if unexpected or any(key.rsplit(".", 1)[-1] not in new_buffers for key in missing):
        raise ValueError(f"The saved weights do not fit the model: missing {missing}, unexpected {unexpected}.")
    if hasattr(estimator, "latent_mean_"):
        model.latent.fit_prior(estimator.latent_mean_, estimator.latent_covariance_)
    if hasattr(estimator, "code_prior_"):
        model.latent.fit_prior(estimator.code_prior_)
    return model.eval()


def _custom_prefixes(estimator):
    """The state keys' prefixes of the user's own modules (a custom encoder or decoder) in the fitted network."""
    # The network's build, not the parameters: set_params may have changed those since.
    spec = getattr(estimator, "_fitted_architecture", None) or {}
    return tuple(f"{role}." for role in ("encoder", "decoder") if spec.get(role) is not None)


def _format_2_key(key):
    if key.startswith("likelihood.parts."):
        return "columns." + key[len("likelihood."):]
    if key.startswith("likelihood."):
        return "columns.parts.0." + key[len("likelihood."):]
    return key


def _schema_of_format_2(state):
    """The schema and the column statistics of a file written before the columns moved into the model."""
    if "_layout" in state:
        plain = state.pop("_layout")
        frame = plain["frame"]
        columns = []
        for c in plain["columns"]:
            dtype = _restore_dtype(c["dtype"])
            columns.append(Column(c["name"], c["likelihood"], dtype, "float" if dtype is None else column_kind(dtype),
                                  c["categories"], c["has_missing"]))
        scaling, count_scaling = plain["scaling"], plain["count_scaling"]
    else:
        kind = state["_fitted_architecture"]["likelihood"]
        columns = [Column(j, kind) for j in range(state["n_features_in_"])]
        frame = False
        scaling, count_scaling = state.pop("_scaling"), {"mean": None}
        state.setdefault("column_likelihoods_", {j: kind for j in range(state["n_features_in_"])})
    statistics = {}
    gaussian = [j for j, c in enumerate(columns) if c.likelihood == "gaussian"]
    if scaling["mean"] is not None:
        for k, j in enumerate(gaussian):
            statistics[j] = {"mean": scaling["mean"][k], "scale": scaling["scale"][k]}
            if scaling.get("resolution") is not None:
                statistics[j]["resolution"] = scaling["resolution"][k]
    counts = [j for j, c in enumerate(columns) if c.likelihood == "poisson"]
    counts += [j for j, c in enumerate(columns) if c.likelihood == "negative_binomial"]
    if count_scaling["mean"] is not None:
        for k, j in enumerate(counts):
            statistics[j] = {"mean": count_scaling["mean"][k], "scale": count_scaling["scale"][k]}
    return Schema(columns, frame=frame), statistics


def _plain_schema(schema):
    return {
        "columns": [
            {"name": column.name, "likelihood": column.likelihood, "dtype": _plain_dtype(column.dtype),
             "kind": column.kind, "categories": column.categories, "has_missing": column.has_missing,
             "low": column.low, "high": column.high, "missing_rate": column.missing_rate,
             "censored": [bool(flag) for flag in column.censored], "step": int(column.step),
             "decimal_places": column.decimal_places, "sample_places": getattr(column, "sample_places", None)}
            for column in schema.columns
        ],
        "frame": schema.frame,
        "nested_labels": schema.nested_labels,
        "unread": [[position, name] for position, name in schema.unread],
    }


def _restore_schema(plain):
    columns = [Column(c["name"], c["likelihood"], _restore_dtype(c["dtype"]), c["kind"], c["categories"],
                      c["has_missing"], check_number(c.get("low", -np.inf), "a column's low"),
                      check_number(c.get("high", np.inf), "a column's high"),
                      check_number(c.get("missing_rate", 0.0), "a column's missing_rate", 0, 1),
                      tuple(c.get("censored", (False, False))),
                      check_number(c.get("step", 0), "a column's step", 0, whole=True),
                      _places(c, "decimal_places"), _places(c, "sample_places"))
               for c in plain["columns"]]
    # Files before this release also hold the fit's "handle_unknown": the parameter is read instead.
    # Saved before it was recorded: tuple labels came back as a MultiIndex, as they still do.
    # Saved before an imputer could leave a column unread: every column was read.
    unread = tuple((position, name) for position, name in plain.get("unread", ()))
    positions = [position for position, _ in unread]
    if not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in positions) or \
            positions != sorted(set(positions)):
        raise TypeError(f"unread columns at positions {positions}")
    return Schema(columns, frame=plain["frame"], nested_labels=plain.get("nested_labels", True), unread=unread)


def _places(column, key):
    """A column's saved count of digits after the point, or None for none kept."""
    value = column.get(key)
    return None if value is None else check_number(value, f"a column's {key}", 0, whole=True)


def _plain_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {"categories": np.asarray(categories.to_numpy()), "ordered": bool(dtype.ordered),
                "categories_dtype": _plain_dtype(categories.dtype)}
    if isinstance(dtype, pd.StringDtype):
        return {"string": dtype.storage, "na_value": "NA" if dtype.na_value is pd.NA else "nan"}
    if isinstance(dtype, pd.ArrowDtype):
        # Its name does not name it again: "string[pyarrow]" reads back as StringDtype, and a
        # dictionary's or a decimal's not at all. Arrow's own serialisation of the type does.
        import pyarrow as pa

        schema = pa.schema([pa.field("column", dtype.pyarrow_dtype)])
        return {"arrow": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")}
    if isinstance(dtype, pd.DatetimeTZDtype):
        # Its name does not name a dateutil zone again: "datetime64[us, tzfile('/usr/share/...')]".
        return {"unit": dtype.unit, "tz": _plain_tz(dtype.tz)}
    return str(dtype)


def _plain_tz(tz):
    """A time zone as plain data that ``_restore_tz`` makes an equal zone of again: pandas' own name for
    it where pandas reads that name back as an equal zone (a dateutil zone's "dateutil/Europe/Paris",
    "UTC", "tzlocal()"), a fixed offset's seconds and name otherwise."""
    # The inverse of pandas' own reading of a zone's name.
    from pandas._libs.tslibs.timezones import get_timezone

    if isinstance(tz, datetime.timezone) and tz != datetime.timezone.utc:
        # By name, a named one ("CET") read back as the zone of that name, summer time and all.
        return {"offset": tz.utcoffset(None).total_seconds(), "name": tz.tzname(None)}
    if isinstance(tz, dateutil.tz.tzutc):  # dateutil's fixed offsets, as its parser gives them
        return {"dateutil": "tzutc"}
    if isinstance(tz, dateutil.tz.tzoffset):
        return {"dateutil": "tzoffset", "seconds": tz.utcoffset(None).total_seconds(), "name": tz.tzname(None)}
    name = get_timezone(tz)
    name = name if isinstance(name, str) else str(tz)
    try:
        read_back = pd.DatetimeTZDtype("ns", name) == pd.DatetimeTZDtype("ns", tz)
    except (TypeError, ValueError, KeyError):
        read_back = False
    if not read_back:
        raise TypeError(
            f"Cannot save the time zone {tz!r}: pandas does not read its name, {name!r}, back as the same "
            "zone. Convert the column to a named zone before fitting (X[c].dt.tz_convert('UTC'), say)."
        )
    return name


def _restore_tz(plain):
    if not isinstance(plain, dict):
        return plain
    if "offset" in plain:
        return datetime.timezone(datetime.timedelta(seconds=float(plain["offset"])), plain["name"])
    if plain["dateutil"] == "tzutc":
        return dateutil.tz.tzutc()
    return dateutil.tz.tzoffset(plain["name"], float(plain["seconds"]))


def _restore_dtype(plain):
    if plain is None:
        return None
    if isinstance(plain, dict) and "string" in plain:
        return pd.StringDtype(plain["string"], na_value=pd.NA if plain["na_value"] == "NA" else np.nan)
    if isinstance(plain, dict) and "tz" in plain:
        return pd.DatetimeTZDtype(plain["unit"], _restore_tz(plain["tz"]))
    if isinstance(plain, dict) and "arrow" in plain:
        import pyarrow as pa

        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(plain["arrow"])))
        return pd.ArrowDtype(schema.field(0).type)
    if isinstance(plain, dict):
        categories_dtype = _restore_dtype(plain.get("categories_dtype"))
        categories = pd.Index(list(plain["categories"]), dtype=categories_dtype)
        return pd.CategoricalDtype(categories, ordered=plain["ordered"])
    return pd.api.types.pandas_dtype(plain)


def _plain_scaling(scaling):
    return {"mean": scaling.mean, "scale": scaling.scale, "resolution": scaling.resolution}


def _plain_rng(rng):
    name, keys, position, has_gauss, cached = rng.get_state()
    return [name, keys, int(position), int(has_gauss), float(cached)]


def _to_numpy(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {key: _to_numpy(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy(value) for value in obj)
    return obj


def _to_torch(obj):
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj))
    if isinstance(obj, dict):
        return {key: _to_torch(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(value) for value in obj)
    return obj


# ---------------------------------------------------------------- the file


def _skvae_class(obj_or_name):
    """The skvae estimator class of an object or of a "skvae.Name" string; None if it is not one."""
    import skvae

    if isinstance(obj_or_name, str):
        module, _, name = obj_or_name.partition(".")
        if module != "skvae":
            return None
    else:
        name = type(obj_or_name).__name__
    cls = getattr(skvae, name, None)
    if name not in skvae.__all__ or not isinstance(cls, type):
        return None
    return cls if isinstance(obj_or_name, str) or type(obj_or_name) is cls else None


def _encode_estimator(estimator, arrays, where):
    """A skvae estimator nested in another's parameters or state: its class, parameters and state."""
    if _skvae_class(estimator) is None:
        raise TypeError(
            f"Cannot save {where}, a {type(estimator).__name__}: the file format holds skvae estimators "
            "only. Save the outer estimator with joblib or pickle instead."
        )
    return {
        "__estimator__": f"skvae.{type(estimator).__name__}",
        "params": _encode(estimator.get_params(deep=False), arrays, f"{where}.params"),
        "state": _encode(plain_state(estimator, vars(estimator)), arrays, f"{where}.state"),
    }


def _decode_estimator(obj, arrays, trusted):
    cls = _skvae_class(obj["__estimator__"])
    if cls is None:
        raise ValueError(f"The file names {obj['__estimator__']!r}, which is not a skvae estimator.")
    return _rebuilt(cls, _decode(obj["params"], arrays, trusted), _decode(obj["state"], arrays, trusted), "The file")


def _a(cls):
    return f"{'an' if cls.__name__[0] in 'AEIOU' else 'a'} {cls.__name__}"


def _rebuilt(cls, params, state, source):
    """``cls`` made from saved ``params`` and ``state``; a ValueError naming ``source`` where they do not fit it."""
    damaged = f"{source} is incomplete or damaged"
    # The autoencoders take any routed module argument, so their constructors accept names
    # another estimator wrote (a conditional model's condition_dropout): those are refused here.
    unknown = sorted(key for key in params if key not in cls._get_param_names() and not key.startswith(ROUTED_PREFIXES))
    try:
        if unknown:
            raise TypeError(f"no parameter {', '.join(unknown)}")
        estimator = cls(**params)
    except TypeError as error:  # parameters another estimator wrote
        raise ValueError(f"{damaged}: its parameters do not fit {_a(cls)} ({error}).") from None
    state = {k: v for k, v in state.items() if k not in params}
    lacking = [key for key in getattr(cls, "_fitted_state", ()) if key not in state]
    # A fitted model's state (an unfitted one may hold set_output's configuration, say).
    if lacking and ("network_" in state or "n_features_in_" in state):
        raise ValueError(f"{damaged}: its state lacks {lacking}, which every fitted {cls.__name__} holds.")
    # A state entry would hide the class's own method or property of that name (a "transform": 1);
    # a class's plain value (a constant an older file keeps for its build) an instance may hold.
    hidden = sorted(key for key in state if not key.startswith("__")
                    and hasattr(type(inspect.getattr_static(cls, key, None)), "__get__"))
    if hidden:
        raise ValueError(f"{damaged}: its state names {hidden}, which are {cls.__name__}'s own methods.")
    try:
        _restore(estimator, state)
    except (KeyError, RuntimeError, IndexError, AttributeError, TypeError) as error:
        # A state another estimator wrote, arrays of other shapes, entries of the wrong kind. (A trusted
        # module's own errors come through as they are, chained: the file is not at fault.)
        raise ValueError(f"{damaged}: its state does not fit {_a(cls)} ({error}).") from error
    network = getattr(estimator, "network_", None)
    if network is not None:
        _check_network(network, getattr(estimator, "_optimizer_state", None), damaged, _custom_prefixes(estimator))
    return estimator


def _check_network(network, optimizer_state, damaged, custom=()):
    """Refuse weights, buffers and optimizer moments that no fit leaves (``custom``: a user's modules' prefixes)."""
    from ._fitting import make_optimizer

    if not all(all_finite(p.detach()) for p in network.parameters()):
        raise ValueError(f"{damaged}: its network's weights are not all finite.")
    # skvae's buffers may hold infinities (an unbounded column's bound), never NaN; a user's module
    # may keep NaN as a mark ("not calibrated yet").
    if any(b.is_floating_point() and bool(b.isnan().any()) for name, b in network.named_buffers()
           if not name.startswith(custom)):
        raise ValueError(f"{damaged}: its network's statistics hold NaN.")
    if optimizer_state is not None:
        try:
            make_optimizer(network, 1e-3, optimizer_state)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            raise ValueError(f"{damaged}: its optimizer state does not fit the network ({error}).") from None
        moments = [v for values in optimizer_state["state"].values() for v in values.values()]
        if not all(all_finite(v) for v in moments):
            raise ValueError(f"{damaged}: its optimizer state is not all finite.")


def _restore(estimator, state):
    """Put a decoded state back: an autoencoder's fitted objects rebuilt, another estimator's set as they are."""
    if hasattr(estimator, "_family"):
        if "n_features_in_" in state and "network_" not in state:
            raise ValueError("The file holds no fitted network: it is incomplete or damaged.")
        restore_state(estimator, state)
    else:
        estimator._check_fitted_state(state)  # the detector's own rule, which its unpickling follows too
        estimator.__dict__.update(state)


def save(estimator, path):
    """Write ``estimator`` to ``path``: JSON and safetensors in a zip archive."""
    from safetensors.numpy import save as save_arrays

    if _skvae_class(estimator) is None:
        # The file names a class by its name in skvae: a subclass would load as another class, or not at all.
        raise TypeError(
            f"Cannot save a {type(estimator).__name__}: the file format holds skvae's own estimators, and "
            "load would not rebuild a subclass. Save it with joblib or pickle instead."
        )
    arrays = {}
    metadata = {
        "format_version": FORMAT_VERSION,
        "estimator": f"skvae.{type(estimator).__name__}",
        "versions": _versions(),
        "params": _encode(estimator.get_params(deep=False), arrays, "params"),
        "state": _encode(plain_state(estimator, vars(estimator)), arrays, "state"),
    }
    # Once for the file, though a class is referenced from its parameter and from the fitted state.
    script = sorted(name for name in _references(metadata) if name.startswith("__main__:"))
    if script:
        defined = " and ".join(name.split(":", 1)[1] for name in script)
        warn(
            f"Saving {', '.join(script)} as {'references' if len(script) > 1 else 'a reference'} to the running "
            f"script or notebook: load finds {'them' if len(script) > 1 else 'it'} only where the loading script "
            f"defines (or imports) {defined} before it loads. Define {'them' if len(script) > 1 else 'it'} in a "
            "module both can import.",
            UserWarning,
        )
    archive_bytes = io.BytesIO()  # built whole first: a failure to encode touches no file
    with zipfile.ZipFile(archive_bytes, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, json.dumps(metadata, indent=1))
        archive.writestr(_ARRAYS, save_arrays(arrays) if arrays else b"")
    write_whole(path, archive_bytes.getvalue())


def write_whole(path, data):
    """Write ``data`` to ``path`` so that a failed write (a full disk) leaves the file that was there.

    Written beside the file and moved over it, through a symbolic link to
    the file it names, with that file's permissions; in place where the
    folder takes no new entry or the path is not a regular file (a device).
    ``path`` may be a file object open for writing bytes, written as it is.
    """
    if not isinstance(path, (str, bytes, os.PathLike)) and hasattr(path, "write"):  # py.path has write too
        view = memoryview(data)
        while view:
            try:
                written = path.write(view)
            except TypeError:  # "write() argument must be str", whatever the object's class
                raise TypeError("save needs a path or a file object open for bytes: open the file with mode "
                                "'wb'.") from None
            if written is None:
                if isinstance(path, io.RawIOBase):  # a non-blocking raw file that took nothing
                    raise BlockingIOError(errno.EAGAIN, "The file object took no bytes; save needs one that "
                                          "blocks until it has written them")
                break  # a writer that does not count takes it all
            view = view[written:]  # a raw file may take part of it
        return
    path = os.fsdecode(os.fspath(path))  # a bytes path too: the partial file's name is built from it
    target = os.path.realpath(path)
    if os.path.isfile(target) and not os.access(target, os.W_OK):  # as open(path, "w") would refuse
        raise PermissionError(errno.EACCES, "The file is read-only; skvae does not replace it", os.fspath(path))
    if os.path.exists(target) and not os.path.isfile(target):
        with open(target, "wb") as handle:
            handle.write(data)
        return
    # A name of its own (a crashed save's partial file is never in the way) and a short one (a
    # name near the system's limit, lengthened, could not be created; the fallback then wrote in
    # place, and a failed write there lost the file that was there).
    partial = os.path.join(os.path.dirname(target), f".skvae-{secrets.token_hex(8)}.partial")
    try:
        handle = open(partial, "xb")  # noqa: SIM115 (closed below, or the fallback runs)
    except OSError:
        with open(path, "wb") as handle:  # a missing folder is then named as the user named it
            handle.write(data)
        return
    try:
        with handle:
            handle.write(data)
        if os.path.exists(target):
            shutil.copymode(target, partial)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise


def load(path, *, trusted=()):
    """Read an estimator written by ``save``. See ``skvae.load``."""
    from safetensors.numpy import load as load_arrays

    import skvae

    if not isinstance(path, (str, bytes, os.PathLike)) and hasattr(path, "read"):  # py.path has read too
        try:
            content = path.read()
        except UnicodeDecodeError:  # a text-mode file of any class, decoding the archive
            content = None
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise TypeError("load needs a path or a file object open for bytes: open the file with mode 'rb'.")
        if not len(content):  # most often the buffer save just wrote to, read from where save left it
            raise ValueError("The file object has nothing left to read: if save wrote to it, call its seek(0) "
                             "before load.")
        opened, path = contextlib.nullcontext(io.BytesIO(content)), getattr(path, "name", "The file object")
    else:
        opened = open(path, "rb")  # noqa: SIM115 (the path's own errors, missing, a folder, denied, as open gives them)
    with opened as handle:
        try:
            with zipfile.ZipFile(handle) as archive:
                metadata = json.loads(archive.read(_METADATA))
                raw = archive.read(_ARRAYS)
        except (zipfile.BadZipFile, KeyError, ValueError, zlib.error, NotImplementedError, RuntimeError, EOFError,
                OSError) as error:  # ValueError: JSON's, UTF-8's, a BytesIO's negative seek
            # A damaged archive's directory: odd versions, "encrypted", offsets past the end.
            raise ValueError(
                f"{path} is not a file written by skvae's save (a zip archive holding {_METADATA} and "
                f"{_ARRAYS}): {error}"
            ) from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{path} is incomplete or damaged: its metadata is not a mapping.")
    shapes = {"estimator": str, "params": dict, "state": (dict, type(None)), "versions": dict}
    wrong = [key for key, kind in shapes.items() if key in metadata and not isinstance(metadata[key], kind)]
    missing = [key for key in ("format_version", "estimator", "params", "state") if key not in metadata]
    if missing or wrong:
        what = f"lacks {missing}" if missing else f"holds entries of the wrong kind: {wrong}"
        raise ValueError(f"{path} is incomplete or damaged: its metadata {what}.")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{path} is incomplete or damaged: its format_version is {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} holds format version {version}, written by skvae "
            f"{metadata.get('versions', {}).get('skvae', '?')}; this skvae ({skvae.__version__}) "
            f"reads versions up to {FORMAT_VERSION}. Upgrade skvae to load it."
        )
    module, _, name = metadata["estimator"].partition(".")
    if module != "skvae" or name not in skvae.__all__ or not isinstance(getattr(skvae, name), type):
        raise ValueError(f"{path} names {metadata['estimator']!r}, which is not a skvae estimator.")
    from safetensors import SafetensorError

    try:
        arrays = load_arrays(raw) if raw else {}
    except (SafetensorError, ValueError) as error:
        raise ValueError(f"{path} is incomplete or damaged: its arrays cannot be read ({error}).") from None
    if trusted is None:
        trusted = ()
    if isinstance(trusted, str) or callable(trusted):  # one (a class or a function), not a sequence of them
        trusted = (trusted,)
    try:
        trusted = {_qualified_name(obj) if not isinstance(obj, str) else obj for obj in trusted}
    except (TypeError, AttributeError):
        raise TypeError(
            f"trusted must be a class, a function, a 'module:QualifiedName' string, or a sequence of "
            f"them; got {type(trusted).__name__}."
        ) from None
    untrusted = sorted(_references(metadata) - trusted)
    if untrusted:
        raise ValueError(
            f"The file refers to {', '.join(untrusted)}: code outside skvae (a custom encoder or "
            f"decoder), which loading would import and so run. Pass trusted={untrusted!r} (or the "
            "classes or functions themselves) if you trust it."
        )
    try:
        params = _decode(metadata["params"], arrays, trusted)
        state = _decode(metadata["state"], arrays, trusted) if metadata["state"] else {}
    except KeyError as error:
        raise ValueError(f"{path} is incomplete or damaged: it refers to the array {error} it does not hold.") from None
    except _DamagedEntry as error:
        raise ValueError(f"{path} is incomplete or damaged: {error}.") from None
    cls = getattr(skvae, name)
    if hasattr(cls, "_family") and "network_" not in state:
        raise ValueError(
            f"{path} holds no fitted network: it is incomplete or damaged (save writes only fitted estimators)."
        )
    versions = metadata.get("versions")
    saved_by = versions.get("skvae") if isinstance(versions, dict) else None
    source = str(path)
    if saved_by is not None and saved_by != skvae.__version__:
        # A release that adds a parameter keeps the format: to an older skvae its file reads as damaged.
        source = f"{path} (saved by skvae {saved_by}; this is skvae {skvae.__version__}, which may not read it)"
    return _rebuilt(cls, params, state, source)


def _versions():
    import skvae

    return {"skvae": skvae.__version__, "torch": torch.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__}


def _qualified_name(obj):
    return f"{obj.__module__}:{obj.__qualname__}"


def _references(obj):
    """Every class or function the decoded metadata would import."""
    if isinstance(obj, list):
        return set().union(*map(_references, obj)) if obj else set()
    if isinstance(obj, dict):
        if "__callable__" in obj:
            return {obj["__callable__"]}
        return set().union(*map(_references, obj.values())) if obj else set()
    return set()


def _encode(obj, arrays, where):
    """JSON-ready ``obj``; numeric arrays go into ``arrays``, referenced by key."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if obj is pd.NA:  # a missing_values the imputer takes
        return {"__NA__": True}
    if isinstance(obj, (int, float, np.integer, np.floating, np.bool_)):
        return obj.item() if isinstance(obj, np.generic) else obj
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}.{i}") for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k, arrays, where), _encode(v, arrays, f"{where}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biuf":
            arrays[where] = np.ascontiguousarray(obj)
            return {"__array__": where}
        if obj.dtype.kind in "mM":
            # Dates and durations as their integer counts of the dtype's unit (tolist() gives
            # integers for nanoseconds only, datetime objects for the other units).
            return {"__values__": obj.view(np.int64).tolist(), "dtype": obj.dtype.str}
        return {"__values__": [_encode(v, arrays, where) for v in obj.tolist()], "dtype": obj.dtype.str}
    if isinstance(obj, np.random.RandomState):
        return {"__RandomState__": _encode(_plain_rng(obj), arrays, where)}
    level = _plain_level(obj, arrays, where)
    if level is not None:
        return level
    if isinstance(obj, sklearn.base.BaseEstimator):
        return _encode_estimator(obj, arrays, where)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        if "<" in obj.__qualname__:  # <lambda>, <locals>: no import reaches it again
            raise TypeError(
                f"Cannot save {where}, {_qualified_name(obj)}: a lambda or a class or function defined "
                "inside another, which load could not import. Define it at a module's top level, "
                "or use pickle or joblib for this estimator."
            )
        return {"__callable__": _qualified_name(obj)}
    # A module given as a partial: the file holds a class, whose arguments are routed parameters.
    partial = " (pass the class itself, and its arguments as encoder__width=..., say)" \
        if isinstance(obj, functools.partial) else ""
    raise TypeError(
        f"Cannot save {where} of type {type(obj).__name__}: the file format holds numbers, "
        f"strings, arrays and references to classes{partial}. Use pickle or joblib for this estimator."
    )


def _plain_level(obj, arrays, where):
    """A category's value of a kind pandas and databases give (``pd.cut``'s intervals, dates, times,
    periods, decimals, bytes), as plain data that ``_LEVEL_READERS`` make the same value again; None for other objects."""
    if isinstance(obj, pd.Interval):
        return {"__interval__": [_encode(obj.left, arrays, where), _encode(obj.right, arrays, where), obj.closed]}
    if isinstance(obj, pd.Timestamp):  # before datetime, its base class: nanoseconds, exactly
        return {"__timestamp__": [obj.value, None if obj.tz is None else _plain_tz(obj.tz), obj.unit]}
    if isinstance(obj, pd.Timedelta):
        return {"__timedelta__": [obj.value, obj.unit]}
    if isinstance(obj, datetime.datetime):
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, datetime.date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, datetime.time):
        return {"__time__": obj.isoformat()}
    if isinstance(obj, datetime.timedelta):
        return {"__duration__": [obj.days, obj.seconds, obj.microseconds]}
    if isinstance(obj, decimal.Decimal):
        return {"__decimal__": str(obj)}
    if isinstance(obj, pd.Period):
        return {"__period__": [obj.ordinal, obj.freqstr]}
    if isinstance(obj, bytes):
        return {"__bytes__": obj.hex()}
    return None


# What ``_plain_level`` wrote, by its key: each reader takes the entry's value and a decoder of its parts.
_LEVEL_READERS = {
    "__interval__": lambda value, read: pd.Interval(read(value[0]), read(value[1]), closed=value[2]),
    "__timestamp__": lambda value, read: pd.Timestamp(int(value[0]), tz=_restore_tz(value[1])).as_unit(value[2]),
    "__timedelta__": lambda value, read: pd.Timedelta(int(value[0])).as_unit(value[1]),
    "__datetime__": lambda value, read: datetime.datetime.fromisoformat(value),
    "__date__": lambda value, read: datetime.date.fromisoformat(value),
    "__time__": lambda value, read: datetime.time.fromisoformat(value),
    "__duration__": lambda value, read: datetime.timedelta(days=value[0], seconds=value[1], microseconds=value[2]),
    "__decimal__": lambda value, read: decimal.Decimal(value),
    "__period__": lambda value, read: pd.Period(ordinal=int(value[0]), freq=value[1]),
    "__bytes__": lambda value, read: bytes.fromhex(value),
}


class _DamagedEntry(ValueError):
    """An entry of the metadata that ``_encode`` could not have written (``load`` names the file)."""


@contextlib.contextmanager
def _reading(tag):
    # Only the entry's own reading: a nested estimator's errors name what is wrong with it themselves.
    try:
        yield
    except (TypeError, ValueError, IndexError, OverflowError) as error:
        raise _DamagedEntry(f"an entry {tag} cannot be read ({error})") from None


def _decode(obj, arrays, trusted):
    if isinstance(obj, list):
        return [_decode(v, arrays, trusted) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tuple__" in obj:
        with _reading("__tuple__"):
            values = list(obj["__tuple__"])
        return tuple(_decode(v, arrays, trusted) for v in values)
    if "__dict__" in obj:
        with _reading("__dict__"):
            pairs = [(k, v) for k, v in obj["__dict__"]]
        return {_decode(k, arrays, trusted): _decode(v, arrays, trusted) for k, v in pairs}
    if "__NA__" in obj:
        return pd.NA
    if "__array__" in obj:
        with _reading("__array__"):
            return arrays[obj["__array__"]]
    if "__values__" in obj:
        with _reading("__values__"):
            dtype = np.dtype(obj["dtype"])
        values = _decode(obj["__values__"], arrays, trusted)
        with _reading("__values__"):
            if dtype.kind in "mM":
                return np.array(values, dtype=np.int64).view(dtype)
            return np.array(values, dtype=object).astype(dtype) if dtype.kind != "O" else np.array(values, dtype=object)
    if "__estimator__" in obj:
        return _decode_estimator(obj, arrays, trusted)
    if "__RandomState__" in obj:
        state = _decode(obj["__RandomState__"], arrays, trusted)
        rng = np.random.RandomState()
        with _reading("__RandomState__"):
            rng.set_state(tuple(state))
        return rng
    level = next((key for key in obj if key in _LEVEL_READERS), None)
    if level is not None:
        with _reading(level):
            return _LEVEL_READERS[level](obj[level], lambda part: _decode(part, arrays, trusted))
    if "__callable__" in obj:
        name = obj["__callable__"]
        if name not in trusted:  # load checks every reference first; this guards the rest
            raise ValueError(f"{name} is not trusted.")
        module, _, qualname = name.partition(":")
        try:
            value = import_module(module)
            for part in qualname.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError) as error:
            where = ("the running script or notebook (__main__), which must define or import it under that name "
                     "before load" if module == "__main__" else f"module {module!r}, which must be importable here")
            raise ImportError(f"The file refers to {name}, which load cannot find ({error}): it comes from "
                              f"{where}.") from None
        return value
    raise ValueError(f"Unknown entry in the file: {sorted(obj)}")


class PersistenceMixin:
    """Pickling through ``plain_state`` and ``save`` to skvae's file format, for a fitted estimator."""

    def __getstate__(self):
        # Builtins and numpy arrays only (see _persistence): pickles hold no
        # torch objects, so a model trained on a GPU loads on any machine,
        # and skops.io needs to trust only the estimator's class.
        return plain_state(self, super().__getstate__())

    def __setstate__(self, state):
        # A pickle of an earlier release lacks the parameters added since (VAEImputer's min_value):
        # they take their defaults, as load's cls(**params) gives them.
        signature = inspect.signature(type(self).__init__).parameters.values()
        added = {p.name: p.default for p in signature if p.default is not inspect.Parameter.empty and p.name not in state}
        with pickled_state_checked(self):
            restore_state(self, {**added, **state})

    def save(self, path):
        """Write the estimator to ``path``, in a format that runs no code when read.

        The file (a zip archive) holds the parameters, the fitted attributes
        and the input scaling as JSON, and the weights and other arrays as
        safetensors, with the skvae, torch and scikit-learn versions and a
        format version. ``skvae.load(path)`` reads it back; it needs the
        ``safetensors`` package. A custom encoder or decoder is stored as a
        reference to its class, which ``load`` imports only when told to
        trust it (a ``functools.partial`` or a lambda is refused: pass the
        class and its arguments as ``encoder__width=...``). Pickle and
        joblib work too, as for any estimator, and are the way for a model
        whose categories are neither numbers, strings, nor dates or
        durations without a time zone (``pd.cut``'s intervals, zoned dates
        or ``datetime.date`` objects as categories), for one fitted on a
        frame whose column labels are dates or periods (a table pivoted by
        day), and for a parameter given as a pandas Series (``VAEImputer``'s
        ``min_value`` by column name: pass a list in X's column order),
        which this format refuses with a TypeError.

        Parameters
        ----------
        path : str, path-like or file object
            Where to write; by convention ending in ``.skvae``. A file
            object must be open for writing bytes (mode ``"wb"``). A path
            is written beside and moved over the file there, so a failed
            write leaves that file as it was (where the folder takes no new
            file, it is written in place).
        """
        check_is_fitted(self)
        save(self, path)
