"""Free bits in the conditional VAE: do rows drawn for a class stay that class?

On load_digits (a quarter held out, scaled to [0, 1]), an SVC trained on
the real training digits judges ``sample(200, y=k)`` of a
``ConditionalVAETransformer`` at its defaults, with ``free_bits`` 0 (its
default) and 0.5 (``VAETransformer``'s), at ``latent_dim`` 2 and 8, seed 0:
the share judged k, for k = 4 and averaged over the ten classes.

Run: OMP_NUM_THREADS=1 python benchmarks/cvae_free_bits.py   (about a minute; prints only)
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from skvae import ConditionalVAETransformer


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X / 16, y, random_state=0)
    judge = SVC().fit(X_train, y_train)
    print("| latent_dim | free_bits | judged 4 | judged k, mean over the 10 classes |")
    print("|---|---|---|---|")
    for latent_dim in (2, 8):
        for free_bits in (0.0, 0.5):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = ConditionalVAETransformer(latent_dim, free_bits=free_bits, random_state=0).fit(X_train, y_train)
            shares = [np.mean(judge.predict(model.sample(200, y=k, random_state=0)) == k) for k in range(10)]
            print(f"| {latent_dim} | {free_bits} | {shares[4]:.3f} | {np.mean(shares):.3f} |", flush=True)


if __name__ == "__main__":
    main()
