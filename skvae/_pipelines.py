"""A model as a Pipeline ends with it: the steps before it and the arguments that reach it.

``VAEOutlierDetector`` takes a skvae model bare or at the end of (nested)
Pipelines, and reads that final model's options (``n_importance``), its
rows outside its likelihoods' support and its ``sample_weight`` through
them.
"""

from sklearn.pipeline import Pipeline


def final_model(estimator):
    """The model a Pipeline ends with, through Pipelines within it; or the estimator itself."""
    while isinstance(estimator, Pipeline) and estimator.steps:
        estimator = estimator.steps[-1][1]
    return estimator


def weight_key(estimator):
    """The name of ``sample_weight`` for the model a (nested) Pipeline ends with: ``"step__sample_weight"``."""
    if isinstance(estimator, Pipeline) and estimator.steps:
        return f"{estimator.steps[-1][0]}__{weight_key(estimator.steps[-1][1])}"
    return "sample_weight"


def steps_before_final_model(estimator):
    """The Pipelines of steps that run before the model a Pipeline ends with, through Pipelines within it, in order."""
    steps = []
    while isinstance(estimator, Pipeline) and estimator.steps:
        if len(estimator.steps) > 1:
            steps.append(estimator[:-1])
        estimator = estimator.steps[-1][1]
    return steps


def before_final_model(estimator, X):
    """X as the model a fitted Pipeline ends with reads it (through every step before it), or X itself."""
    for steps in steps_before_final_model(estimator):
        X = steps.transform(X)
    return X


def score_samples_of(estimator, X, options):
    """``estimator.score_samples(X, **options)``; a Pipeline's options go to its final model, as its own call takes none."""
    if options and isinstance(estimator, Pipeline):
        return final_model(estimator).score_samples(before_final_model(estimator, X), **options)
    return estimator.score_samples(X, **options)
