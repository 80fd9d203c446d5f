"""From an estimator's parameters to a model: which encoder, latent, decoder and likelihood.

Also the routing of ``encoder__<name>`` / ``decoder__<name>`` keyword
arguments to a user's own modules, in the way skorch routes ``module__``:
they are estimator parameters, so ``clone``, ``get_params`` and grid
searches handle them.
"""

import copy
import difflib
import inspect
from numbers import Integral

import numpy as np
import torch

from ._fitting import local_global_rng
from ._warnings import warn
from .nn import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from .nn.encoders import output_width

ROUTED_PREFIXES = ("encoder__", "decoder__")

# What users of scikit-learn's PCA, MLP and imputers, and of torch loops, pass by habit: skvae's way.
OTHER_LIBRARIES_NAMES = {
    "n_components": "The code's size is {latent} (PCA's n_components). ",
    "epochs": "Epochs are max_iter, as in MLPRegressor. ",
    "n_epochs": "Epochs are max_iter, as in MLPRegressor. ",
    "max_epochs": "Epochs are max_iter, as in MLPRegressor. ",
    "lr": "The learning rate is learning_rate_init, as in MLPRegressor. ",
    "seed": "The seed is random_state. ",
    # SimpleImputer's and IterativeImputer's: the VAE fills every hole of a row at once, from the
    # row's observed entries, with no first fill, regressor or order of columns.
    "fill_value": ("A fill is the model's reconstruction from the row's observed entries, not a constant "
                   "(SimpleImputer's fill_value); min_value and max_value bound it. "),
    "strategy": ("A fill is the model's reconstruction from the row's observed entries: there is no "
                 "strategy to choose (SimpleImputer's mean or median). "),
    "initial_strategy": ("The encoder reads a hole as it is, with no first fill (IterativeImputer's "
                         "initial_strategy). "),
    "estimator": ("'estimator' is VAEOutlierDetector's (the model it scores rows with). skvae's models are "
                  "their own networks, sized by latent_dim and hidden_layer_sizes, where IterativeImputer "
                  "takes a regressor as its estimator. "),
    "skip_complete": "Every hole of a row is filled at once, from its observed entries: there are no rounds. ",
    "n_nearest_features": ("Every hole of a row is filled at once, from all its observed entries (IterativeImputer's "
                           "n_nearest_features has no counterpart). "),
    "imputation_order": "Every hole of a row is filled at once, from its observed entries: there is no order. ",
    "copy": "X is never changed in place: transform returns new values, as copy=True does. ",
}


def _family_members_taking(name):
    """The skvae estimators whose signature has ``name``: a parameter given to the wrong member."""
    import skvae  # the family, read when an error is being worded

    return [
        member for member in skvae.__all__
        if isinstance(getattr(skvae, member), type) and name in getattr(skvae, member)._get_param_names()
    ]


def _routed_advice(name):
    """Where an unknown name may be a custom module's argument, how those are named (else nothing)."""
    # Another member's parameter, or another library's, is no custom module's argument.
    if name in OTHER_LIBRARIES_NAMES or _family_members_taking(name):
        return ""
    return "Arguments for a custom encoder or decoder start with 'encoder__' or 'decoder__'. "


