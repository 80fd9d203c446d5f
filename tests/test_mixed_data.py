"""Data as users have it: mixed-type DataFrames, per-column likelihoods, counts and missing values."""

import datetime
import io
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from torch import distributions as D

from skvae import AutoencoderTransformer, VAEImputer, VAEOutlierDetector, VAETransformer
from skvae.nn.likelihoods import (
    CategoricalLikelihood,
    GaussianLikelihood,
    NegativeBinomialLikelihood,
    PoissonLikelihood,
)
from skvae.nn.likelihoods.counts import standard_gamma as _standard_gamma

FAST = dict(latent_dim=2, hidden_layer_sizes=(16,), max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def frame():
    """Mixed columns driven by one factor, with holes in two of them."""
    rng = np.random.RandomState(0)
    n = 300
    z = rng.normal(size=n)
    data = pd.DataFrame({
        "height": 170 + 10 * z + rng.normal(size=n),
        "smoker": z + rng.normal(size=n) > 0.5,
        "city": pd.Categorical(np.where(z > 0, "Paris", np.where(z < -1, "Oslo", "Rome"))),
        "visits": rng.poisson(np.exp(1 + 0.5 * z)),
        "year": rng.randint(1990, 2020, n),
        "note": np.where(rng.rand(n) < 0.5, "a", "b"),
    })
    data.loc[rng.rand(n) < 0.1, "height"] = np.nan
    data.loc[rng.rand(n) < 0.1, "city"] = np.nan
    return data


# ------------------------------------------------------------- likelihoods


def test_categorical_poisson_and_negative_binomial_match_references():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(20, 3 + 4, generator=generator, dtype=torch.float64)
    x = torch.stack([torch.randint(0, 3, (20,), generator=generator), torch.randint(0, 4, (20,), generator=generator)], -1).double()
    categorical = CategoricalLikelihood(2, n_categories=[3, 4])
    expected = D.Categorical(logits=logits[:, :3]).log_prob(x[:, 0]) + D.Categorical(logits=logits[:, 3:]).log_prob(x[:, 1])
    torch.testing.assert_close(categorical.log_prob(x, logits), expected)

    counts = torch.tensor([[0.0, 3.0, 17.0]], dtype=torch.float64)
    log_mu = torch.tensor([[0.5, 1.0, 2.5]], dtype=torch.float64)
    poisson = PoissonLikelihood(3).log_prob(counts, log_mu)
    np.testing.assert_allclose(poisson.numpy(), stats.poisson.logpmf(counts.numpy(), np.exp(log_mu.numpy())).sum(-1))
    nb = NegativeBinomialLikelihood(3).double()
    with torch.no_grad():
        nb.log_theta.copy_(torch.log(torch.tensor([0.5, 2.0, 10.0])))
    theta, mu = np.array([0.5, 2.0, 10.0]), np.exp(log_mu.numpy())
    reference = stats.nbinom.logpmf(counts.numpy(), theta, theta / (theta + mu)).sum(-1)
    np.testing.assert_allclose(nb.log_prob(counts, log_mu).detach().numpy(), reference)


def test_a_mask_leaves_missing_entries_out():
    likelihood = GaussianLikelihood(3, noise_variance="per_feature")
    x, params = torch.randn(5, 3), torch.randn(5, 3)
    mask = torch.tensor([[1.0, 0.0, 1.0]]).expand(5, 3)
    log_var = likelihood.log_variance()
    per_entry = -0.5 * (np.log(2 * np.pi) + log_var + (x - params) ** 2 * torch.exp(-log_var))
    torch.testing.assert_close(likelihood.log_prob(x, params, mask), per_entry[:, [0, 2]].sum(-1))
    torch.testing.assert_close(likelihood.log_prob(x, params), per_entry.sum(-1))


def test_samples_have_the_right_moments():
    generator = torch.Generator().manual_seed(0)
    alpha = torch.tensor([0.3, 1.0, 4.0]).expand(40000, 3)
    draws = _standard_gamma(alpha, generator)
    np.testing.assert_allclose(draws.mean(0).numpy(), [0.3, 1.0, 4.0], rtol=0.03)
    np.testing.assert_allclose(draws.var(0).numpy(), [0.3, 1.0, 4.0], rtol=0.06)
    nb = NegativeBinomialLikelihood(1)
    with torch.no_grad():
        nb.log_theta.fill_(np.log(2.0))
    counts = nb.sample(torch.full((40000, 1), np.log(5.0)), generator)
    assert abs(counts.mean().item() - 5.0) < 0.1 and abs(counts.var().item() - (5 + 25 / 2)) < 0.6


# ------------------------------------------------------------- the columns


def test_auto_chooses_by_dtype_and_a_dict_overrides(frame):
    vae = VAETransformer(likelihood="auto", **FAST).fit(frame)
    # visits (counts with a right tail) fit a Gaussian better on the log1p scale: log-normal.
    assert vae.column_likelihoods_ == {"height": "gaussian", "smoker": "bernoulli", "city": "categorical",
                                       "visits": "lognormal", "year": "gaussian", "note": "categorical"}
    vae = VAETransformer(likelihood={"visits": "negative_binomial"}, **FAST).fit(frame)
    assert vae.column_likelihoods_["visits"] == "negative_binomial" and vae.column_likelihoods_["city"] == "categorical"
    # An array is one kind of data: Bernoulli when every value lies in [0, 1] and a tenth of them
    # sit at 0 or 1 (an image's background, flags), else Gaussian.
    pixels = np.where(np.random.RandomState(1).rand(50, 3) < 0.4, 0.0, np.random.RandomState(0).rand(50, 3))
    shares = VAETransformer(likelihood="auto", **FAST).fit(pixels)
    assert set(shares.column_likelihoods_.values()) == {"bernoulli"}
    for plain in (pixels * [1, 1, 2], np.random.RandomState(0).rand(50, 3)):
        assert set(VAETransformer(likelihood="auto", **FAST).fit(plain).column_likelihoods_.values()) == {"gaussian"}
    # A DataFrame of numbers in [0, 1] is Bernoulli like an array; beside other numbers only 0/1 flags are.
    shares = VAETransformer(**FAST).fit(pd.DataFrame(pixels[:, :2], columns=["a", "b"]))
    assert set(shares.column_likelihoods_.values()) == {"bernoulli"}
    spread = VAETransformer(**FAST).fit(pd.DataFrame({"a": np.linspace(0, 1, 50), "b": np.linspace(0.2, 0.3, 50)}))
    assert set(spread.column_likelihoods_.values()) == {"gaussian"}
    mixed = VAETransformer(**FAST).fit(pd.DataFrame({"flag": np.arange(50) % 2, "share": np.linspace(0, 1, 50),
                                                     "mass": np.linspace(0, 9, 50)}))
    assert mixed.column_likelihoods_ == {"flag": "bernoulli", "share": "gaussian", "mass": "gaussian"}
    rng = np.random.RandomState(0)
    amounts = pd.DataFrame({"price": np.exp(rng.normal(7, 1, 200)), "shifted": np.exp(rng.normal(7, 1, 200)) - 1000,
                            "level": rng.normal(100, 10, 200), "tiny": np.exp(rng.normal(-6, 1, 200)),
                            "wind": np.r_[np.abs(rng.normal(10, 3, 199)), 1048.0]})
    chosen = VAETransformer(**FAST).fit(amounts).column_likelihoods_
    # A negative value rules the log scale out; so does a column log1p would not straighten,
    # however far one reading lies from the rest.
    assert chosen == {"price": "lognormal", "shifted": "gaussian", "level": "gaussian", "tiny": "gaussian",
                      "wind": "gaussian"}
    overridden = VAETransformer(likelihood={"price": "gaussian"}, **FAST).fit(amounts)
    assert overridden.column_likelihoods_["price"] == "gaussian"
    with pytest.raises(ValueError, match=r"names columns X does not have: \['nope'\]"):
        VAETransformer(likelihood={"nope": "poisson"}, **FAST).fit(frame)
    with pytest.raises(ValueError, match="unknown likelihoods"):
        VAETransformer(likelihood={"visits": "zip"}, **FAST).fit(frame)


def test_a_censored_bound_is_the_bound_in_float32_as_in_float64():
    # float32(3.7) is 3.7000000477: rows on the bound, given as float32 to a model fitted on
    # float64 (or the other way round), were scored as densities, 1.5 nats lower on average.
    # (Whether the standardised bound rounds alike in float32 depends on the column's mean and
    # scale: these, a reviewer's, are ones where it did not.)
    rng = np.random.RandomState(0)
    z = rng.normal(size=300)
    c = np.maximum(3.7 + 5 * z + rng.normal(size=300), 3.7)
    frame = pd.DataFrame({"g": 10 + 3 * z + rng.normal(size=300), "c": c})
    on_bound = frame["c"] == 3.7
    narrow = frame.astype({"c": np.float32})
    settings = {"hidden_layer_sizes": (16,), "max_iter": 10, "random_state": 0}
    for fitted_on, given in ((frame, narrow), (narrow, frame)):
        vae = VAETransformer(**settings).fit(fitted_on)
        assert list(vae.censored_bounds_) == ["c"]
        np.testing.assert_array_equal(vae.score_samples(given)[on_bound], vae.score_samples(fitted_on)[on_bound])
    # Done in the model's front: a detector (which widens float32 columns before its base sees
    # them), a nullable column and the exported graph read the bound alike.
    from skvae import VAEOutlierDetector

    detector = VAEOutlierDetector(VAETransformer(**settings), random_state=0).fit(frame)
    np.testing.assert_array_equal(detector.score_samples(narrow)[on_bound], detector.score_samples(frame)[on_bound])
    vae = VAETransformer(**settings).fit(frame.astype({"c": "Float64"}))
    np.testing.assert_array_equal(vae.score_samples(narrow)[on_bound], vae.score_samples(frame)[on_bound])
    with torch.inference_mode():
        graph = vae.to_torch()(torch.as_tensor(narrow.to_numpy(np.float32)))
    np.testing.assert_array_equal(graph.numpy(), vae.transform(narrow.to_numpy(np.float32)))
    # Only values given at float32's precision: a float64 column at an offset of 1.7e9 (128
    # between float32's neighbours there) keeps values a few units past its bound (a first
    # version read every value within 64 of it as the bound, in fit and every call).
    stamps = pd.DataFrame({"g": frame["g"], "c": 1.7e9 + np.where(on_bound, 0.0, np.abs(rng.normal(0, 10, 300)))})
    vae = VAETransformer(**settings).fit(stamps)
    assert vae.censored_bounds_ == {"c": (1.7e9, None)}
    probes = pd.DataFrame({"g": [10.0] * 3, "c": 1.7e9 + np.array([0.0, 5.0, 20.0])})
    assert len(set(vae.score_samples(probes).round(6))) == 3
    # Nor a float64 integer that float32 holds exactly and rounds the bound to: 2**24 beside a
    # cap at 2**24 + 1 (read as the cap, in fit and every call, by a second version).
    capped = pd.DataFrame({"g": z, "c": np.minimum(2.0**24 + 1 + np.round(3 * z) - 3, 2.0**24 + 1)})
    vae = VAETransformer(latent_dim=1, **settings).fit(capped)
    assert vae.censored_bounds_ == {"c": (None, 2.0**24 + 1)}
    codes = vae.transform(pd.DataFrame({"g": [0.0, 0.0], "c": [2.0**24, 2.0**24 + 1]}))
    assert codes[0, 0] != codes[1, 0]
    # A model fitted on float32 reads the float64 values of its bound as the bound.
    pile = np.maximum(1234.567 + 5 * z + rng.normal(size=300), 1234.567)
    fitted32 = pd.DataFrame({"g": frame["g"], "c": pile.astype(np.float32)})
    vae = VAETransformer(**settings).fit(fitted32)
    at = pile == 1234.567
    given64 = fitted32.astype({"c": np.float64}).assign(c=pile)
    np.testing.assert_array_equal(vae.score_samples(given64)[at], vae.score_samples(fitted32)[at])
    # A spread small beside the level, which float32 still resolves (its step at 1013.2 is 6e-5):
    # a third version, which asked for a thousandth of a standard deviation, missed it.
    pile = np.maximum(1013.2 + 0.01 * z + 0.001 * rng.normal(size=300), 1013.2)
    pressure = pd.DataFrame({"g": frame["g"], "c": pile})
    vae = VAETransformer(**settings).fit(pressure)
    at = pile == 1013.2
    np.testing.assert_array_equal(vae.score_samples(pressure.astype({"c": np.float32}))[at],
                                  vae.score_samples(pressure)[at])
    # A model pickled before the readable bounds were kept makes them again.
    import pickle

    part = next(p for p in vae.network_.columns.parts if p.censored)
    del part._buffers["censor_low_readable"], part._buffers["censor_high_readable"]
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(restored.transform(pressure.astype({"c": np.float32}))[at],
                                  restored.transform(pressure)[at])


def test_a_float_column_piled_at_a_bound_is_censored_there():
    """Scored by the probability at or beyond the bound, and drawn with its pile; only where "auto" decides."""
    rng = np.random.RandomState(0)
    z = rng.normal(size=600)
    frame = pd.DataFrame({
        "visibility": np.minimum(10.0, np.round(11 + 2 * z, 1)),  # capped at 10: 69% of rows
        "rain": np.maximum(0.0, np.round(z - 0.3, 2)),  # 0 for 62% of rows
        "level": np.round(z + 0.3 * rng.normal(size=600), 2),
        "stars": np.clip(np.round(3 + z), 1, 5).astype(int),  # integers: every value is its own pile
        "rare": np.r_[np.full(30, 5.0), rng.normal(10, 1, 570)],  # 5% at its minimum: a tail, not a pile
    })
    settings = dict(latent_dim=1, hidden_layer_sizes=(16,), max_iter=60, random_state=0)
    vae = VAETransformer(**settings).fit(frame)
    assert vae.censored_bounds_ == {"visibility": (None, 10.0), "rain": (0.0, None)}
    draws = vae.sample(3000, random_state=0)
    # Drawn at the bound exactly, about as often as in the data; without censoring a
    # Gaussian puts about half the piled rows' draws on the other side of it.
    assert abs(np.mean(draws["visibility"] == 10.0) - np.mean(frame["visibility"] == 10.0)) < 0.1
    assert abs(np.mean(draws["rain"] == 0.0) - np.mean(frame["rain"] == 0.0)) < 0.1
    uncensored = VAETransformer(likelihood={"visibility": "gaussian"}, **settings).fit(frame)
    assert uncensored.censored_bounds_ == {"rain": (0.0, None)}
    assert np.mean(uncensored.sample(3000, random_state=0)["visibility"] == 10.0) < 0.5
    # Point values stay within the bounds, and scores stay finite, held-out values past a bound included.
    decoded = vae.inverse_transform(vae.transform(frame))
    assert decoded["visibility"].max() <= 10.0 and decoded["rain"].min() >= 0.0
    assert np.all(np.isfinite(vae.score_samples(frame.assign(visibility=frame["visibility"] + 5))))
    # On the bound a row scores a probability; far past it (never seen in training) a density, which flags it.
    capped = frame[frame["visibility"] == 10.0].head(20)
    on, past = vae.score_samples(capped), vae.score_samples(capped.assign(visibility=1000.0))
    assert np.all(past < on - 100)
    # An array is never censored ("auto" decides for all its columns at once, by range only).
    assert VAETransformer(**settings).fit(frame[["visibility", "level"]].to_numpy()).censored_bounds_ == {}


def test_outputs_are_dataframes_with_the_training_dtypes(frame):
    vae = VAETransformer(likelihood={"visits": "poisson"}, **FAST).fit(frame)
    codes = vae.transform(frame)
    assert codes.shape == (300, 2) and np.all(np.isfinite(codes))
    for out in (vae.inverse_transform(codes), vae.sample(7, random_state=0, from_likelihood=False)):
        assert isinstance(out, pd.DataFrame) and list(out.columns) == list(frame.columns)
        assert out["city"].dtype == frame["city"].dtype and set(out["city"].dropna()) <= {"Paris", "Oslo", "Rome"}
        assert out["smoker"].dtype == bool and out["visits"].dtype == frame["visits"].dtype
        assert out["height"].dtype == np.float64 and not out.isna().any().any()
    assert vae.inverse_transform(codes).index.equals(pd.RangeIndex(300))


def test_scores_are_finite_and_per_column(frame):
    vae = VAETransformer(likelihood={"visits": "poisson"}, **FAST).fit(frame)
    scores = vae.score_samples(frame)
    assert np.all(np.isfinite(scores))
    assert vae.score_samples(frame, n_importance=5).mean() > scores.mean()


def test_clear_errors_for_bad_columns(frame):
    vae = VAETransformer(likelihood={"visits": "poisson"}, **FAST).fit(frame)
    unseen = frame.copy()
    unseen["city"] = unseen["city"].cat.add_categories("Lima")
    unseen.loc[3, "city"] = "Lima"
    with pytest.raises(ValueError, match=r"Column 'city' holds categories not seen at fit: \['Lima'\].*handle_unknown='ignore'"):
        vae.transform(unseen)
    ignoring = VAETransformer(likelihood={"visits": "poisson"}, handle_unknown="ignore", **FAST).fit(frame)
    missing = frame.copy()
    missing.loc[3, "city"] = np.nan
    np.testing.assert_array_equal(ignoring.transform(unseen)[3], ignoring.transform(missing)[3])
    negative = frame.copy()
    negative.loc[5, "visits"] = -2
    # The advice names the column's own likelihood: a refit for a fitted model, a dict entry at fit.
    with pytest.raises(ValueError, match=r'likelihood="poisson" needs column \'visits\' in \[0, inf\].*'
                                         r'refit with likelihood=\{\'visits\': "gaussian"\}'):
        vae.score_samples(negative)
    with pytest.raises(ValueError, match=r'likelihood="poisson" needs column \'visits\'.*cannot be negative.*'
                                         r'For that column alone: likelihood=\{\'visits\': "gaussian"\}'):
        VAETransformer(likelihood={"visits": "poisson"}, **FAST).fit(negative)
    changed = frame.copy()
    changed["height"] = changed["height"].astype(str)
    with pytest.raises(ValueError, match=r"Column 'height' holds '\d+\.\d+' \(row 0\), which a gaussian likelihood "
                                         r"cannot take: .*pd.to_numeric"):
        vae.transform(changed)


@pytest.mark.parametrize("strings, expected", [
    (pd.date_range("2021-01-01", periods=60).strftime("%Y-%m-%d"), r"Column 'c' holds dates as strings.*pd.to_datetime"),
    (pd.date_range("2021-01-01", periods=60).strftime("%m/%d/%Y"), r"Column 'c' holds dates as strings \(e.g. '01/01/2021'\)"),
    (pd.date_range("2021-01-13", periods=60).strftime("%d/%m/%Y"), r"pd.to_datetime\(X\['c'\], format='%d/%m/%Y'\)"),
    ([f"customer-{i}" for i in range(60)], r"Column 'c' holds a different value in each of its 60 rows.*Drop the column"),
    # Most rows' value no other row holds: held-out rows mostly hold unknown levels too.
    ([f"customer-{i}" for i in range(40)] + ["customer-0"] * 20,
     r"Column 'c' holds a value no other row holds in 39 of its 60 rows.*Drop the column"),
    (np.tile(["2021-01-01", "2021-01-02"], 30), r"Column 'c' holds dates as strings.*category of 2 levels"),
    # Times of day were levels without a word: their order lost, a new time an unknown category.
    ([f"{h % 24:02d}:{(7 * h) % 60:02d}" for h in range(60)],
     r"Column 'c' holds times of day as strings \(e.g. '00:00'\).*pd.to_timedelta\(X\['c'\] \+ ':00'\)"),
    ([f"{h % 24}:{(7 * h) % 60:02d}:30" for h in range(60)], r"times of day as strings.*pd.to_timedelta\(X\['c'\].astype\(str\)\)"),
    ([datetime.time(h % 24, (7 * h) % 60) for h in range(60)],
     r"holds times of day as Python objects \(e.g. datetime.time\(0, 0\)\).*as a duration since midnight"),
])
def test_strings_that_are_dates_or_identifiers_are_warned_about(strings, expected):
    X = pd.DataFrame({"c": np.asarray(strings, dtype=object), "x": np.linspace(0, 1, 60)})
    with pytest.warns(UserWarning, match=expected):
        VAETransformer(**FAST).fit(X)


@pytest.mark.parametrize("column", [
    pd.Categorical(pd.date_range("2021-01-01", periods=60).strftime("%Y-%m-%d")),  # a category by choice
    [f"customer-{i}" for i in range(20)] * 3,  # labels that repeat
    [f"customer-{i}" for i in range(25)] + ["customer-0"] * 35,  # a few rows' labels seen once
    np.tile(["Paris", "Oslo", "Rome"], 20),
])
def test_ordinary_categories_are_not_warned_about(column, recwarn):
    VAETransformer(**FAST).fit(pd.DataFrame({"c": column, "x": np.linspace(0, 1, 60)}))
    assert not [w for w in recwarn if w.category is UserWarning], [str(w.message) for w in recwarn]


def test_a_few_distinct_names_are_not_taken_for_an_identifier(recwarn):
    names = [f"person {i}" for i in range(30)]
    VAETransformer(**FAST).fit(pd.DataFrame({"name": names, "x": np.linspace(0, 1, 30)}))
    assert not [w for w in recwarn if w.category is UserWarning]


# ---------------------------------------------------------- missing values


def test_missing_values_in_every_method(tabular):
    X = tabular.copy()
    X[::7, 1] = np.nan
    X[::11, 4] = np.nan
    for Estimator in (VAETransformer, AutoencoderTransformer):
        model = Estimator(**FAST).fit(X)
        model.partial_fit(X)
        for method in ("transform", "score_samples"):
            assert np.all(np.isfinite(getattr(model, method)(X)))
    vae = VAETransformer(**FAST).fit(X)
    # The encoder reads an indicator for each column that had holes at fit.
    assert vae.network_.encoder.layers[0].in_features == 6 + 2
    # The score of a row with a hole is the ELBO of its observed entries alone, in X's units:
    # checked against an independent Monte-Carlo estimate (4,000 draws) over every row with
    # column 1 hidden. Scoring the hole (as 0, say) would move it by about a nat.
    holed = X.copy()
    holed[:, 1] = np.nan
    network = vae.network_
    with torch.no_grad():
        inputs, targets, mask = network.columns.encode(torch.from_numpy(holed))
        mu, log_var = network.encode(inputs)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
        z = mu + torch.randn(4000, *mu.shape, generator=torch.Generator().manual_seed(0)) * q.stddev
        reconstruction = network.likelihood.log_prob(targets, network.decode(z), mask).mean(0)
        kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)
        observed_jacobian = network.columns.log_jacobian - network.columns.missing_jacobian(mask)
    expected = ((reconstruction - kl).double() - observed_jacobian).numpy()
    assert abs(vae.score_samples(holed).mean() - expected.mean()) < 0.05


