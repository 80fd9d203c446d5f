"""skvae: variational and plain autoencoders as scikit-learn transformers."""

# torch before scikit-learn and pandas: loaded into the smaller heap, it costs the
# import one garbage collection pass less (about 0.1 s of a cold start; benchmarks/import_time.py).
import torch  # noqa: F401

from ._autoencoder import AutoencoderTransformer
from ._conditional import ConditionalVAETransformer
from ._hierarchical import HierarchicalVAETransformer
from ._imputer import VAEImputer
from ._outliers import VAEOutlierDetector
from ._persistence import load as _load
from ._vae import VAETransformer
from ._vaegan import VAEGANTransformer
from ._vqvae import VQVAETransformer


def load(path, *, trusted=()):
    """Read an estimator written by its ``save`` method; runs no code from the file.

    Parameters
    ----------
    path : str, path-like or file object
        The file ``save`` wrote, or a file object open for reading bytes
        (mode ``"rb"``).

    trusted : class, function, "module:QualifiedName" string, or a sequence of them, default=()
        Custom encoder or decoder classes (or functions that build them)
        the file refers to, which ``load`` may import. Without them such a file is refused: importing a
        module runs its code.

    Returns
    -------
    estimator : skvae estimator
        Fitted, as it was saved; on a machine without a GPU it runs on the CPU.

    Raises
    ------
    ValueError
        Where the file is not one ``save`` wrote, is damaged (an entry
        ``save`` could not have written, weights of other shapes or not
        finite, a state another estimator wrote), holds a newer format than
        this skvae reads, refers to code not in ``trusted``, or holds copies
        of what its columns are that disagree (a categorical column's levels
        as ``transform`` reads them, as ``inverse_transform`` restores them,
        and ``column_categories_``; ``column_likelihoods_``;
        ``censored_bounds_``). Weights edited within their shapes and finite
        are not detected: the file holds no signature, so keep files where
        only people you trust can write them.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skvae import VAETransformer, load
    >>> X = np.random.RandomState(0).rand(100, 5)
    >>> vae = VAETransformer(max_iter=2, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "vae.skvae")
    >>> vae.save(path)
    >>> bool(np.array_equal(load(path).transform(X), vae.transform(X)))
    True
    """
    return _load(path, trusted=trusted)


__all__ = [
    "AutoencoderTransformer",
    "ConditionalVAETransformer",
    "HierarchicalVAETransformer",
    "VAEGANTransformer",
    "VAEImputer",
    "VAEOutlierDetector",
    "VAETransformer",
    "VQVAETransformer",
    "load",
]
__version__ = "0.2.0.dev0"
