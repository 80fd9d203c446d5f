"""Write the saved models that tests/test_persistence.py loads, with their expected outputs.

Run once per file format version, with the skvae that introduced it:

    python tests/data/make_saved_models.py 2     # writes the format-2 files

The files are committed; later versions of skvae must keep loading them.
Format 1 (vae_format1, cvae_format1): numeric columns. Format 2
(mixed_format2): a DataFrame of mixed types, with holes.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from skvae import ConditionalVAETransformer, VAETransformer

HERE = Path(__file__).resolve().parent


def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)) @ rng.normal(size=(3, 6)) + 5
    y = np.array(["left", "right"])[(X[:, 0] > X[:, 0].mean()).astype(int)]
    return X, y


def mixed():
    X, y = data()
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    frame["kind"] = pd.Categorical(y)
    frame["flag"] = X[:, 3] > 5
    frame["count"] = np.round(np.abs(X[:, 4])).astype(int)
    frame.loc[::7, "a"] = np.nan
    return frame


def main(version):
    X, y = data()
    models = {
        1: {
            "vae_format1": VAETransformer(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X),
            "cvae_format1": ConditionalVAETransformer(2, hidden_layer_sizes=(8,), max_iter=3,
                                                      random_state=0).fit(X, y),
        },
        2: {
            "mixed_format2": VAETransformer(2, likelihood={"count": "poisson"}, hidden_layer_sizes=(8,),
                                            max_iter=3, random_state=0).fit(mixed()),
        },
    }[version]
    for name, model in models.items():
        inputs = mixed() if version == 2 else X
        model.save(HERE / f"{name}.skvae")
        sample = model.sample(4, random_state=0)
        if version == 2:
            sample = sample[["a", "b", "c", "count"]].to_numpy(dtype=float)
        np.savez(HERE / f"{name}_expected.npz", X=X, transform=model.transform(inputs),
                 score_samples=model.score_samples(inputs), sample=sample)
        print(f"wrote {name}.skvae")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
