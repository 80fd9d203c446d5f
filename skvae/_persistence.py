"""Saving and loading: a plain state for pickle and skops, and a file format that runs no code.

``plain_state`` turns a fitted estimator's ``__dict__`` into builtins and
numpy arrays: the torch model becomes its architecture and its weights, so
pickles hold no torch objects (a model trained on a GPU loads on any
machine) and skops needs to trust only the estimator's class. ``save``
writes the same state as JSON beside a safetensors file of the arrays, in
one zip archive; ``load`` reads it back without unpickling anything.
"""

import inspect
import json
import zipfile
from importlib import import_module

import numpy as np
import pandas as pd
import sklearn
import torch

from ._columns import Column, ColumnLayout
from ._conditions import Conditions
from ._data import Scaling
from ._training import History

# 1: skvae 0.2.0.dev0 before mixed columns (a "_scaling"); 2: a "_layout" of the columns.
FORMAT_VERSION = 2
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
    if "_layout" in state:
        state["_layout"] = _plain_layout(state["_layout"])
    if "_history" in state:
        state["_history"] = dict(vars(state["_history"]))
    if "_rng" in state:
        state["_rng"] = _plain_rng(state["_rng"])
    if "_conditions" in state:
        conditions = state["_conditions"]
        state["_conditions"] = {
            "classes": conditions.classes,
            "scaling": None if conditions.scaling is None else _plain_scaling(conditions.scaling),
            "n_covariates": conditions.n_covariates,
        }
    return state


def restore_state(estimator, state):
    """Undo ``plain_state``: rebuild the fitted objects, the torch model last."""
    state = dict(state)
    if "_scaling" in state and "_layout" not in state:  # format 1: numeric columns, one likelihood
        kind = state["_fitted_architecture"]["likelihood"]
        columns = [Column(j, kind) for j in range(state["n_features_in_"])]
        state["_layout"] = ColumnLayout(columns, scaling=Scaling(**state.pop("_scaling")))
        state.setdefault("column_likelihoods_", {j: kind for j in range(state["n_features_in_"])})
    elif "_layout" in state:
        state["_layout"] = _restore_layout(state["_layout"])
    if "_history" in state:
        state["_history"] = History(**state["_history"])
    if "_rng" in state:
        rng = np.random.RandomState()
        rng.set_state(tuple(state["_rng"]))
        state["_rng"] = rng
    if "_conditions" in state:
        conditions = state["_conditions"]
        scaling = conditions["scaling"]
        state["_conditions"] = Conditions(
            classes=conditions["classes"],
            scaling=None if scaling is None else Scaling(**scaling),
            n_covariates=conditions["n_covariates"],
        )
    if "_optimizer_state" in state:
        state["_optimizer_state"] = _to_torch(state["_optimizer_state"])
    network = state.pop("network_", None)
    estimator.__dict__.update(state)
    if network is not None:
        estimator.network_ = _rebuild_model(estimator, network)


def _n_condition(state):
    conditions = state.get("_conditions")
    return 0 if conditions is None else conditions.width


def _rebuild_model(estimator, network):
    from ._architecture import build_model

    spec = estimator._fitted_architecture
    layout = estimator._layout
    likelihood = layout.likelihood(noise_variance=spec.get("noise_variance"))
    model = build_model(estimator, spec, estimator.n_features_in_, likelihood, torch.Generator(), 0,
                        n_condition=network["n_condition"], n_inputs=layout.n_inputs)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in network["state_dict"].items()})
    return model.eval()


def _plain_layout(layout):
    return {
        "columns": [
            {"name": column.name, "likelihood": column.likelihood, "dtype": _plain_dtype(column.dtype),
             "categories": column.categories, "has_missing": column.has_missing}
            for column in layout.columns
        ],
        "frame": layout.frame,
        "scaling": _plain_scaling(layout.scaling),
        "count_scaling": _plain_scaling(layout.count_scaling),
        "handle_unknown": layout.handle_unknown,
    }


def _restore_layout(plain):
    columns = [Column(c["name"], c["likelihood"], _restore_dtype(c["dtype"]), c["categories"], c["has_missing"])
               for c in plain["columns"]]
    return ColumnLayout(columns, frame=plain["frame"], scaling=Scaling(**plain["scaling"]),
                        count_scaling=Scaling(**plain["count_scaling"]), handle_unknown=plain["handle_unknown"])