class RoutedParamsMixin:
    """Keyword arguments beyond the signature's, stored as parameters and routed to the modules.

    ``__init__`` stores them as given (it validates nothing, as scikit-learn
    asks); ``fit`` accepts only ``encoder__<name>`` and ``decoder__<name>``,
    and only with a custom ``encoder`` / ``decoder`` to receive them.
    """

    def _extra_params(self):
        declared = set(self._get_param_names())
        return {
            name: value
            for name, value in vars(self).items()
            if name not in declared
            and not name.startswith("_")
            and (name.startswith(ROUTED_PREFIXES) or not name.endswith("_"))
        }

    def get_params(self, deep=True):
        """Get parameters for this estimator, the routed ``encoder__<name>`` / ``decoder__<name>`` included.

        Parameters
        ----------
        deep : bool, default=True
            If True, will return the parameters for this estimator and
            contained subobjects that are estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(self._extra_params())
        return params

    def set_params(self, **params):
        """Set the parameters of this estimator, the routed ``encoder__<name>`` / ``decoder__<name>`` included.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
            Estimator instance.
        """
        # Routed arguments, and any extra keyword __init__ stored (fit
        # rejects those); everything else goes to scikit-learn's own
        # set_params, which rejects unknown names at once.
        extra, own = self._extra_params(), self._get_param_names()
        # The hint fit gives (a misspelling, another member's parameter): GridSearchCV and Pipeline
        # come this way, and scikit-learn's own error lists the valid names alone.
        for name in params:
            key = name.split("__", 1)[0]
            if not name.startswith(ROUTED_PREFIXES) and name not in extra and key not in own:
                hint = self._hint_for(key)
                if hint:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}. {hint}"
                                     f"{_routed_advice(key)}Valid parameters are: {sorted(own)!r}.")
        for name in list(params):
            if name.startswith(ROUTED_PREFIXES) or name in extra:
                setattr(self, name, params.pop(name))
        return super().set_params(**params)

    def _routed(self, prefix):
        return {k[len(prefix):]: v for k, v in self._extra_params().items() if k.startswith(prefix)}

    def _hint_for(self, name):
        """What an unexpected parameter ``name`` most likely is: a misspelling, or another estimator's."""
        own = self._get_param_names()
        if name in OTHER_LIBRARIES_NAMES:
            return OTHER_LIBRARIES_NAMES[name].format(latent=next(
                (size for size in ("latent_dim", "latent_dims") if size in own), "latent_dim"))
        near = difflib.get_close_matches(name, own, n=1, cutoff=0.8)
        if near:
            return f"Did you mean {near[0]!r}? "
        if not type(self).__module__.startswith("skvae."):  # a user's subclass
            # Whose __init__ leaves out a base parameter: scikit-learn reads parameters from the signature.
            base = next((c for c in type(self).__mro__[1:] if name in getattr(c, "_get_param_names", list)()), None)
            if base is not None:
                return (f"{name!r} is a parameter of {base.__name__}, which it derives from: add it "
                        f"to {type(self).__name__}.__init__'s signature and store it. ")
        owners = _family_members_taking(name)
        if owners:
            return f"{name!r} is a parameter of {', '.join(owners)}. "
        close = difflib.get_close_matches(name, own, n=1)
        return f"Did you mean {close[0]!r}? " if close else ""

    def _store_module_params(self, module_params):
        """``__init__``'s ``**module_params`` stored as attributes; some names refused at once.

        Other unexpected names are refused at fit, with a hint; one ending
        in "_" looks there like a fitted attribute, one starting with "_"
        like the estimator's own state, and one the class defines (``fit``)
        would replace its method: they would go unread, or break the
        estimator, before fit could say so.
        """
        declared = set(self._get_param_names())  # a subclass's own, passed on to this __init__
        for name in module_params:
            if name.startswith(ROUTED_PREFIXES) or name in declared:
                continue
            method = hasattr(inspect.getattr_static(type(self), name, None), "__get__")
            if name.endswith("_") or name.startswith("_") or method:
                what = ("A name ending in '_' is a fitted attribute, which fit sets." if name.endswith("_")
                        else "A name starting with '_' is not a parameter." if name.startswith("_")
                        else f"{name!r} is a method or property of the estimator.")
                raise TypeError(
                    f"{type(self).__name__}.__init__() got an unexpected keyword argument {name!r}. "
                    f"{'' if method else self._hint_for(name)}{what}"
                )
        vars(self).update(module_params)

    def _check_extra_params(self):
        for name in self._extra_params():
            role = name.split("__", 1)[0]
            if not name.startswith(ROUTED_PREFIXES) or name in ROUTED_PREFIXES:
                hint = self._hint_for(name)
                raise ValueError(f"{type(self).__name__} got an unexpected parameter {name!r}. "
                                 f"{hint}{_routed_advice(name)}".rstrip())
            if getattr(self, role) is None:
                # set_params cannot remove a parameter: a search over the built-in and a custom module
                # names the custom one's arguments beside it, as a Pipeline's step parameters are.
                raise ValueError(
                    f"{name} is set but {role}=None: the built-in {role} takes no arguments. "
                    f"Pass your module class as {role}=..., or remove {name}. To search over the "
                    f"built-in {role} and yours, leave {name} out of the estimator and give it in a grid "
                    f"of its own: [{{'{role}': [None]}}, {{'{role}': [YourModule], '{name}': [...]}}]."
                )


