"""Scoring predictions (helpers.evaluation): the book's one score table and co-smoothing scores."""

import numpy as np
import pandas as pd
import pytest

from helpers import baselines
from helpers.evaluation import LABELS, relation, score_rates, score_table
from helpers.metrics import bits_per_spike
from helpers.splits import co_smoothing_split
from helpers.surrogate import make_session

COLUMNS = ["label", "metric", "score", "low", "high", "interval"]


@pytest.fixture(scope="module")
def split_session():
    """A small simulated session cut into a co-smoothing split (the models' layout)."""
    session = make_session(1, n_trials=80, n_bins=60, area_counts={"VISp": 40, "VISam": 20})
    split = co_smoothing_split(session.n_trials, session.n_neurons, seed=0)
    return (session, split, split.apply(session.spikes_by_trial()),
            split.apply(session.rates_by_trial()))


# ----------------------------------------------------------------------------- the table
def test_score_table_schema():
    table = score_table({"rnn": (0.6, 0.5, 0.7), "my model": (0.4, 0.3, 0.5)},
                        metric="balanced accuracy", interval="95% t over folds",
                        extra={"n_folds": {"rnn": 10}})
    assert isinstance(table, pd.DataFrame) and table.index.name == "model"
    assert list(table.index) == ["rnn", "my model"]
    assert list(table.columns) == [*COLUMNS, "n_folds"]
    assert table.loc["rnn", "label"] == "RNN"
    assert table.loc["my model", "label"] == "my model"  # unknown identifiers label themselves
    assert (table["metric"] == "balanced accuracy").all()
    assert (table["interval"] == "95% t over folds").all()
    assert table.loc["rnn", ["score", "low", "high"]].tolist() == [0.6, 0.5, 0.7]
    assert table.loc["rnn", "n_folds"] == 10 and np.isnan(table.loc["my model", "n_folds"])


def test_labels_cover_every_model_and_baseline_the_book_scores():
    for identifier in ("rnn", "course", "null", "psth", "smoothing", "oracle", "logistic",
                       "majority", "best achievable"):
        assert identifier in LABELS
    assert len(set(LABELS.values())) == len(LABELS)


def test_score_table_needs_a_model():
    with pytest.raises(ValueError, match="at least one model"):
        score_table({}, metric="bits/spike", interval="none")


# ----------------------------------------------------------------------------- scoring
def test_score_rates_reports_intervals_ratios_and_fraction_of_oracle(split_session):
    _, _, data, truth = split_session
    null = baselines.constant_rates(data.train_targets, len(data.test_targets))
    half = 0.5 * truth.test_targets + 0.5 * null
    table = score_rates({"oracle": truth.test_targets, "half": half, "null": null},
                        data.test_targets, reference="half", oracle="oracle", n_boot=200)
    assert list(table.index) == ["oracle", "half", "null"]
    assert list(table.columns) == [*COLUMNS, "median_pseudo_r2", "ratio", "ratio_low",
                                   "ratio_high", "fraction_of_oracle"]
    assert (table["metric"] == "bits/spike").all()
    assert (table["interval"] == "95% bootstrap over test trials").all()
    assert table.loc["oracle", "label"] == LABELS["oracle"]
    assert (table["low"] <= table["score"]).all() and (table["score"] <= table["high"]).all()
    assert (table["ratio_low"] <= table["ratio"]).all()
    assert (table["ratio"] <= table["ratio_high"]).all()
    assert table.loc["oracle", "fraction_of_oracle"] == pytest.approx(1.0)
    assert table.loc["half", "ratio"] == pytest.approx(1.0)
    assert table.loc["oracle", "score"] == pytest.approx(
        bits_per_spike(truth.test_targets, data.test_targets))
    assert table.loc["oracle", "median_pseudo_r2"] > table.loc["null", "median_pseudo_r2"]
    assert table.loc["oracle", "score"] > table.loc["half", "score"] > table.loc["null", "score"]


def test_score_rates_without_reference_or_oracle_has_only_the_pseudo_r2_extra(split_session):
    _, _, data, truth = split_session
    table = score_rates({"rnn": truth.test_targets}, data.test_targets, n_boot=50)
    assert list(table.columns) == [*COLUMNS, "median_pseudo_r2"]