def test_a_row_with_nothing_observed_scores_minus_its_kl(tabular):
    vae = VAETransformer(**FAST).fit(tabular)
    empty = np.full((1, 6), np.nan)
    elbo = vae.score_samples(empty)[0]
    iwae = vae.score_samples(empty, n_importance=2000)[0]
    # log p(nothing) = 0: the ELBO is minus the code's KL; the IWAE estimate
    # is the log of a mean of importance weights whose expectation is 1, so
    # with many samples it lies near 0 (one draw may sit a little above it).
    assert elbo <= 0 and elbo < iwae and abs(iwae) <= 1e-2
    assert np.isfinite(vae.transform(empty)).all()


def test_a_model_fitted_without_holes_takes_them_later(tabular):
    vae = VAETransformer(**FAST).fit(tabular)
    X = tabular.copy()
    X[0, 2] = np.nan
    assert np.isfinite(vae.transform(X)).all() and np.isfinite(vae.score_samples(X)).all()
    np.testing.assert_array_equal(vae.transform(X)[1:], vae.transform(tabular)[1:])


@pytest.mark.parametrize("name", ["VAETransformer", "AutoencoderTransformer", "ConditionalVAETransformer",
                                  "VQVAETransformer", "HierarchicalVAETransformer", "VAEGANTransformer", "VAEImputer"])
