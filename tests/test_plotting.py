"""Tests for helpers.plotting (Agg backend: no windows)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.plotting import (  # noqa: E402
    REGION_COLORS,
    plot_psth,
    plot_psychometric,
    plot_raster,
    population_rate,
    psychometric,
    region_order,
)
from helpers.session import Session  # noqa: E402


@pytest.fixture
def session() -> Session:
    rng = np.random.default_rng(0)
    areas = ["LGd", "VISp", "root", "CA1", "VISam", "MD"]
    n_trials = 40
    return Session(
        spikes=rng.poisson(0.1, (len(areas), n_trials, 250)),
        brain_area=areas,
        contrast_left=rng.choice([0, 0.5, 1.0], n_trials),
        contrast_right=rng.choice([0, 0.5], n_trials),
        feedback_type=np.where(np.arange(n_trials) % 3 == 0, -1, 1),
        response=rng.choice([-1, 0, 1], n_trials),
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_region_colors_cover_every_group():
    from helpers.session import OTHER_REGION, REGION_GROUPS

    assert set(REGION_COLORS) == {*REGION_GROUPS, OTHER_REGION}
    assert len(set(REGION_COLORS.values())) == len(REGION_COLORS)


def test_region_order(session):
    order = region_order(session)
    assert sorted(order) == list(range(6))
    assert list(session.region[order]) == ["vis ctx", "vis ctx", "thal", "thal", "hipp", "other"]


def test_plot_raster(session):
    ax = plot_raster(session, 3)
    assert ax.get_title() == "Trial 3: was correct? False"
    points = ax.collections[0].get_offsets()
    assert len(points) == np.count_nonzero(session.spikes[:, 3, :])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["vis ctx", "thal", "hipp", "other"]
    assert plot_raster(session, 1).get_title().endswith("True")


@pytest.mark.parametrize("trial", [-1, 40])
def test_plot_raster_bad_trial(session, trial):
    with pytest.raises(ValueError, match="trial must lie in 0..39"):
        plot_raster(session, trial)


def test_population_rate_units(session):
    rates = population_rate(session, smooth_s=0)
    thal = session.spikes[session.region == "thal"].mean(axis=(0, 1)) / session.bin_size
    np.testing.assert_allclose(rates["thal"], thal)
    smooth = population_rate(session, smooth_s=0.05)["thal"]
    assert smooth.shape == (250,)
    assert abs(smooth.mean() - thal.mean()) < 0.05 * thal.mean()  # smoothing keeps the level


def test_population_rate_trial_selection(session):
    mask = session.is_correct
    by_mask = population_rate(session, trials=mask, smooth_s=0)
    by_index = population_rate(session, trials=np.flatnonzero(mask), smooth_s=0)
    np.testing.assert_allclose(by_mask["hipp"], by_index["hipp"])


@pytest.mark.parametrize("trials, message", [
    (np.array([], dtype=int), "No trials"),
    (np.array([0, 99]), "must lie in"),
    (np.ones(3, dtype=bool), "needs 40 entries"),
])
def test_population_rate_bad_trials(session, trials, message):
    with pytest.raises(ValueError, match=message):
        population_rate(session, trials=trials)


def test_plot_psth(session):
    ax = plot_psth(session, regions=["thal", "vis ctx"], trials=session.is_correct,
                   label=" correct")
    plot_psth(session, regions="thal", trials=~session.is_correct, ax=ax, label=" error",
              linestyle="--")
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] \
        == ["thal correct", "vis ctx correct", "thal error"]
    assert "spikes/s" in ax.get_ylabel()
    with pytest.raises(ValueError, match="no neurons in \\['midbrain'\\]"):
        plot_psth(session, regions=["midbrain"])


def test_psychometric(session):
    curve = psychometric(session)
    total = curve["p_left"] + curve["p_right"] + curve["p_no-go"]
    np.testing.assert_allclose(total, 1)
    assert curve["n"].sum() == session.n_trials
    assert np.all(np.diff(curve["difference"]) > 0)
    ax = plot_psychometric(session)
    assert len(ax.containers) == 3


def test_psychometric_needs_responses(session):
    session.response = None
    with pytest.raises(ValueError, match="no responses"):
        psychometric(session)


# ------------------------------------------------------------------ classifier figures
def test_plot_confusion_writes_the_counts_and_checks_the_shape():
    from helpers.plotting import plot_confusion

    ax = plot_confusion(np.array([[5, 2], [1, 9]]), title="demo")
    assert [t.get_text() for t in ax.texts] == ["5", "2", "1", "9"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    with pytest.raises(ValueError, match="square"):
        plot_confusion(np.ones((2, 3)))
    plt.close("all")


def test_plot_paired_scores_draws_one_line_per_fold_and_the_means():
    from helpers.plotting import plot_paired_scores

    ax = plot_paired_scores({"logistic": np.array([0.6, 0.7, 0.8]),
                             "RNN": np.array([0.65, 0.7, 0.75])})
    assert len(ax.lines) == 3 + 1 + 1  # folds, means, chance
    np.testing.assert_allclose(ax.lines[3].get_ydata(), [0.7, 0.7])
    with pytest.raises(ValueError, match="same folds"):
        plot_paired_scores({"a": np.ones(3), "b": np.ones(4)})
    plt.close("all")


def test_plot_class_trajectories_colours_each_trial_by_its_own_label():
    from helpers.plotting import plot_class_trajectories

    labels = np.array([0, 1, 1, 0])
    projected = np.zeros((4, 5, 2))
    projected[labels == 1] += 1.0
    left, right = plot_class_trajectories(projected, labels, np.arange(5) * 0.05)
    means = [line for line in left.lines if line.get_linewidth() == 3]
    np.testing.assert_allclose(means[0].get_ydata(), 0.0)  # class 0 mean
    np.testing.assert_allclose(means[1].get_ydata(), 1.0)  # class 1 mean
    with pytest.raises(ValueError, match="n_trials, n_bins, 2"):
        plot_class_trajectories(projected[:3], labels, np.arange(5))
    plt.close("all")


# ------------------------------------------------------------------ rate-model figures
def test_rate_panels_share_the_predicted_scale_and_keep_spikes_at_one():
    from helpers.plotting import plot_rate_panels

    rng = np.random.default_rng(0)
    predicted = rng.uniform(0, 0.2, (30, 4))
    axes = plot_rate_panels({"spikes": rng.poisson(0.1, (30, 4)), "predicted rate": predicted},
                            np.arange(30) * 0.01, order=np.array([3, 2, 1, 0]))
    assert axes[0].images[0].get_clim()[1] == 1
    assert axes[1].images[0].get_clim()[1] == pytest.approx(np.percentile(predicted, 99))
    np.testing.assert_array_equal(axes[1].images[0].get_array()[0], predicted[:, 3])
    with pytest.raises(ValueError, match="scale"):
        plot_rate_panels({"spikes": predicted}, np.arange(30))
    plt.close("all")


def test_neuron_rates_are_drawn_in_spikes_per_second():
    from helpers.plotting import plot_neuron_rates

    rates = np.full((20, 3), 0.05)  # spikes per 10 ms bin = 5 spikes/s
    axes = plot_neuron_rates(np.arange(20) * 0.01, np.zeros((20, 3)), {"predicted": rates},
                             [0, 2], bin_size=0.01)
    assert len(axes) == 2
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), 5.0)
    plt.close("all")


def test_population_prediction_checks_shapes_and_correlates_trial_totals():
    from helpers.plotting import plot_population_prediction

    rng = np.random.default_rng(1)
    predicted = rng.uniform(0.05, 0.5, (12, 10, 4))
    left, right = plot_population_prediction(np.arange(10) * 0.01, predicted, predicted,
                                             bin_size=0.01)
    assert right.get_title() == "r = 1.00"
    with pytest.raises(ValueError, match="same shape"):
        plot_population_prediction(np.arange(10), predicted, predicted[:3], bin_size=0.01)
    plt.close("all")


def test_describe_psychometric_says_whether_the_curve_is_monotone():
    from helpers.plotting import describe_psychometric

    curve = {"difference": np.array([-1.0, 0.0, 1.0]), "p_left": np.array([0.1, 0.3, 0.9]),
             "se_left": np.full(3, 0.01), "p_right": np.array([0.8, 0.3, 0.05]),
             "se_right": np.full(3, 0.01), "p_no-go": np.array([0.1, 0.4, 0.05])}
    assert describe_psychometric(curve).splitlines() == [
        "as left - right grows, P(left) rises at every step (within 2 s.e.): True;",
        "  P(right) falls at every step: True",
        "the mouse holds still most often at left - right = +0"]
    curve["p_right"] = np.array([0.6, 0.3, 0.05])
    curve["p_left"] = np.array([0.3, 0.2, 0.9])  # a dip far beyond its s.e.
    assert "rises at every step (within 2 s.e.): False" in describe_psychometric(curve)


def test_region_matrix_leaves_the_diagonal_out_of_the_colour_scale():
    import pandas as pd

    from helpers.plotting import plot_region_matrix

    regions = ["vis ctx", "thal", "hipp"]
    values = pd.DataFrame([[5.0, 0.02, -0.01], [0.0, 9.0, 0.01], [0.005, 0.0, 7.0]],
                          index=regions, columns=regions)
    ax = plot_region_matrix(values, marked=[("vis ctx", "thal")], title="gain")
    image = ax.get_images()[0]
    assert image.get_clim() == pytest.approx((-0.02, 0.02))  # the diagonal's 5-9 are left out
    assert np.ma.getmaskarray(image.get_array()).diagonal().all()
    assert len(ax.patches) == 1 and len(ax.figure.axes) == 2  # the outline and the colour bar
    plt.close("all")


def test_plot_null_draws_the_shuffles_and_the_observed_score():
    from helpers.plotting import plot_null

    ax = plot_null(np.array([0.48, 0.5, 0.52, 0.49]), 0.7, xlabel="balanced accuracy")
    assert sum(patch.get_height() for patch in ax.patches) == 4
    assert ax.lines[0].get_xdata()[0] == 0.7 and ax.get_xlabel() == "balanced accuracy"
    with pytest.raises(ValueError, match="non-empty"):
        plot_null(np.array([]), 0.7)
    plt.close("all")


def test_lag_profiles_draw_a_band_per_pair_and_name_the_peak():
    from types import SimpleNamespace

    from helpers.plotting import plot_lag_profiles

    lags = np.linspace(-0.1, 0.1, 21)
    profile = np.exp(-((lags + 0.03) / 0.05) ** 2)
    lag = SimpleNamespace(lags_s=lags, profile=profile, low=profile - 0.1, high=profile + 0.1,
                          peak_s=-0.03)
    ax = plot_lag_profiles({"a -> b": lag})
    assert len(ax.collections) == 1 and "-30 ms" in ax.get_legend().get_texts()[0].get_text()
    np.testing.assert_allclose(ax.lines[0].get_xdata(), 1000 * lags)
    plt.close("all")
