"""Baselines for rates (chapter 2) and for decoding labels (chapter 4): helpers.baselines."""

import numpy as np
import pytest

from helpers import baselines
from helpers.evaluation import LABELS
from helpers.metrics import RATE_FLOOR, bits_per_spike
from helpers.splits import co_smoothing_split
from helpers.surrogate import make_session


@pytest.fixture(scope="module")
def split_session():
    """A small simulated session cut into a co-smoothing split (the models' layout)."""
    session = make_session(1, n_trials=160, n_bins=60, area_counts={"VISp": 40, "VISam": 20})
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=0)
    return (session, split, split.apply(session.spikes_by_trial()),
            split.apply(session.rates_by_trial()))


# -------------------------------------------------------------------------- baselines
def test_baselines_beat_the_null_and_stay_below_the_truth(split_session):
    session, split, data, truth = split_session
    null = baselines.constant_rates(data.train_targets, len(data.test_targets))
    glm = baselines.SmoothingGLM(sigma_s=0.03, alpha=0.1).fit(data.train_inputs,
                                                                 data.train_targets)
    conditions = np.c_[session.contrast_left, session.contrast_right]
    psth = baselines.ConditionPSTH(sigma_s=0.04, shrinkage=20.0).fit(
        data.train_targets, conditions[split.train_trials]).predict(conditions[split.test_trials])
    scores = {name: bits_per_spike(rates, data.test_targets) for name, rates in
              {"null": null, "glm": glm.predict(data.test_inputs), "psth": psth,
               "truth": truth.test_targets}.items()}
    assert scores["null"] <= 0.0
    assert scores["glm"] > 0.0 and scores["psth"] > scores["null"]
    assert scores["truth"] > max(scores["glm"], scores["psth"])


def test_constant_rates_are_the_training_means():
    train = np.random.default_rng(0).poisson(0.4, (5, 7, 3))
    rates = baselines.constant_rates(train, 2)
    assert rates.shape == (2, 7, 3)
    assert np.allclose(rates[1, 4], train.mean(axis=(0, 1)))


def test_condition_psth_averages_within_a_condition_and_falls_back_to_all_trials():
    train = np.zeros((4, 3, 1))
    train[:2] = 1.0  # condition "a" fires, condition "b" does not
    psth = baselines.ConditionPSTH(sigma_s=0, shrinkage=0).fit(train, ["a", "a", "b", "b"])
    rates = psth.predict(np.array(["b", "a", "new"]))
    assert np.allclose(rates[1], 1.0) and np.allclose(rates[0], RATE_FLOOR)
    assert np.allclose(rates[2], 0.5)
    shrunk = baselines.ConditionPSTH(sigma_s=0, shrinkage=2).fit(train, [[0, 1], [0, 1],
                                                                            [1, 0], [1, 0]])
    assert np.allclose(shrunk.predict(np.array([[0, 1]])), (2 * 1.0 + 2 * 0.5) / 4)
    with pytest.raises(RuntimeError, match="fit"):
        baselines.ConditionPSTH().predict(["a"])


def test_smooth_spikes_keeps_the_mean_and_checks_the_layout():
    spikes = np.random.default_rng(0).poisson(0.5, (3, 200, 2)).astype(float)
    smoothed = baselines.smooth_spikes(spikes, 0.04)
    assert smoothed.shape == spikes.shape
    assert smoothed.mean() == pytest.approx(spikes.mean(), rel=0.02)
    assert smoothed.std() < spikes.std()
    with pytest.raises(ValueError, match="n_trials, n_bins, n_neurons"):
        baselines.smooth_spikes(np.ones((3, 4)), 0.01)
    with pytest.raises(ValueError, match="sigma_s"):
        baselines.smooth_spikes(spikes, -0.01)
    with pytest.raises(ValueError, match="bin_size"):
        baselines.smooth_spikes(spikes, 0.01, bin_size=0)


def test_smoothing_widths_are_seconds_whatever_the_bin_size():
    impulse = np.zeros((1, 101, 1))
    impulse[0, 50] = 1.0
    fine = baselines.smooth_spikes(impulse, 0.05, bin_size=0.01)[0, :, 0]
    coarse_impulse = impulse.reshape(1, -1)[:, :100].reshape(1, 20, 5).sum(axis=2)[..., None]
    coarse = baselines.smooth_spikes(coarse_impulse, 0.05, bin_size=0.05)[0, :, 0]
    width = np.sqrt(np.sum(fine * (np.arange(101) - 50) ** 2))  # s.d. in 10 ms bins
    assert width == pytest.approx(5.0, rel=0.02)  # 0.05 s = 5 bins of 10 ms
    assert np.sqrt(np.sum(coarse * (np.arange(20) - 10) ** 2)) == pytest.approx(1.0, rel=0.05)


def test_glm_errors_are_clear():
    glm = baselines.SmoothingGLM()
    with pytest.raises(RuntimeError, match="fit"):
        glm.predict(np.ones((1, 5, 2)))
    with pytest.raises(ValueError, match="share"):
        glm.fit(np.ones((2, 5, 2)), np.ones((3, 5, 1)))
    with pytest.raises(ValueError, match="NaN"):
        glm.fit(np.full((2, 5, 2), np.nan), np.ones((2, 5, 1)))


def test_tuned_baselines_pick_settings_from_the_grid(split_session):
    session, split, data, _ = split_session
    glm = baselines.fit_smoothing_glm(data.train_inputs, data.train_targets,
                                      sigmas_s=(0.01, 0.04), alphas=(0.1, 1.0))
    assert glm.sigma_s in (0.01, 0.04) and glm.weights_.shape == (30, 30)
    conditions = np.c_[session.contrast_left, session.contrast_right][split.train_trials]
    psth = baselines.fit_condition_psth(data.train_targets, conditions, sigmas_s=(0.02, 0.04))
    assert psth.sigma_s in (0.02, 0.04) and psth.shrinkage in (1.0, 5.0, 20.0)