def test_a_many_level_category_is_encoded_per_minibatch_to_the_same_fit(name, monkeypatch):
    """Rows whose one-hot inputs would dwarf X are encoded per minibatch, and fit exactly as when encoded whole."""
    import skvae
    import skvae._base
    import skvae._sources

    rng = np.random.RandomState(0)
    n = 400
    level = rng.randint(0, 150, n)
    X = pd.DataFrame({
        "size": level / 10 + rng.normal(size=n),
        "plane": pd.Categorical([f"N{k:03d}" for k in level]),
        "delay": rng.exponential(size=n),
    })
    X.loc[rng.rand(n) < 0.1, "size"] = np.nan
    X.loc[rng.rand(n) < 0.1, "plane"] = np.nan
    y = (level > 75).astype(int)
    Estimator = getattr(skvae, name)
    settings = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0, early_stopping=True,
                    validation_fraction=0.2)

    def fitted():
        model = Estimator(**settings)
        return model.fit(X, y) if name == "ConditionalVAETransformer" else model.fit(X)

    # 400 rows of about 150 inputs outgrow eight times X's 3 columns once the floor is lowered.
    monkeypatch.setattr(skvae._sources, "ENCODE_VALUES", 1000)
    whole = skvae._base.TensorRows

    def not_whole(*args, **kwargs):
        raise AssertionError("the rows were encoded whole")

    monkeypatch.setattr(skvae._base, "TensorRows", not_whole)
    per_minibatch = fitted()
    monkeypatch.setattr(skvae._base, "TensorRows", whole)
    monkeypatch.setattr(skvae._base, "encoding_outgrows", lambda *shape: False)
    encoded_whole = fitted()
    assert per_minibatch.loss_curve_ == encoded_whole.loss_curve_
    assert per_minibatch.validation_scores_ == encoded_whole.validation_scores_
    codes, expected = per_minibatch.transform(X), encoded_whole.transform(X)
    if isinstance(codes, pd.DataFrame):  # the imputer's filled frame
        pd.testing.assert_frame_equal(codes, expected)
    else:
        np.testing.assert_array_equal(codes, expected)


