"""Write the saved models that tests/test_persistence.py loads, with their expected outputs.

Run once per file format version, with the skvae that introduced it:

    python tests/data/make_saved_models.py

The files are committed; later versions of skvae must keep loading them.
"""

from pathlib import Path

import numpy as np

from skvae import ConditionalVAETransformer, VAETransformer

HERE = Path(__file__).resolve().parent


def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3)) @ rng.normal(size=(3, 6)) + 5
    y = np.array(["left", "right"])[(X[:, 0] > X[:, 0].mean()).astype(int)]
    return X, y


def main():
    X, y = data()
    models = {
        "vae_format1": VAETransformer(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X),
        "cvae_format1": ConditionalVAETransformer(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y),
    }
    for name, model in models.items():
        model.save(HERE / f"{name}.skvae")
        np.savez(HERE / f"{name}_expected.npz", X=X, transform=model.transform(X),
                 score_samples=model.score_samples(X), sample=model.sample(4, random_state=0))
        print(f"wrote {name}.skvae")


if __name__ == "__main__":
    main()
