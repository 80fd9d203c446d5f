"""Write the saved models that tests/test_persistence.py loads, with their expected outputs.

Run once per file format version, with the skvae that introduced it:

    python tests/data/make_saved_models.py 2     # writes the format-2 files

The files are committed; later versions of skvae must keep loading them.
Format 1 (vae_format1, cvae_format1): numeric columns. Format 2
(mixed_format2): a DataFrame of mixed types, with holes. Format 3
(dtypes_format3): the column statistics in the model's state, and a
DataFrame of every dtype skvae restores (dates with a time zone, strings,
float32, nullable floats and integers, small-integer categories).
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


def dtypes():
    X, y = data()
    frame = pd.DataFrame({
        "when": pd.Timestamp("2024-01-01", tz="Europe/Paris") + pd.to_timedelta(np.round(X[:, 0] * 30), unit="D"),
        "text": pd.array(y, dtype="string[python]"),
        "f32": X[:, 1].astype(np.float32),
        "nullable": pd.array(X[:, 2], dtype="Float64"),
        "count": pd.array(np.round(np.abs(X[:, 3])).astype(int), dtype="Int64"),
        "small": pd.Categorical((X[:, 4] > 5).astype(np.uint8) + 1),
    })
    frame.loc[::5, "nullable"] = pd.NA
    frame.loc[::6, "count"] = pd.NA
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
        3: {
            "dtypes_format3": VAETransformer(2, likelihood={"count": "poisson"}, hidden_layer_sizes=(8,),
                                             max_iter=3, random_state=0).fit(dtypes()),
        },
    }[version]
    for name, model in models.items():
        inputs = {1: X, 2: mixed(), 3: dtypes()}[version]
        model.save(HERE / f"{name}.skvae")
        sample = model.sample(4, random_state=0)
        if version == 2:
            sample = sample[["a", "b", "c", "count"]].to_numpy(dtype=float)
        if version == 3:
            sample.to_pickle(HERE / f"{name}_sample.pkl")
            sample = sample[["f32", "nullable"]].to_numpy(dtype=float)
        np.savez(HERE / f"{name}_expected.npz", X=X, transform=model.transform(inputs),
                 score_samples=model.score_samples(inputs), sample=sample)
        print(f"wrote {name}.skvae")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
