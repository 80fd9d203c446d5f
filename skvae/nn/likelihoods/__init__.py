"""Observation models p(x | z), and the registry the estimators' ``likelihood`` names.

Each likelihood is a class in a module of its own (the contract is in
``base``); ``LIKELIHOODS`` maps the names users pass to the classes, in the
order a mixed row groups its columns. Nothing outside a likelihood's module
knows its name: adding one is its module and one line here.
"""

from .base import Likelihood
from .bernoulli import BernoulliLikelihood
from .categorical import CategoricalLikelihood
from .counts import NegativeBinomialLikelihood, PoissonLikelihood
from .gaussian import GaussianLikelihood
from .lognormal import LogNormalLikelihood

LIKELIHOODS = {
    "gaussian": GaussianLikelihood,
    "lognormal": LogNormalLikelihood,
    "bernoulli": BernoulliLikelihood,
    "categorical": CategoricalLikelihood,
    "poisson": PoissonLikelihood,
    "negative_binomial": NegativeBinomialLikelihood,
}

__all__ = [
    "LIKELIHOODS",
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "GaussianLikelihood",
    "Likelihood",
    "LogNormalLikelihood",
    "NegativeBinomialLikelihood",
    "PoissonLikelihood",
]