def test_inputs_written_by_slices_are_the_scattered_ones(frame):
    """A group of side-by-side inputs is written as a slice, holes spread by a transposed gather: as by positions."""
    # The two categorical columns side by side (one slice of 3 + 2 inputs); the
    # Gaussian ones apart (written through their positions).
    frame = frame[["height", "city", "note", "visits", "year", "smoker"]]
    vae = VAETransformer(**FAST).fit(frame)
    codec = vae.network_.columns
    values = torch.from_numpy(vae._schema.values(frame))
    filled, holes = codec._filled(values)
    widths = [s.stop - s.start for s in codec._input_slices if s is not None]
    assert max(widths) > 1 and None in codec._input_slices
    by_slices = codec._inputs(filled, holes)
    # The same inputs written through the positions, holes gathered by column.
    plain = torch.empty(len(frame), codec.n_value_inputs)
    for part, group, positions in zip(codec.parts, codec.columns, codec._input_positions):
        plain[:, positions] = part.encode(filled[:, group])[0]
    plain = torch.where(holes[:, codec._input_column], torch.zeros(()), plain)
    plain = torch.cat([plain, holes[:, codec.flagged].float()], dim=1)
    assert torch.equal(by_slices, plain) and by_slices.is_contiguous()
    # Holes in a model fitted without them (no flag inputs, nothing appended) leave the inputs row-major.
    unflagged = VAETransformer(**FAST).fit(frame.dropna()).network_.columns
    assert not unflagged.flagged and unflagged._inputs(filled, holes).is_contiguous()