def _positive_ints(value, name, example):
    values = [value] if isinstance(value, Integral) else list(value)
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{name} must hold positive integers, e.g. {example}; got {value!r}.")
    return tuple(int(v) for v in values)


def architecture(estimator):
    """The parameters that fix the network's shape, validated and normalised: a dict.

    ``image_shape`` and ``conv_channels`` appear only for convolutional
    networks, the routed module arguments only when given.
    """
    spec = {name: getattr(estimator, name) for name in estimator._architecture_parameters}
    # What a family's networks are built with beyond the parameters (a spec saved without it keeps its old build).
    spec.update(getattr(estimator, "_architecture_constants", {}))
    for name in ("latent_dim", "n_codes"):
        if isinstance(spec.get(name), Integral):  # a numpy int, or a bool (Interval(Integral) admits True)
            spec[name] = int(spec[name])
    if "latent_dims" in spec:  # as hidden_layer_sizes: [2, 1], (2, 1) and np.array([2, 1]) are one network
        spec["latent_dims"] = _positive_ints(spec["latent_dims"], "latent_dims", "(8, 4)")
    hidden = estimator.hidden_layer_sizes
    spec["hidden_layer_sizes"] = hidden if isinstance(hidden, str) else _positive_ints(
        hidden, "hidden_layer_sizes", '"auto", (128, 64), or () for a linear model'
    )
    if estimator.image_shape is not None:
        spec["image_shape"] = _image_shape(estimator.image_shape)
        spec["conv_channels"] = _positive_ints(estimator.conv_channels, "conv_channels", "(8, 8)")
        if not spec["conv_channels"]:
            # With no convolution the decoder's dense stack, whose last layer a convolution follows,
            # would put its activation on the likelihood's parameters.
            raise ValueError(
                f"conv_channels={estimator.conv_channels!r} leaves the convolutional network without a "
                "convolution. Give at least one channel count, e.g. conv_channels=(8, 8), or "
                "image_shape=None for a dense network."
            )
    estimator._check_extra_params()
    spec.update(estimator._extra_params())
    return spec


# hidden_layer_sizes="auto": these widths, or none where the rows are fewer
# than the columns (see the parameter's documentation).
AUTO_HIDDEN_LAYER_SIZES = (128, 64)


def resolve_hidden_layer_sizes(hidden, n_samples, n_features):
    """The widths ``hidden_layer_sizes`` gives a network trained on ``n_samples`` rows of ``n_features``."""
    if hidden != "auto":
        return hidden
    return () if n_samples < n_features else AUTO_HIDDEN_LAYER_SIZES


def resolve_noise_variance(noise_variance, n_samples, n_features):
    """What ``noise_variance`` gives a model trained on ``n_samples`` rows of ``n_features`` (None: no such parameter)."""
    if noise_variance != "auto":
        return noise_variance
    return "isotropic" if n_samples < n_features else "per_feature"


def _image_shape(value):
    shape = tuple(value)
    if len(shape) not in (2, 3):
        raise ValueError(
            f"image_shape must be (height, width) or (channels, height, width); got {value!r}."
        )
    shape = _positive_ints(shape, "image_shape", "(28, 28) or (3, 32, 32)")
    return shape if len(shape) == 3 else (1, *shape)


def check_image_shape(spec, n_features, fresh=True):
    """Refuse an ``image_shape`` that does not tile X's rows; on a fresh fit, warn of one that reads channels last."""
    image_shape = spec.get("image_shape")
    if image_shape is None:
        return
    channels, height, width = image_shape
    if fresh and width in (1, 3, 4) and channels > 4 and height > 4:
        # (28, 28, 1) and (32, 32, 3), as PIL, matplotlib and Keras lay images out, tile a row as well:
        # read channels first they are 28 channels of 28 x 1 images, a network that convolves one axis.
        warn(
            f"image_shape={image_shape} is read as (channels, height, width): {channels} channels of "
            f"{height} x {width} images. If your images are (height, width, channels) instead, pass "
            f"image_shape=({width}, {channels}, {height}) with rows flattened channel by channel: "
            "images.transpose(0, 3, 1, 2).reshape(len(images), -1).",
            UserWarning,
        )
    n_pixels = image_shape[0] * image_shape[1] * image_shape[2]
    if n_pixels != n_features:
        raise ValueError(
            f"image_shape={image_shape} needs rows of {n_pixels} values (channels x height x "
            f"width), but X has {n_features} features. Pass image_shape=(height, width) or "
            "(channels, height, width) of your images, each flattened channel by channel, "
            "row by row, into a row of X."
        )


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):  # a file saved before tuples
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, torch.Tensor)) or isinstance(b, (np.ndarray, torch.Tensor)):
        return type(a) is type(b) and a.shape == b.shape and bool((a == b).all())
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