def test_score_rates_is_reproducible(split_session):
    _, _, data, truth = split_session
    a = score_rates({"rnn": truth.test_targets}, data.test_targets, n_boot=100, seed=3)
    b = score_rates({"rnn": truth.test_targets}, data.test_targets, n_boot=100, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_score_rates_rejects_unknown_names_and_shapes(split_session):
    _, _, data, truth = split_session
    with pytest.raises(KeyError, match="oracle"):
        score_rates({"truth": truth.test_targets}, data.test_targets, oracle="oracle")
    with pytest.raises(KeyError, match="'smoothing' is not among"):
        score_rates({"truth": truth.test_targets}, data.test_targets, reference="smoothing")
    with pytest.raises(ValueError, match="rates"):
        score_rates({"bad": truth.test_targets[:, :5]}, data.test_targets)
    with pytest.raises(ValueError, match="models' layout"):
        score_rates({"flat": truth.test_targets[0]}, data.test_targets[0])
    with pytest.raises(ValueError, match="at least one prediction"):
        score_rates({}, data.test_targets)


# ----------------------------------------------------------------------------- conclusions
@pytest.mark.parametrize(("low", "high", "reference", "expected"), [
    (0.1, 0.3, 0, "above 0"), (-0.3, -0.1, 0, "below 0"), (-0.1, 0.2, 0, "overlaps 0"),
    (0.5, 0.5, 0.5, "overlaps 0.5"), (0.61, 0.7, 0.5, "above 0.5"), (0.2, 0.9, 1, "below 1"),
])
def test_relation_words_where_an_interval_lies(low, high, reference, expected):
    assert relation(low, high, reference) == expected


def test_relation_rejects_a_reversed_interval():
    with pytest.raises(ValueError, match="low <= high"):
        relation(0.3, 0.1, 0)
    with pytest.raises(ValueError, match="low <= high"):
        relation(np.nan, 0.1, 0)


# ----------------------------------------------------------------------------- gains
def test_score_gains_are_paired_differences_of_bits_per_spike(split_session):
    from helpers.evaluation import score_gains

    _, _, data, truth = split_session
    spikes = data.test_targets
    null = np.broadcast_to(data.train_targets.mean(axis=(0, 1)), spikes.shape)
    predictions = {"oracle": truth.test_targets, "null": null}
    gains = score_gains(predictions, spikes, reference="null", seed=0)
    assert list(gains.index) == ["oracle"]
    expected = bits_per_spike(truth.test_targets, spikes) - bits_per_spike(null, spikes)
    assert gains.loc["oracle", "score"] == pytest.approx(expected)
    assert gains.loc["oracle", "low"] <= expected <= gains.loc["oracle", "high"]
    assert gains.loc["oracle", "metric"] == "bits/spike gain over null"
    with pytest.raises(KeyError, match="psth"):
        score_gains(predictions, spikes, reference="psth")
    with pytest.raises(ValueError, match="besides the reference"):
        score_gains({"null": null}, spikes, reference="null")
    with pytest.raises(ValueError, match="models' layout"):
        score_gains(predictions, spikes[0], reference="null")
    assert 0 < gains.loc["oracle", "p_gain"] <= 0.01  # the oracle beats the null


def test_draws_of_a_control_widen_the_interval_by_their_spread(split_session):
    from helpers.evaluation import score_gains

    _, _, data, truth = split_session
    spikes = data.test_targets
    null = np.broadcast_to(data.train_targets.mean(axis=(0, 1)), spikes.shape)
    draws = np.stack([null * factor for factor in (0.6, 1.0, 1.6)])  # a noisy control
    single = score_gains({"oracle": truth.test_targets, "c": draws[1]}, spikes, reference="c")
    stacked = score_gains({"oracle": truth.test_targets, "c": draws}, spikes, reference="c")
    per_draw = [score_gains({"oracle": truth.test_targets, "c": d}, spikes,
                            reference="c").loc["oracle", "score"] for d in draws]
    assert stacked.loc["oracle", "score"] == pytest.approx(np.mean(per_draw))  # mean over draws
    width = stacked.loc["oracle", ["low", "high"]].diff().iloc[-1]
    assert width > 1.2 * single.loc["oracle", ["low", "high"]].diff().iloc[-1]
    with pytest.raises(ValueError, match="n_draws"):
        score_gains({"oracle": truth.test_targets, "c": draws[:, :3]}, spikes, reference="c")


def test_hierarchical_summary_resamples_mice_then_sessions():
    from helpers.evaluation import hierarchical_summary

    values = np.array([1.0, 1.0, 1.0, 1.0, 0.0])  # mouse a: four sessions at 1; mouse b: 0
    mice = np.array(["a", "a", "a", "a", "b"])
    point, low, high = hierarchical_summary(values, mice, seed=0)
    assert point == pytest.approx(0.5)  # each mouse weighs the same, not each session
    assert low == pytest.approx(0.0) and high == pytest.approx(1.0)  # only two mice
    rng = np.random.default_rng(0)
    many = rng.normal(0.2, 0.1, size=40)
    point, low, high = hierarchical_summary(many, np.arange(40) // 4, seed=1)
    assert low < 0.2 < high and high - low < 0.2
    with pytest.raises(ValueError, match="one mouse per session"):
        hierarchical_summary(values, mice[:2])
    with pytest.raises(ValueError, match="NaN"):
        hierarchical_summary(np.r_[values[:-1], np.nan], mice)