def test_pandas_missing_markers(frame):
    nullable = frame.copy()
    nullable["visits"] = nullable["visits"].astype("Int64")
    nullable.loc[2, "visits"] = pd.NA
    nullable["smoker"] = nullable["smoker"].astype("boolean")
    nullable.loc[4, "smoker"] = pd.NA
    vae = VAETransformer(likelihood={"visits": "poisson"}, **FAST).fit(nullable)
    assert vae.column_likelihoods_["smoker"] == "bernoulli"
    assert np.isfinite(vae.score_samples(nullable)).all()
    assert str(vae.sample(3, random_state=0)["visits"].dtype) == "Int64"


def test_mixed_frames_in_a_pipeline_and_a_grid_search(frame):
    target = (frame["smoker"]).to_numpy()
    features = frame.drop(columns="smoker")
    pipe = Pipeline([("vae", VAETransformer(likelihood="auto", **FAST)), ("clf", LogisticRegression())])
    pipe.fit(features, target)
    # Better than the majority class (0.67): the codes carry the factor smoking follows.
    assert pipe.score(features, target) > max(target.mean(), 1 - target.mean())
    search = GridSearchCV(VAETransformer(likelihood="auto", **FAST), {"beta": [0.5, 2.0]}, cv=2).fit(features)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_drawn_samples_keep_ranges_and_missing_rates():
    rng = np.random.RandomState(0)
    n = 400
    frame = pd.DataFrame({
        "year": pd.array(rng.randint(2007, 2010, n), dtype="Int64"),
        "mass": rng.gamma(3.0, 1000.0, n),
        "island": pd.Categorical(rng.choice(["Biscoe", "Dream", "Torgersen"], n, p=[0.5, 0.35, 0.15])),
        "member": pd.array(rng.rand(n) > 0.4, dtype="boolean"),
    })
    frame.loc[rng.rand(n) < 0.3, "mass"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "year"] = pd.NA
    frame.loc[rng.rand(n) < 0.2, "member"] = pd.NA
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=20, random_state=0).fit(frame)
    drawn = vae.sample(3000, random_state=0, from_likelihood=True)
    assert dict(drawn.dtypes) == dict(frame.dtypes)
    for column, rate in (("mass", 0.3), ("year", 0.1), ("member", 0.2), ("island", 0.0)):
        assert abs(drawn[column].isna().mean() - frame[column].isna().mean()) < 0.03, column
    assert drawn["year"].dropna().between(2007, 2009).all()
    assert drawn["mass"].dropna().between(frame["mass"].min(), frame["mass"].max()).all()
    # The decoder's means have no holes, and stay in range too.
    means = vae.sample(300, random_state=0, from_likelihood=False)
    assert not means.isna().any().any() and means["year"].between(2007, 2009).all()


def test_transform_takes_values_beyond_a_flag_columns_training_range():
    # A 0/1 integer column becomes Bernoulli under likelihood="auto"; a 2 in a
    # later fold (caravan's policy counts) must still encode, as PCA.transform
    # takes any value; only scoring it, which needs the likelihood, is refused.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"flag": rng.randint(0, 2, 300), "size": rng.normal(size=300)})
    vae = VAETransformer(**FAST).fit(X)
    assert vae.column_likelihoods_["flag"] == "bernoulli"
    new = X.head(5).assign(flag=[0, 1, 2, 1, 0])
    codes = vae.transform(new)
    assert np.isfinite(codes).all()
    np.testing.assert_array_equal(codes[[0, 1, 3, 4]], vae.transform(new.iloc[[0, 1, 3, 4]]))
    with pytest.raises(ValueError, match=r"likelihood=\"bernoulli\" needs column 'flag' in \[0, 1\]"):
        vae.score_samples(new)
    # A count's encoder reads log1p(max(x, 0)): a negative count is read as 0, and said so.
    counts = VAETransformer(**FAST, likelihood="poisson").fit(rng.poisson(3.0, size=(200, 3)))
    with pytest.warns(UserWarning, match=r"fitted as poisson on \[0, inf\], holds values from -1 to -1 \(the "
                                         r"encoder reads them as the nearest value in \[0, inf\]\)"):
        codes = counts.transform(np.array([[1.0, -1.0, 2.0]]))
    np.testing.assert_array_equal(codes, counts.transform(np.array([[1.0, 0.0, 2.0]])))
    with pytest.raises(ValueError, match=r'likelihood="poisson" needs X in \[0, inf\]'):
        counts.score_samples(np.array([[1.0, -1.0, 2.0]]))


