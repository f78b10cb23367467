"""Figures shared by several chapters: rasters, PSTHs, the psychometric curve (chapter 1), and
scores with their intervals (chapters 2-6).

Every function draws into ``ax`` (a new figure when ``None``) and returns the axes, so a chapter
can combine panels and set its own titles. Times are in seconds from stimulus onset, rates in
spikes per second.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

from helpers.session import OTHER_REGION, REGION_GROUPS, Session

__all__ = [
    "REGION_COLORS", "CHOICE_NAMES", "region_order", "plot_raster", "population_rate",
    "plot_psth", "psychometric", "describe_psychometric", "plot_psychometric", "plot_intervals",
    "plot_confusion", "plot_paired_scores", "plot_class_trajectories", "plot_null",
    "plot_rate_panels", "plot_neuron_rates", "plot_population_prediction", "plot_region_matrix",
    "plot_lag_profiles",
]

#: One colour per region group, the same in every chapter.
REGION_COLORS: dict[str, str] = {
    **{group: to_hex(color) for group, color in zip(REGION_GROUPS, plt.get_cmap("tab10").colors,
                                                     strict=False)},
    OTHER_REGION: "0.6",
}

#: Names of the wheel choices (``Session.response``), for legends.
CHOICE_NAMES: dict[int, str] = {1: "left", -1: "right", 0: "no-go"}


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_trials(session: Session, trials: np.ndarray | None) -> np.ndarray:
    """Trial indices (from indices or a boolean mask); all trials when ``None``."""
    if trials is None:
        return np.arange(session.n_trials)
    trials = np.asarray(trials)
    if trials.dtype == bool:
        if trials.shape != (session.n_trials,):
            raise ValueError(f"A trial mask needs {session.n_trials} entries, got {trials.shape}.")
        trials = np.flatnonzero(trials)
    if trials.size == 0:
        raise ValueError("No trials selected: pass at least one trial index.")
    if trials.min() < 0 or trials.max() >= session.n_trials:
        raise ValueError(f"Trial indices must lie in 0..{session.n_trials - 1}.")
    return trials


def region_order(session: Session) -> np.ndarray:
    """Neuron indices sorted by region group (in :data:`~helpers.session.REGION_GROUPS` order)."""
    rank = {region: i for i, region in enumerate((*REGION_GROUPS, OTHER_REGION))}
    return np.argsort([rank[r] for r in session.region], kind="stable")


def plot_raster(session: Session, trial: int, *, ax: Axes | None = None,
                marker_size: float = 1.5) -> Axes:
    """Spikes of every neuron in one trial, neurons grouped and coloured by region.

    Args:
        session: the session.
        trial: trial index, ``0 <= trial < n_trials``.
        ax: where to draw (a new figure when ``None``).
        marker_size: dot size, in points squared.

    Returns:
        The axes: x = time from stimulus onset (s), y = neurons; the title says whether the
        trial was answered correctly, as in the original project's slides.
    """
    if not 0 <= int(trial) < session.n_trials:
        raise ValueError(f"trial must lie in 0..{session.n_trials - 1}, got {trial}.")
    ax = _axes(ax, (8, 5))
    order = region_order(session)
    rows, bins = np.nonzero(session.spikes[order, int(trial), :])
    regions = session.region[order]
    colors = [REGION_COLORS[r] for r in regions[rows]]
    ax.scatter(session.time[bins], rows, s=marker_size, c=colors, marker="o", linewidths=0)
    starts = [0, *np.flatnonzero(regions[1:] != regions[:-1]) + 1, len(regions)]
    for start in starts[1:-1]:
        ax.axhline(start - 0.5, color="0.7", linewidth=0.5)
    ax.set_yticks([(a + b - 1) / 2 for a, b in zip(starts[:-1], starts[1:], strict=True)],
                  [regions[a] for a in starts[:-1]])
    ax.axvline(0, color="k", linestyle="--", linewidth=1)
    ax.set(xlim=(session.time[0], session.time[-1]), ylim=(len(regions) - 0.5, -0.5),
           xlabel="time from stimulus onset (s)", ylabel="neurons, by region",
           title=f"Trial {int(trial)}: was correct? {bool(session.is_correct[int(trial)])}")
    return ax


def population_rate(session: Session, *, trials: np.ndarray | None = None,
                    smooth_s: float = 0.05) -> dict[str, np.ndarray]:
    """Mean firing rate of each region group over neurons and trials, in spikes/s.

    Args:
        session: the session.
        trials: trial indices or a boolean mask, shape ``(n_trials,)`` (all when ``None``).
        smooth_s: width of a boxcar smoothing window in seconds (0 for none).

    Returns:
        Region group -> rate, shape ``(n_bins,)``, aligned with ``session.time``.
    """
    trials = _check_trials(session, trials)
    width = max(int(round(smooth_s / session.bin_size)), 1)
    kernel = np.ones(width) / width
    rates = {}
    for region in session.regions_present:
        counts = session.spikes[session.region == region][:, trials, :]
        mean = counts.mean(axis=(0, 1), dtype=np.float64) / session.bin_size
        padded = np.pad(mean, (width // 2, width - 1 - width // 2), mode="edge")
        rates[region] = np.convolve(padded, kernel, mode="valid")
    return rates


def plot_psth(session: Session, *, regions: list[str] | None = None,
              trials: np.ndarray | None = None, smooth_s: float = 0.05,
              ax: Axes | None = None, label: str = "", **line_kwargs: object) -> Axes:
    """Population PSTH: mean rate of each region group around stimulus onset, in spikes/s.

    Args:
        session: the session.
        regions: region groups to draw (default: all present).
        trials: trial indices or a boolean mask (default: all trials). Call twice on the same
            ``ax`` with different ``trials`` and ``label`` to compare, e.g., correct and
            incorrect trials.
        smooth_s: boxcar smoothing window in seconds (0 for none).
        ax: where to draw (a new figure when ``None``).
        label: appended to each region's legend entry.
        line_kwargs: passed to ``ax.plot`` (e.g. ``linestyle="--"``).
    """
    rates = population_rate(session, trials=trials, smooth_s=smooth_s)
    regions = list(rates) if regions is None else [regions] if isinstance(regions, str) \
        else list(regions)
    missing = [r for r in regions if r not in rates]
    if missing:
        raise ValueError(f"Session {session.name} has no neurons in {missing}; it recorded "
                         f"{list(rates)}.")
    ax = _axes(ax, (7, 4))
    for region in regions:
        ax.plot(session.time, rates[region], color=REGION_COLORS[region],
                label=f"{region}{label}", **line_kwargs)
    ax.axvline(0, color="k", linestyle="--", linewidth=1)
    ax.set(xlabel="time from stimulus onset (s)", ylabel="mean rate (spikes/s)")
    ax.legend(frameon=False, fontsize="small")
    return ax


def psychometric(session: Session) -> dict[str, np.ndarray]:
    """Choice probabilities per contrast difference (left minus right).

    Returns:
        ``"difference"`` (sorted unique values, shape ``(n_levels,)``), ``"n"`` (trials per
        level) and, for each choice in :data:`CHOICE_NAMES`, ``"p_<name>"`` (fraction of trials
        with that choice) and ``"se_<name>"`` (its binomial standard error).
    """
    if session.response is None:
        raise ValueError(f"Session {session.name} has no responses: no psychometric curve.")
    difference = session.contrast_left - session.contrast_right
    levels = np.unique(difference)
    n = np.array([np.sum(difference == d) for d in levels])
    result = {"difference": levels, "n": n}
    for code, name in CHOICE_NAMES.items():
        p = np.array([np.mean(session.response[difference == d] == code) for d in levels])
        result[f"p_{name}"] = p
        result[f"se_{name}"] = np.sqrt(p * (1 - p) / n)
    return result


def describe_psychometric(curve: dict[str, np.ndarray]) -> str:
    """Three short lines saying what a psychometric curve (:func:`psychometric`) shows: whether
    P(left) rises and P(right) falls at every step of left - right (a step against the trend
    counts only beyond twice its binomial standard error), and where the mouse holds still
    most often."""
    def monotone(name: str, sign: int) -> bool:
        p, se = curve[f"p_{name}"], curve[f"se_{name}"]
        return bool(np.all(sign * np.diff(p) > -2 * np.hypot(se[1:], se[:-1])))

    still = curve["difference"][np.argmax(curve["p_no-go"])]
    return (f"as left - right grows, P(left) rises at every step (within 2 s.e.): "
            f"{monotone('left', 1)};\n  P(right) falls at every step: {monotone('right', -1)}\n"
            f"the mouse holds still most often at left - right = {still:+g}")


def plot_psychometric(session: Session, *, ax: Axes | None = None) -> Axes:
    """P(choose left / right / no-go) against the contrast difference, with binomial errors."""
    curve = psychometric(session)
    ax = _axes(ax, (5, 3.5))
    for name, color in zip(CHOICE_NAMES.values(), ("C0", "C3", "0.5"), strict=True):
        ax.errorbar(curve["difference"], curve[f"p_{name}"], yerr=curve[f"se_{name}"],
                    marker="o", color=color, label=f"chose {name}", capsize=2)
    ax.set(xlabel="contrast left - contrast right", ylabel="fraction of trials", ylim=(-0.02, 1.02))
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_intervals(table, *, x: str, hue: str = "model", ax: Axes | None = None,
                   chance: float | None = None, ylabel: str = "score (95% CI)") -> Axes:
    """Scores with their intervals, one marker per row of a score table, grouped along x.

    Args:
        table: a ``pandas.DataFrame`` with the columns ``score``, ``low``, ``high`` (the book's
            score table, :func:`helpers.evaluation.score_table`, with ``model`` as a column)
            plus ``x`` and ``hue``.
        x: column whose values go along the x axis (e.g. a region, a number of trials); numeric
            values are placed at their value, others side by side in order of appearance.
        hue: column that gets one colour and a small horizontal offset per value.
        ax: where to draw.
        chance: draw a dotted horizontal line there (e.g. 0.5 for balanced accuracy).
        ylabel: the y axis label.
    """
    ax = _axes(ax, (5.5, 3.5))
    places = list(dict.fromkeys(table[x]))
    numeric = all(isinstance(p, (int, float, np.number)) for p in places)
    position = {p: (p if numeric else i) for i, p in enumerate(places)}
    groups = list(dict.fromkeys(table[hue]))
    spread = (0.02 * (max(places) - min(places)) if numeric and len(places) > 1 else 0.12)
    for i, group in enumerate(groups):
        rows = table[table[hue] == group]
        xs = np.array([position[p] for p in rows[x]], dtype=float)
        xs += (i - (len(groups) - 1) / 2) * spread
        score = rows["score"].to_numpy(dtype=float)
        errors = [score - rows["low"].to_numpy(dtype=float),
                  rows["high"].to_numpy(dtype=float) - score]
        ax.errorbar(xs, score, yerr=errors, fmt="o-" if numeric else "o", capsize=3,
                    label=str(group))
    if chance is not None:
        ax.axhline(chance, color="k", ls=":", lw=1)
    if not numeric:
        ax.set_xticks(range(len(places)), [str(p) for p in places], rotation=30, ha="right")
    ax.set(ylabel=ylabel)
    ax.legend(frameon=False)
    return ax


def plot_confusion(confusion: np.ndarray, *, class_names: tuple[str, ...] = ("incorrect",
                                                                             "correct"),
                   ax: Axes | None = None, title: str = "") -> Axes:
    """A confusion matrix ``(n_classes, n_classes)`` (rows true, columns predicted) as a heat
    map with the counts written in each cell."""
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] \
            or confusion.shape[0] != len(class_names):
        raise ValueError(f"confusion must be square with one row per class {class_names}, got "
                         f"shape {confusion.shape}.")
    ax = _axes(ax, (4, 3.5))
    ax.imshow(confusion, cmap="Blues")
    for (row, col), value in np.ndenumerate(confusion):
        ax.text(col, row, value, ha="center", va="center", fontsize=12,
                color="white" if value > confusion.max() / 2 else "black")
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=class_names, yticklabels=class_names,
           xlabel="predicted", ylabel="true", title=title)
    return ax


def plot_paired_scores(scores: dict[str, np.ndarray], *, ax: Axes | None = None,
                       chance: float | None = 0.5, ylabel: str = "score per fold") -> Axes:
    """Paired scores of two or more models on the same folds: one grey line per fold, the
    means in colour. ``scores``: model label -> ``(n_folds,)``, all the same length."""
    values = [np.asarray(v, dtype=float) for v in scores.values()]
    if len(values) < 2 or len({len(v) for v in values}) != 1:
        raise ValueError("Give two or more models with one score per fold each (same folds).")
    ax = _axes(ax, (4, 3.5))
    positions = np.arange(len(values))
    ax.plot(positions, np.vstack(values), color="grey", alpha=0.5)
    ax.plot(positions, [v.mean() for v in values], "o-", color="C3", lw=2)
    if chance is not None:
        ax.axhline(chance, color="k", ls=":", lw=1)
    ax.set_xticks(positions, list(scores))
    ax.set(ylabel=ylabel)
    return ax


def plot_null(null_scores: np.ndarray, observed: float, *, ax: Axes | None = None,
              xlabel: str = "score") -> Axes:
    """A permutation test at a glance: the scores with shuffled labels as a histogram and the
    observed score as a vertical line."""
    null_scores = np.asarray(null_scores, dtype=float)
    if null_scores.ndim != 1 or len(null_scores) < 1:
        raise ValueError(f"null_scores must be a non-empty 1-D array, got {null_scores.shape}.")
    ax = _axes(ax, (5, 2.5))
    ax.hist(null_scores, bins=10, color="grey", label="shuffled labels")
    ax.axvline(observed, color="C3", label="true labels")
    ax.set(xlabel=xlabel)
    ax.legend(frameon=False)
    return ax


def plot_class_trajectories(projected: np.ndarray, labels: np.ndarray, times: np.ndarray, *,
                            class_names: dict[int, str] | None = None,
                            axes: tuple[Axes, Axes] | None = None) -> tuple[Axes, Axes]:
    """Two panels of low-dimensional trajectories coloured by each trial's own class: the first
    component over time (single trials thin, class means thick) and the class-mean path in the
    plane of the first two components.

    Args:
        projected: ``(n_trials, n_bins, 2)``, e.g. hidden states projected by PCA.
        labels: class of each trial ``(n_trials,)``.
        times: centre of each bin, seconds from stimulus onset ``(n_bins,)``.
        class_names: class -> legend name (default ``{0: "incorrect", 1: "correct"}``).
        axes: two axes to draw into (a new figure when ``None``).
    """
    projected, labels = np.asarray(projected), np.asarray(labels)
    if projected.ndim != 3 or projected.shape[2] < 2 or projected.shape[:2] != (
            len(labels), len(times)):
        raise ValueError(f"projected must be (n_trials, n_bins, 2) = ({len(labels)}, "
                         f"{len(times)}, 2), got {projected.shape}.")
    class_names = class_names or {0: "incorrect", 1: "correct"}
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(10, 3.5))[1]
    for i, (label, name) in enumerate(class_names.items()):
        color, trials = ("C3", "C0", "C2", "C1")[i % 4], projected[labels == label]
        axes[0].plot(times, trials[:, :, 0].T, color=color, alpha=0.15, lw=0.8)
        axes[0].plot(times, trials[:, :, 0].mean(axis=0), color=color, lw=3, label=name)
        axes[1].plot(*trials[:, :, :2].mean(axis=0).T, "o-", color=color, label=name)
    axes[0].set(xlabel="time after stimulus onset (s)", ylabel="PC 1")
    axes[1].set(xlabel="PC 1", ylabel="PC 2", title="class-mean trajectories")
    axes[0].legend(frameon=False)
    return axes[0], axes[1]


def plot_rate_panels(panels: dict[str, np.ndarray], time: np.ndarray, *,
                     order: np.ndarray | None = None, scale: str = "predicted rate"):
    """One trial as heat maps side by side, e.g. spikes, predicted and true rates.

    Args:
        panels: title -> ``(n_bins, n_neurons)`` in spikes per bin; a panel titled ``"spikes"``
            is drawn on a 0-1 colour scale, the others up to the 99th percentile of
            ``panels[scale]``.
        time: bin centres, seconds from stimulus onset ``(n_bins,)``.
        order: neuron order from top to bottom (default: as given).
        scale: the panel that sets the colour scale of the rate panels.

    Returns:
        The figure's axes, one per panel.
    """
    if scale not in panels:
        raise ValueError(f"scale must name one of the panels {list(panels)}, got {scale!r}.")
    n_neurons = next(iter(panels.values())).shape[1]
    order = np.arange(n_neurons) if order is None else np.asarray(order)
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), sharey=True,
                             squeeze=False)
    extent = [time[0], time[-1], n_neurons, 0]
    for ax, (title, values) in zip(axes[0], panels.items(), strict=True):
        vmax = 1 if title == "spikes" else np.percentile(panels[scale], 99)
        image = ax.imshow(values[:, order].T, aspect="auto", extent=extent, vmax=vmax,
                          cmap="magma")
        ax.set(title=title, xlabel="time from stimulus (s)")
        fig.colorbar(image, ax=ax, label="spikes per bin")
    axes[0, 0].set_ylabel("held-out neuron")
    return axes[0]


def plot_neuron_rates(time: np.ndarray, spikes: np.ndarray, rates: dict[str, np.ndarray],
                      neurons: np.ndarray, *, bin_size: float, names: list[str] | None = None):
    """Single neurons on one trial: spike ticks and predicted rates in spikes/s.

    Args:
        time: bin centres, seconds from stimulus onset ``(n_bins,)``.
        spikes: the trial's counts ``(n_bins, n_neurons)``.
        rates: label -> the trial's rates ``(n_bins, n_neurons)`` in spikes per bin; a label
            ``"true"`` is drawn dashed grey.
        neurons: which columns to draw, one panel each.
        bin_size: seconds per bin (to convert to spikes/s).
        names: panel titles (default ``"neuron <index>"``).
    """
    neurons = np.asarray(neurons)
    names = names or [f"neuron {n}" for n in neurons]
    fig, axes = plt.subplots(1, len(neurons), figsize=(4 * len(neurons), 2.8), sharex=True,
                             squeeze=False)
    for ax, neuron, name in zip(axes[0], neurons, names, strict=True):
        ax.vlines(time[spikes[:, neuron] > 0], 0, 5, color="black", lw=1, label="spikes")
        for label, values in rates.items():
            style = {"color": "grey", "ls": "--"} if label == "true" else {"alpha": 0.85}
            ax.plot(time, values[:, neuron] / bin_size, label=label, **style)
        ax.set(title=name, xlabel="time from stimulus (s)")
    axes[0, 0].set_ylabel("rate (spikes/s)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center",
               ncol=len(rates) + 1, frameon=False, bbox_to_anchor=(0.5, 1.08))
    return axes[0]


def plot_population_prediction(time: np.ndarray, observed: np.ndarray, predicted: np.ndarray,
                               *, bin_size: float) -> tuple[Axes, Axes]:
    """Observed against predicted activity of a population on test trials: the trial-averaged
    population rate over time (left) and each trial's total spike count (right, with its
    correlation in the title). ``observed``, ``predicted``: ``(n_trials, n_bins, n_neurons)``
    counts and rates in spikes per bin; ``bin_size`` in seconds."""
    if np.shape(observed) != np.shape(predicted):
        raise ValueError(f"observed {np.shape(observed)} and predicted {np.shape(predicted)} "
                         "must have the same shape (n_trials, n_bins, n_neurons).")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.3))
    left.plot(time, observed.mean(axis=(0, 2)) / bin_size, color="black", lw=1,
              label="observed")
    left.plot(time, predicted.mean(axis=(0, 2)) / bin_size, label="predicted")
    left.set(xlabel="time from stimulus (s)", ylabel="mean rate (spikes/s)",
             title="population, test-trial average")
    left.legend(frameon=False)
    observed_totals, predicted_totals = observed.sum(axis=(1, 2)), predicted.sum(axis=(1, 2))
    right.scatter(observed_totals, predicted_totals, s=12)
    span = [observed_totals.min(), observed_totals.max()]
    right.plot(span, span, color="grey", lw=1)
    right.set(xlabel="observed spikes per test trial", ylabel="predicted spikes",
              title=f"r = {np.corrcoef(observed_totals, predicted_totals)[0, 1]:.2f}")
    return left, right


def plot_region_matrix(values, *, ax: Axes | None = None, title: str = "",
                       label: str = "gain (bits/spike)", marked=None) -> Axes:
    """A region x region matrix (rows = source, columns = target) with the diagonal left out,
    so that the off-diagonal pairs set the colour scale; a colour bar beside it (chapter 3).

    Args:
        values: a square ``pandas.DataFrame`` indexed and columned by region.
        title, label: the panel's title and the colour bar's label.
        marked: optional ``(source, target)`` pairs to outline (e.g. the true couplings).
    """
    ax = _axes(ax, (4.5, 3.8))
    matrix = values.to_numpy(dtype=float).copy()
    np.fill_diagonal(matrix, np.nan)  # within-region cells are not pairs
    finite = matrix[np.isfinite(matrix)]
    bound = max(float(np.abs(finite).max()), 1e-12) if finite.size else 1.0
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu_r", vmin=-bound, vmax=bound)
    ax.figure.colorbar(image, ax=ax, label=label, fraction=0.046)
    regions = list(values.index)
    ax.set(xticks=range(len(regions)), yticks=range(len(regions)), title=title,
           xlabel="target", ylabel="source", facecolor="0.85")
    ax.set_xticklabels(list(values.columns), rotation=30, ha="right")
    ax.set_yticklabels(regions)
    for source, target in marked or ():
        if source in regions and target in values.columns:
            ax.add_patch(plt.Rectangle((list(values.columns).index(target) - 0.5,
                                        regions.index(source) - 0.5), 1, 1, fill=False,
                                       edgecolor="black", lw=2))
    return ax


def plot_lag_profiles(profiles: dict, *, ax: Axes | None = None) -> Axes:
    """Lag profiles with their 95 % bands, one per region pair (chapter 3).

    Args:
        profiles: name -> an object with ``lags_s``, ``profile``, ``low``, ``high`` and
            ``peak_s`` (:class:`helpers.regression.LagProfile`); lags in seconds, negative =
            the source leads.
    """
    ax = _axes(ax, (5.5, 3.3))
    for name, lag in profiles.items():
        milliseconds = 1000 * np.asarray(lag.lags_s)
        line, = ax.plot(milliseconds, lag.profile, "o-", ms=3,
                        label=f"{name} (peak {1000 * lag.peak_s:+.0f} ms)")
        ax.fill_between(milliseconds, lag.low, lag.high, color=line.get_color(), alpha=0.2)
    ax.axvline(0, color="k", lw=1, ls=":")
    ax.set(xlabel="lag of the source (ms; negative = the source leads)",
           ylabel="residual cross-correlation\n(top singular value)")
    ax.legend(frameon=False, fontsize="small")
    return ax