def _plain_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, pd.CategoricalDtype):
        return {"categories": np.asarray(dtype.categories, dtype=object), "ordered": bool(dtype.ordered)}
    return str(dtype)


def _restore_dtype(plain):
    if plain is None:
        return None
    if isinstance(plain, dict):
        return pd.CategoricalDtype(list(plain["categories"]), ordered=plain["ordered"])
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


def save(estimator, path):
    """Write ``estimator`` to ``path``: JSON and safetensors in a zip archive."""
    from safetensors.numpy import save as save_arrays

    arrays = {}
    metadata = {
        "format_version": FORMAT_VERSION,
        "estimator": f"skvae.{type(estimator).__name__}",
        "versions": _versions(),
        "params": _encode(estimator.get_params(deep=False), arrays, "params"),
        "state": _encode(plain_state(estimator, vars(estimator)), arrays, "state"),
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, json.dumps(metadata, indent=1))
        archive.writestr(_ARRAYS, save_arrays(arrays) if arrays else b"")


def load(path, *, trusted=()):
    """Read an estimator written by ``save``. See ``skvae.load``."""
    from safetensors.numpy import load as load_arrays

    import skvae

    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read(_METADATA))
        raw = archive.read(_ARRAYS)
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path} holds format version {version}, written by skvae "
            f"{metadata.get('versions', {}).get('skvae', '?')}; this skvae ({skvae.__version__}) "
            f"reads versions up to {FORMAT_VERSION}. Upgrade skvae to load it."
        )
    module, _, name = metadata["estimator"].partition(".")
    if module != "skvae" or name not in skvae.__all__ or not isinstance(getattr(skvae, name), type):
        raise ValueError(f"{path} names {metadata['estimator']!r}, which is not a skvae estimator.")
    arrays = load_arrays(raw) if raw else {}
    trusted = {_qualified_name(obj) if not isinstance(obj, str) else obj for obj in trusted}
    untrusted = sorted(_references(metadata) - trusted)
    if untrusted:
        raise ValueError(
            f"The file refers to {', '.join(untrusted)}: code outside skvae (a custom encoder or "
            f"decoder), which loading would import and so run. Pass trusted={untrusted!r} (or the "
            "classes themselves) if you trust it."
        )
    params = _decode(metadata["params"], arrays, trusted)
    estimator = getattr(skvae, name)(**params)
    if metadata["state"]:
        state = _decode(metadata["state"], arrays, trusted)
        state = {k: v for k, v in state.items() if k not in params}
        restore_state(estimator, state)
    return estimator


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
        return {"__values__": [_encode(v, arrays, where) for v in obj.tolist()], "dtype": obj.dtype.str}
    if isinstance(obj, np.random.RandomState):
        return {"__RandomState__": _encode(_plain_rng(obj), arrays, where)}
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return {"__callable__": _qualified_name(obj)}
    raise TypeError(
        f"Cannot save {where} of type {type(obj).__name__}: the file format holds numbers, "
        "strings, arrays and references to classes. Use pickle or joblib for this estimator."
    )


def _decode(obj, arrays, trusted):
    if isinstance(obj, list):
        return [_decode(v, arrays, trusted) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, trusted) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_decode(k, arrays, trusted): _decode(v, arrays, trusted) for k, v in obj["__dict__"]}
    if "__array__" in obj:
        return arrays[obj["__array__"]]
    if "__values__" in obj:
        dtype = np.dtype(obj["dtype"])
        values = _decode(obj["__values__"], arrays, trusted)
        return np.array(values, dtype=object).astype(dtype) if dtype.kind != "O" else np.array(values, dtype=object)
    if "__RandomState__" in obj:
        rng = np.random.RandomState()
        rng.set_state(tuple(_decode(obj["__RandomState__"], arrays, trusted)))
        return rng
    if "__callable__" in obj:
        name = obj["__callable__"]
        if name not in trusted:  # load checks every reference first; this guards the rest
            raise ValueError(f"{name} is not trusted.")
        module, _, qualname = name.partition(":")
        value = import_module(module)
        for part in qualname.split("."):
            value = getattr(value, part)
        return value
    raise ValueError(f"Unknown entry in the file: {sorted(obj)}")