def test_a_negative_amount_in_a_log_normal_column_is_read_as_0_with_a_warning():
    # likelihood="auto" takes a skewed non-negative column on the log scale, which the user never
    # named; a later fold's one negative value refused the whole transform (and the imputer's fill)
    # where PCA.transform takes any value. The encoder reads log1p(max(x, 0)): the call goes on and
    # says so; scoring the value, which needs the likelihood, is still refused.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"amount": rng.lognormal(3.0, 1.0, 300), "size": rng.normal(size=300)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae, imputer = VAETransformer(**FAST).fit(X), VAEImputer(**FAST).fit(X.assign(size=X["size"].where(X.index % 10 > 0)))
    assert vae.column_likelihoods_["amount"] == "lognormal"
    new = X.head(4).assign(amount=[-5.0, 10.0, 0.0, 3.0])
    with pytest.warns(UserWarning, match=r"column \['amount'\] \(1 in all\), fitted as lognormal on \[0, inf\], "
                                         r"holds values from -5 to 10 \(the encoder reads them as the nearest value"):
        codes = vae.transform(new)
    np.testing.assert_array_equal(codes[0], vae.transform(new.iloc[[0]].assign(amount=0.0))[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_array_equal(codes[1:], vae.transform(new.iloc[1:]))  # none past the range: no warning
    holed = new.assign(size=[np.nan, 1.0, 1.0, 1.0])
    with pytest.warns(UserWarning, match="fitted as lognormal"):
        filled = imputer.transform(holed)
    assert np.isfinite(filled.to_numpy(float)).all() and filled["amount"].iloc[0] == -5.0
    with pytest.raises(ValueError, match=r'likelihood="lognormal" needs column \'amount\' in \[0, inf\]'):
        vae.score_samples(new)


def test_a_polars_frame_is_read_as_the_same_frame_in_pandas(frame):
    # scikit-learn turned a polars frame into one float array: a column of strings failed ("could not
    # convert string to float") and a likelihood dict by column name was refused.
    pl = pytest.importorskip("polars")
    data = frame.drop(columns=["city"]).dropna()
    polars_frame = pl.from_pandas(data)
    settings = dict(FAST, likelihood={"visits": "poisson"})
    from_polars = VAETransformer(**settings).fit(polars_frame)
    from_pandas = VAETransformer(**settings).fit(polars_frame.to_pandas())
    assert from_polars.column_likelihoods_ == from_pandas.column_likelihoods_
    assert from_polars.column_likelihoods_["visits"] == "poisson"
    np.testing.assert_array_equal(from_polars.transform(polars_frame), from_pandas.transform(polars_frame.to_pandas()))
    decoded = from_polars.inverse_transform(from_polars.transform(polars_frame))
    assert isinstance(decoded, pd.DataFrame) and list(decoded.columns) == list(data.columns)
    codes = from_polars.set_output(transform="polars").transform(polars_frame)
    assert isinstance(codes, pl.DataFrame) and codes.columns == ["vaetransformer0", "vaetransformer1"]
    holes = polars_frame.with_columns(pl.when(pl.col("visits") > 3).then(None).otherwise(pl.col("visits")).alias("visits"))
    filled = VAEImputer(**FAST).fit_transform(holes)
    assert isinstance(filled, pd.DataFrame) and not filled.isna().any().any()
    # polars integers and booleans with nulls stay whole numbers and flags (to_pandas gives float, object).
    assert filled["visits"].dtype == "Int64"
    flags = pl.DataFrame({"x": np.linspace(0, 1, 40), "flag": [None if i % 7 == 0 else i % 2 == 0 for i in range(40)]})
    assert VAETransformer(**FAST).fit(flags).column_likelihoods_["flag"] == "bernoulli"


def test_a_polars_integer_column_with_holes_keeps_its_width():
    # Widened to Int64 (pandas keeps Int8 and UInt16): the output's dtype hung on the frame's library.
    pl = pytest.importorskip("polars")
    rng = np.random.RandomState(0)
    small = [None if i % 9 == 0 else int(v) for i, v in enumerate(rng.randint(-5, 5, 60))]
    unsigned = [None if i % 7 == 0 else int(v) for i, v in enumerate(rng.randint(0, 900, 60))]
    polars_frame = pl.DataFrame({"x": rng.normal(size=60), "i8": pl.Series(small, dtype=pl.Int8),
                                 "u16": pl.Series(unsigned, dtype=pl.UInt16)})
    pandas_frame = pd.DataFrame({"x": polars_frame["x"].to_numpy(), "i8": pd.array(small, dtype="Int8"),
                                 "u16": pd.array(unsigned, dtype="UInt16")})
    from_polars = VAEImputer(**FAST).fit(polars_frame)
    from_pandas = VAEImputer(**FAST).fit(pandas_frame)
    pd.testing.assert_frame_equal(from_polars.transform(polars_frame), from_pandas.transform(pandas_frame))
    assert dict(from_polars.sample(5, random_state=0).dtypes) == {"x": "float64", "i8": "Int8", "u16": "UInt16"}


def test_integers_beyond_what_float64_holds_exactly_draw_a_warning():
    rng = np.random.RandomState(0)
    n = 60
    X = pd.DataFrame({"x": rng.normal(size=n), "id": np.int64(2**62) + rng.randint(0, 1000, n),
                      "count": rng.randint(-(2**53) + 1, 2**53, n)})
    # 1,000 distinct identifiers read as at most two floats, and came back so, without a word.
    with pytest.warns(UserWarning, match=r"Column 'id' holds integers up to 4\.61e\+18 in magnitude, 2\*\*53 or beyond"):
        VAETransformer(max_iter=2, random_state=0).fit(X)
    just_beyond = X.assign(count=X["count"].clip(-(2**53) + 10, 2**53 - 10))
    just_beyond.loc[0, "count"] = -(2**53) - 1  # reads as -2**53
    with pytest.warns(UserWarning, match="Column 'count' holds integers"):
        VAETransformer(max_iter=2, random_state=0).fit(just_beyond.drop(columns="id"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        VAETransformer(max_iter=2, random_state=0).fit(X.drop(columns="id"))  # up to 2**53: exact
    assert not [w for w in caught if "2**53" in str(w.message)]


def test_a_record_with_none_reads_as_a_hole_alone_as_among_other_rows():
    rng = np.random.RandomState(0)
    n = 120
    frame = pd.DataFrame({"a": rng.normal(size=n), "amount": rng.gamma(2.0, 5.0, n),
                          "visits": pd.array(rng.poisson(3, n), dtype="Int64"),
                          "joined": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.randint(0, 900, n), unit="D")})
    frame.loc[::10, ["amount", "visits", "joined"]] = None
    model = VAEImputer(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(frame)
    record = {"a": 0.3, "amount": None, "visits": None, "joined": None}  # as one JSON record reads
    alone = pd.DataFrame([record])
    assert (alone.dtypes == object).sum() == 3
    among = pd.DataFrame([record, frame.iloc[1].to_dict()])
    # Refused alone ("holds object values, which a gaussian likelihood cannot take"), read among others.
    np.testing.assert_array_equal(model.score_samples(alone), model.score_samples(among)[:1])
    filled = model.transform(alone)
    assert not filled.isna().any().any()
    pd.testing.assert_frame_equal(filled, model.transform(among).iloc[:1])


def test_drawn_holes_in_an_object_column_of_numbers_are_none_as_it_held():
    rng = np.random.RandomState(0)
    values = rng.normal(size=200)
    frame = pd.DataFrame({"x": rng.normal(size=200),
                          "of": pd.Series([None if k % 5 == 0 else float(v) for k, v in enumerate(values)], dtype=object)})
    drawn = VAETransformer(max_iter=2, random_state=0).fit(frame).sample(300, random_state=0)["of"]
    holes = drawn.isna()
    assert holes.any() and drawn.dtype == object
    assert all(value is None for value in drawn[holes])  # were float('nan'), a marker it never held
    assert all(isinstance(value, float) for value in drawn[~holes])


def test_a_stray_marker_among_numbers_in_an_object_column_is_warned_about():
    # "n/a" where a value is missing made the column categories, each number a level, silently.
    values = np.arange(60) % 8
    column = pd.Series(values.astype(float), dtype=object)
    column[5] = "n/a"
    X = pd.DataFrame({"a": np.linspace(0, 1, 60), "k": column})
    with pytest.warns(UserWarning, match=r"Column 'k' holds numbers and 1 other value \('n/a'\).*replace\('n/a', np.nan\)"):
        VAETransformer(max_iter=1).fit(X)
    # The advice replaces every marker, not only the first.
    X.loc[7, "k"], X.loc[9, "k"] = "?", "n/a"
    with pytest.warns(UserWarning, match=r"3 other values \('n/a', '\?'\).*replace\(\['n/a', '\?'\], np.nan\)"):
        VAETransformer(max_iter=1).fit(X)
    # Decimals are numbers, as the column's reading takes them: only the marker is named.
    import decimal

    X["k"] = pd.Series([decimal.Decimal(int(v)) for v in values], dtype=object)
    X.loc[5, "k"] = "n/a"
    with pytest.warns(UserWarning, match=r"1 other value \('n/a'\)"):
        VAETransformer(max_iter=1).fit(X)


def test_shares_beside_a_category_are_numbers_not_pixels():
    # Every number in [0, 1], a tenth at 0 or 1, made a table's shares Bernoulli "pixels":
    # sample gave their probabilities, a standard deviation of 0.04 where the data's was 0.17.
    rng = np.random.RandomState(0)
    shares = pd.DataFrame({"discount": np.where(rng.rand(300) < 0.15, 0.0, rng.beta(2, 5, 300)),
                           "completion": np.where(rng.rand(300) < 0.12, 1.0, rng.beta(5, 2, 300))})
    table = shares.assign(region=rng.choice(["n", "s", "e", "w"], 300))
    vae = VAETransformer(hidden_layer_sizes=(16,), max_iter=60, random_state=0).fit(table)
    assert vae.column_likelihoods_ == {"discount": "gaussian", "completion": "gaussian", "region": "categorical"}
    drawn = vae.sample(3000, random_state=0)
    assert drawn["discount"].std() > 0.5 * table["discount"].std()
    # A frame of numbers alone is read as an array is: pixels.
    assert set(VAETransformer(**FAST).fit(shares).column_likelihoods_.values()) == {"bernoulli"}
    # Beside a 0/1 integer flag they were pixels too; floats and integers together are a table's columns.
    flagged = shares.assign(member=(rng.rand(300) < 0.3).astype(np.int64))
    assert VAETransformer(**FAST).fit(flagged).column_likelihoods_ == {
        "discount": "gaussian", "completion": "gaussian", "member": "bernoulli"}
    # Pixels read back from a CSV stay pixels: their blank border columns come back as integers.
    written = io.StringIO()
    np.savetxt(written, load_digits().data[:300] / 16, fmt="%g", delimiter=",")  # 0, not 0.0
    digits = pd.read_csv(io.StringIO(written.getvalue()), header=None)
    assert (digits.dtypes == np.int64).sum() > 0
    assert set(VAETransformer(**FAST).fit(digits).column_likelihoods_.values()) == {"bernoulli"}
    # Pixels of one kind stay pixels: 0/1 integers, or grey floats.
    assert set(VAETransformer(**FAST).fit(flagged[["member"]].assign(other=1 - flagged["member"]))
               .column_likelihoods_.values()) == {"bernoulli"}


def test_odd_category_values_are_read_exactly_or_refused_by_name():
    rng = np.random.RandomState(0)
    small = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}
    # Integer categories beyond 2**53 beside a hole were read as floats: fit refused its own rows.
    ids = pd.DataFrame({"x": rng.normal(size=40),
                        "id": pd.Categorical.from_codes(rng.randint(0, 2, 40), categories=[2**53 + 1, 2**53 + 3])})
    ids.loc[::6, "id"] = np.nan
    vae = VAETransformer(**small).fit(ids)
    assert set(vae.sample(50, random_state=0)["id"].dropna()) <= {2**53 + 1, 2**53 + 3}
    # Tuples (a Categorical's categories, or an object column's cells) fitted, then no model that
    # held them could be loaded, or inverse_transform failed on their 2-D categories.
    for cells in (pd.Categorical([(1, 2), (3, 4)] * 20), pd.Series([(0, 1), (2, 3)] * 20, dtype=object)):
        with pytest.raises(ValueError, match=r"Column 'cell' (holds tuples of 2 values each|is a Categorical whose "
                                             r"categories are all tuples) .*astype\(str\)"):
            VAETransformer(**small).fit(pd.DataFrame({"x": rng.normal(size=40), "cell": cells}))
    # Tuples of several lengths, or beside strings, are one value each: fitted, given back and loaded
    # (tuples whose values do not compare, (1, "a") and ("b", 2, 3), raised a bare TypeError).
    for cells in ([("a", 1), ("b", 1, 2), "c", "d"], [(1, "a"), ("b", 2, 3), (1, None), "d"]):
        mixed = pd.DataFrame({"x": rng.normal(size=40), "cell": pd.Series(cells * 10)})
        vae = pickle.loads(pickle.dumps(VAETransformer(**small).fit(mixed)))
        assert set(vae.inverse_transform(vae.transform(mixed))["cell"]) <= set(cells)
    # Errors name the column, not its place or only its dtype.
    with pytest.raises(ValueError, match="Column 'phase': skvae cannot model columns of dtype complex128"):
        VAETransformer(**small).fit(pd.DataFrame({"x": rng.normal(size=40), "phase": rng.normal(size=40) * 1j}))
    with pytest.raises(ValueError, match="Column 'income' has a standard deviation of"):
        VAETransformer(**small).fit(pd.DataFrame({"x": rng.normal(size=40), "income": rng.normal(size=40) * 1e200}))
    # The detector's held-out check met lists first, with a bare TypeError.
    tags = pd.DataFrame({"x": rng.normal(size=50), "tags": pd.Series([["a", "b"], ["c"]] * 25, dtype=object)})
    with pytest.raises(ValueError, match="Column 'tags' holds list values"):
        VAEOutlierDetector(VAETransformer(**small)).fit(tags)


def test_the_imputer_gives_a_categorical_column_back_in_its_training_order():
    # Unordered categories in another order are equal dtypes to pandas: the caller's order came back.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "c": pd.Categorical(rng.choice(["a", "b"], 60), categories=["a", "b"])})
    imputer = VAEImputer(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(frame)
    reordered = frame.assign(c=frame["c"].cat.reorder_categories(["b", "a"]))
    filled = imputer.transform(reordered)
    assert list(filled["c"].cat.categories) == ["a", "b"]
    pd.testing.assert_series_equal(filled["c"], frame["c"])


def test_a_stray_string_in_a_numeric_column_is_named_with_its_row():
    # It was "holds object values, which a gaussian likelihood cannot take ... Pass the column as it
    # was at fit", though an object column of numbers is read: the string was the fault, unnamed.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    new = frame.head(3).astype({"a": object}).set_axis([10, 11, 12])
    new.iloc[1, 0] = "oops"
    for model in (VAETransformer(**FAST).fit(frame), VAEImputer(**FAST).fit(frame)):
        with pytest.raises(ValueError, match=r"Column 'a' holds 'oops' \(row 1, index label 11\), which a gaussian "
                                             r"likelihood cannot take: .*pd.to_numeric\(X\['a'\], errors='coerce'\)"):
            model.transform(new)


def test_noise_variance_is_none_where_a_column_is_censored_as_documented():
    # It was the variance of the Gaussian behind a censored column, reported as that column's noise.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"rain": np.where(rng.rand(300) < 0.3, 0.0, rng.normal(3, 1, 300)).clip(0),
                          "temp": rng.normal(size=300)})
    vae = VAETransformer(**FAST).fit(frame)
    assert vae.censored_bounds_ == {"rain": (0.0, None)}
    assert vae.noise_variance_ is None
    assert VAETransformer(**FAST).fit(frame.assign(rain=frame["rain"] + rng.normal(size=300))).noise_variance_.shape == (2,)


def test_a_record_whose_zoned_date_is_missing_reads_as_a_hole():
    # pd.DataFrame([record]) types a lone NaT without its zone: refused as "times with and without a
    # time zone cannot be compared", though the row sliced from the frame (or None there) was read.
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "when": pd.Timestamp("2024-03-01", tz="Europe/Paris")
                          + pd.to_timedelta(rng.randint(0, 500, 60), unit="h")})
    frame.loc[::5, "when"] = pd.NaT
    vae = VAETransformer(**FAST).fit(frame)
    record = pd.DataFrame([frame.to_dict("records")[0]])
    assert record["when"].dt.tz is None
    np.testing.assert_array_equal(vae.transform(record), vae.transform(frame.iloc[[0]]))
    # The imputer fills it in the zoned training dtype (its first version raised AttributeError).
    filled = VAEImputer(**FAST).fit(frame).transform(record)
    assert filled["when"].dtype == frame["when"].dtype and filled["when"].notna().all()
    with pytest.raises(ValueError, match="times with and without a time zone cannot be compared"):
        vae.transform(frame.iloc[[1]].assign(when=frame["when"].iloc[[1]].dt.tz_localize(None)))