def test_constant_rates_never_fall_below_the_rate_floor():
    rates = baselines.constant_rates(np.zeros((3, 4, 2)), 5)
    assert rates.shape == (5, 4, 2) and np.all(rates == RATE_FLOOR)


def test_baseline_rates_on_a_co_smoothing_split(split_session):
    session, split, data, truth = split_session
    conditions = np.c_[session.contrast_left, session.contrast_right]
    rates = baselines.baseline_rates(data, split, conditions, glm_sigmas_s=(0.04,),
                                     glm_alphas=(1.0,))
    assert list(rates) == ["null", "psth", "smoothing"]
    expected_shape = (len(split.test_trials), session.n_bins, len(split.heldout_neurons))
    for name, value in rates.items():
        assert value.shape == expected_shape, name
        assert np.all(value >= RATE_FLOOR) and np.all(np.isfinite(value)), name
        assert name in LABELS
    np.testing.assert_allclose(
        rates["null"], baselines.constant_rates(data.train_targets, len(split.test_trials)))
    with_oracle = baselines.baseline_rates(data, split, conditions, glm_sigmas_s=(0.04,),
                                           glm_alphas=(1.0,), true_rates=session.rates_by_trial())
    assert list(with_oracle) == ["null", "psth", "smoothing", "oracle"] and "oracle" in LABELS
    np.testing.assert_array_equal(with_oracle["oracle"], truth.test_targets)
    for name in rates:
        np.testing.assert_allclose(with_oracle[name], rates[name])
    scores = {name: bits_per_spike(value, data.test_targets) for name, value in with_oracle.items()}
    assert scores["oracle"] > max(scores["smoothing"], scores["psth"]) > scores["null"]


def test_baseline_rates_rejects_true_rates_in_the_session_layout(split_session):
    session, split, data, _ = split_session
    conditions = np.c_[session.contrast_left, session.contrast_right]
    with pytest.raises(ValueError, match="conditions has 32 rows but the split covers 160"):
        baselines.baseline_rates(data, split, conditions[split.test_trials])
    with pytest.raises(ValueError, match="spikes_by_trial"):
        baselines.baseline_rates(data, split, conditions, glm_sigmas_s=(0.04,), glm_alphas=(1.0,),
                                 true_rates=session.truth.rates.transpose(2, 0, 1))


# ------------------------------------------------------------------------------- labels
def _decoding_problem(n_trials=80, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n_trials) < 2 * n_trials // 3).astype(int)
    counts = rng.poisson(0.2 * np.exp(labels)[:, None, None] * np.ones((1, 20, 6)))
    return counts.astype(np.float32), labels


def test_logistic_features_are_log1p_window_counts():
    counts = np.arange(24, dtype=float).reshape(2, 3, 4)
    np.testing.assert_allclose(baselines.logistic_features(counts),
                               np.log1p(counts.sum(axis=1)))
    assert baselines.logistic_features(counts).shape == (2, 4)


@pytest.mark.parametrize("balance", ["weights", "undersample"])
def test_logistic_baseline_decodes_an_easy_problem(balance):
    counts, labels = _decoding_problem()
    train, test = np.arange(0, 80, 2), np.arange(1, 80, 2)
    model = baselines.LogisticBaseline(balance=balance, seed=0)
    assert model.fit(counts[train], labels[train]) is model  # fit returns self
    assert np.mean(model.predict(counts[test]) == labels[test]) > 0.8
    assert np.isclose(np.logspace(-5, 1, 7), model.C_).sum() == 1  # one of the grid


def test_logistic_baseline_follows_the_estimator_rules():
    counts, labels = _decoding_problem()
    model = baselines.LogisticBaseline(balance="undersample", seed=3)
    assert vars(model) == {"balance": "undersample", "seed": 3}  # __init__ only stores
    with pytest.raises(RuntimeError, match="fit"):
        model.predict(counts)
    model.fit(counts, labels)
    assert {name for name in vars(model) if name.endswith("_")} == {"pipeline_", "C_"}
    # undersampling: the classifier saw as many trials of each class
    assert model.pipeline_[-1].coef_.shape == (1, counts.shape[-1])


def test_logistic_baseline_rejects_bad_input():
    counts, labels = _decoding_problem()
    with pytest.raises(ValueError, match="balance must be one of"):
        baselines.LogisticBaseline(balance="oversample").fit(counts, labels)
    with pytest.raises(ValueError, match="n_trials, n_bins, n_neurons"):
        baselines.LogisticBaseline().fit(counts.sum(axis=1), labels)
    with pytest.raises(ValueError, match="one label per"):
        baselines.LogisticBaseline().fit(counts, labels[:-1])


def test_majority_predictions():
    assert baselines.majority_predictions(np.array([1, 1, 0]), 4).tolist() == [1, 1, 1, 1]
    assert baselines.majority_predictions(np.array([0, 0, 1]), 2).tolist() == [0, 0]


def test_best_achievable_uses_the_training_share():
    np.testing.assert_array_equal(
        baselines.best_achievable_predictions([0.5, 0.7, 0.9], [1, 1, 0]), [0, 1, 1])
    predictions = baselines.best_achievable_predictions(np.array([0.2, 0.6]), [0, 1, 0, 0])
    assert predictions.tolist() == [0, 1] and predictions.dtype == np.int64