# Where a parameter's "auto" was resolved at the first fit: the attribute that holds what it chose.
_RESOLVED_AUTO = {"hidden_layer_sizes": "hidden_layer_sizes_", "noise_variance": "_noise_variance"}


def check_unchanged(estimator, fitted, current):
    for name, attribute in _RESOLVED_AUTO.items():
        chosen = getattr(estimator, attribute, None)
        if fitted.get(name) == "auto" and chosen is not None and _same(current.get(name), chosen):
            fitted = {**fitted, name: current[name]}  # pinning what "auto" chose changes nothing

    def given(spec, name):
        if name in spec:
            return repr(spec[name])
        # Absent: a routed argument left to the module, or a dense network's image_shape=None.
        return "the module's default" if name.startswith(ROUTED_PREFIXES) else "None"

    # A family's constants are how its network was built, not a setting: a file saved before one
    # existed continues with the network it holds.
    constants = getattr(estimator, "_architecture_constants", {})
    names = [name for name in sorted(fitted.keys() | current.keys())
             if name not in constants and not _same(fitted.get(name), current.get(name))]
    if "image_shape" in names and not ("conv_channels" in fitted and "conv_channels" in current):
        names = [name for name in names if name != "conv_channels"]  # unused by the dense side: image_shape says it
    changed = [f"{name}={given(current, name)} (fitted with {given(fitted, name)})" for name in names]
    if changed:
        raise ValueError(
            f"{type(estimator).__name__} cannot change {', '.join(changed)} while it continues "
            "training the fitted network (warm_start=True or partial_fit). Set "
            "warm_start=False and call fit to train a new network."
        )


def _routed(spec, role):
    prefix = f"{role}__"
    return {k[len(prefix):]: v for k, v in spec.items() if k.startswith(prefix)}