def test_nan_in_an_arrow_float_column_is_a_hole_at_fit_as_at_transform():
    # read_parquet(dtype_backend="pyarrow") of a file polars wrote holds NaN as a value, where
    # isna() is False: the fit learnt no holes there (sample drew none, the imputer warned of
    # holes "not seen at fit" on its own training rows, an all-NaN column was fitted).
    pa = pytest.importorskip("pyarrow")
    rng = np.random.RandomState(0)
    a = rng.normal(size=200)
    a[rng.rand(200) < 0.1] = np.nan

    def arrow(values):
        return pd.array(pa.array(values, from_pandas=False), dtype=pd.ArrowDtype(pa.float64()))

    X = pd.DataFrame({"a": arrow(a), "b": rng.normal(size=200)})
    assert X["a"].isna().sum() == 0  # the premise: pandas does not call them missing
    vae = VAETransformer(max_iter=5, random_state=0).fit(X)
    assert vae.sample(1000, random_state=0)["a"].isna().sum() > 50  # 12.5% of the rows at fit
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAEImputer(max_iter=5, random_state=0).fit(X).transform(X)
    empty = pd.DataFrame({"a": arrow(np.full(20, np.nan)), "b": rng.normal(size=20)})
    with pytest.raises(ValueError, match="Column 'a' has no observed value"):
        VAETransformer(max_iter=2).fit(empty)


