"""scikit-learn's own estimator checks, the whole suite, on both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import AutoencoderTransformer, VAETransformer

# Small networks and few epochs keep the suite fast; the checks test the
# contract, not the quality of the fit.
FAST = dict(hidden_layer_sizes=(8,), max_iter=3)


@parametrize_with_checks(
    [VAETransformer(**FAST), AutoencoderTransformer(**FAST)],
    expected_failed_checks=lambda estimator: {},
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