def build_model(family, spec, columns, generator, module_seed, n_condition=0):
    """The model of ``family`` (a class keeping ``skvae.nn.model``'s contract) that ``spec`` describes.

    ``columns`` is the fitted front (``skvae.nn.columns.ColumnCodec``); the
    family makes its latent and joins the parts (a VAE-GAN adds its
    discriminator), so a new member of the family reuses the networks.
    Built-in modules draw their weights from ``generator``. A user's
    module class is built under torch's global CPU generator seeded with
    ``module_seed`` (torch modules initialise from it), and the caller's
    global state is restored afterwards. ``n_condition`` extra inputs (a
    conditional model's condition) reach both encoder and decoder.
    """
    hidden, activation = spec["hidden_layer_sizes"], spec["activation"]
    image_shape = spec.get("image_shape")
    n_features = columns.n_columns
    encoder_inputs = columns.n_inputs + n_condition
    n_outputs = columns.n_parameters()
    likelihoods = sorted({type(part).__name__ for part in columns.parts})
    advice = ("Give every pixel one likelihood (likelihood=\"bernoulli\" for values in [0, 1], "
              "\"gaussian\" otherwise), or leave image_shape=None for a table.")
    # A built-in convolutional module reads (writes) one value (parameter) per value of every pixel,
    # not only the same number per pixel: a categorical pixel's logits sit side by side where the
    # decoder writes channel after channel, and the encoder read the first pixels' one-hot codes as
    # the image, so the pixels were scrambled.
    if image_shape is not None and (spec["encoder"] is None or spec["decoder"] is None) \
            and (n_outputs != n_features or columns.n_value_inputs != n_features):
        raise ValueError(
            f"image_shape={tuple(image_shape)} reads one input and decodes one parameter for each value of "
            f"each pixel, but the columns' likelihoods ({likelihoods}) need {n_outputs} parameters for "
            f"{n_features} columns: "
            f"a categorical column (a parameter per category) is not a pixel. {advice}"
        )
    if spec["encoder"] is not None:
        encoder, width = _user_module(
            spec["encoder"], _routed(spec, "encoder"), module_seed, "encoder", in_features=encoder_inputs
        )
    elif image_shape is None:
        encoder = MLPEncoder(encoder_inputs, hidden, activation, generator=generator)
        width = encoder.out_features
    else:
        encoder = ConvEncoder(image_shape, spec["conv_channels"], hidden, activation,
                              n_extra_features=encoder_inputs - n_features, generator=generator)
        width = encoder.out_features
    latent = family.make_latent(width, spec, generator)

    decoder_inputs = latent.decoder_dim + n_condition
    if spec["decoder"] is not None:
        decoder, width = _user_module(
            spec["decoder"], _routed(spec, "decoder"), module_seed + 1, "decoder",
            in_features=decoder_inputs, out_features=n_outputs,
        )
        if width != n_outputs:
            raise ValueError(
                f"The decoder must return {n_outputs} values per row, the parameters of "
                f"likelihood={spec['likelihood']!r} for {n_features} features (it is called "
                f"with out_features={n_outputs}); it returned {width}."
            )
    elif image_shape is None:
        decoder = MLPDecoder(decoder_inputs, n_outputs, hidden[::-1], activation, generator=generator,
                             output_bias=columns.initial_output_bias())
    else:
        if len(likelihoods) > 1:
            # The decoder's outputs are pixels in X's order, but each likelihood reads its own
            # columns' block of them: with two likelihoods, parameters would land on other pixels.
            raise ValueError(
                f"image_shape={tuple(image_shape)} decodes every pixel alike, so the pixels need one "
                f"likelihood; got {likelihoods}. {advice}"
            )
        decoder = ConvDecoder(decoder_inputs, n_outputs, image_shape, spec["conv_channels"],
                              hidden[::-1], activation, generator=generator,
                              output_bias=columns.initial_output_bias())
    return family.assemble(columns, encoder, latent, decoder, spec=spec, generator=generator)


def _user_module(factory, kwargs, seed, role, **sizes):
    """Build a user's module and measure its output width, under a local global-RNG seed."""
    if isinstance(factory, torch.nn.Module):
        raise TypeError(
            f"{role} must be a torch.nn.Module class (or a function returning a module), not a "
            f"module instance: skvae builds a fresh one for each fit. Pass {role}="
            f"{type(factory).__name__} and its arguments as {role}__<name>=..."
        )
    routed_sizes = sorted(set(sizes) & set(kwargs))
    if routed_sizes:
        # Bound twice, they failed in inspect's words, with a call that showed the routed size.
        raise ValueError(
            f"{role}__{routed_sizes[0]} is set, but skvae passes {routed_sizes[0]} to the {role} itself "
            f"({routed_sizes[0]}={sizes[routed_sizes[0]]}, from the data and the model): remove "
            f"{role}__{routed_sizes[0]}."
        )
    # Copies: a module passed as an argument must not be trained in place.
    kwargs = copy.deepcopy(kwargs)
    arguments = ", ".join(f"{k}={v!r}" for k, v in {**sizes, **kwargs}.items())
    try:
        inspect.signature(factory).bind(**sizes, **kwargs)
    except TypeError as error:
        raise TypeError(
            f"{role}={getattr(factory, '__name__', factory)} cannot be called as "
            f"({arguments}): {error}. Check the {role}__ arguments; skvae passes the sizes shown."
        ) from error
    except ValueError:  # no signature to check (some builtins): let the call speak
        pass
    # The CPU generator only (modules are built on the CPU), under the fit's lock on it.
    with local_global_rng(seed, torch.device("cpu")):
        module = factory(**sizes, **kwargs)
        if not isinstance(module, torch.nn.Module):
            raise TypeError(
                f"{role} must be a torch.nn.Module class or a factory returning one; "
                f"{factory!r} returned {type(module).__name__}."
            )
        module.to("cpu")
        return module, output_width(module, sizes["in_features"], role)