def test_words_in_an_arrow_string_column_are_not_numbers_written_as_strings():
    # pd.to_numeric gives an Arrow string column's words as NaN values, not missing ones: every
    # such column was warned of as "numbers written as strings", with advice that raised.
    pa = pytest.importorskip("pyarrow")
    words = pd.Series(["Adelie", "Gentoo", "Chinstrap"] * 20, dtype=pd.ArrowDtype(pa.string()))
    X = pd.DataFrame({"species": words, "mass": np.arange(60.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        VAETransformer(max_iter=5, random_state=0).fit(X)
    numbers = pd.Series(["1", "2", "x", "4", "5"] * 10, dtype=pd.ArrowDtype(pa.string()))
    with pytest.warns(UserWarning, match="Column 'a' holds numbers written as strings"):
        VAETransformer(max_iter=5, random_state=0).fit(pd.DataFrame({"a": numbers, "b": np.arange(50.0)}))


def test_sample_rounds_float_columns_to_the_places_their_training_values_show(tmp_path):
    # An integer column with holes (float64, as read_csv gives it) sampled 92% fractional values, and
    # lengths in tenths came back with 15 digits; SDV's synthesizers round to the data's precision.
    from skvae import load

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "age": np.where(rng.rand(200) < 0.1, np.nan, rng.randint(18, 70, 200)).astype(float),
        "length": np.round(rng.normal(40, 5, 200), 1),
        "mass": rng.normal(4000, 500, 200),  # measured: every digit
        "share": rng.randint(0, 5, 200) / 4,  # modelled on [0, 1]: probabilities, not rounded
        "kind": rng.choice(["a", "b"], 200),
    })
    # Pandas' way to hold floats beside None: an object column, which sampled every digit.
    frame["held"] = pd.Series(list(np.round(rng.normal(100, 10, 200), 2)), dtype=object).mask(rng.rand(200) < 0.1, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = VAETransformer(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(frame)
    for from_likelihood in (True, False):
        drawn = model.sample(500, random_state=0, from_likelihood=from_likelihood)
        held = drawn["held"].dropna().astype(float)
        assert drawn["held"].dtype == object and len(held)
        np.testing.assert_array_equal(held, np.round(held, 2))
        assert (held != np.round(held, 1)).any()
        age = drawn["age"].dropna()
        assert len(age) and (age % 1 == 0).all() and drawn["age"].dtype == np.float64
        np.testing.assert_array_equal(drawn["length"], np.round(drawn["length"], 1))
        assert (drawn["length"] != np.round(drawn["length"], 0)).any()
        assert (drawn["mass"] != np.round(drawn["mass"], 6)).any()
        assert not drawn["share"].isin([0, 0.25, 0.5, 0.75, 1]).all()
    assert (model.inverse_transform(model.transform(frame))["age"] % 1 != 0).any()  # decoder means keep every digit
    model.save(tmp_path / "model.skvae")
    pd.testing.assert_frame_equal(load(tmp_path / "model.skvae").sample(50, random_state=1), model.sample(50, random_state=1))


def test_a_frames_tuple_labels_come_back_as_they_were_given(tmp_path):
    # inverse_transform and sample built the frame from a dict of its columns, and pandas made a
    # MultiIndex of a flat Index of tuples (a review of frames in and out).
    from skvae import load

    rng = np.random.RandomState(0)
    flat = pd.DataFrame(rng.rand(80, 3))
    flat.columns = pd.Index([("a", 1), ("a", 2), ("b", 1)], tupleize_cols=False)
    nested = flat.set_axis(pd.MultiIndex.from_tuples(list(flat.columns)), axis=1)
    for X in (flat, nested):
        model = VAETransformer(max_iter=2, random_state=0).fit(X)
        model.save(tmp_path / "model.skvae")
        for fitted in (model, load(tmp_path / "model.skvae"), pickle.loads(pickle.dumps(model))):
            for out in (fitted.sample(2, random_state=0), fitted.inverse_transform(fitted.transform(X[:2]))):
                pd.testing.assert_index_equal(out.columns, X.columns)
