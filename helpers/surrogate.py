"""A simulated Steinmetz session with known ground truth (chapter 1, used by every chapter).

:func:`make_session` returns a :class:`~helpers.session.Session` in the course's format, with
``source="simulated"`` and a :class:`~helpers.session.Truth` holding what a real recording never
reveals: the rate of every neuron in every bin, the latent variables that generated them, and the
true probability that each trial is answered correctly. ``book/simulation.md`` documents the model.

Generative model, in short (all times in seconds, relative to stimulus onset):

1. Behaviour (:func:`helpers.simulated_design.simulate_behaviour`). Contrasts in {0, .25, .5, 1}
   on each side; engaged/disengaged bouts and a graded engagement level ``e`` in (0, 1) per
   trial; a choice (+1 left, -1 right, 0 no-go) from a three-way psychometric function whose
   lapses grow as engagement falls; reward by the Steinmetz et al. (2019) rules.
   ``p_correct`` = P(reward | contrasts, engagement).
2. Latents ``x[trial, bin, :]`` (:data:`LATENT_NAMES`): visual transients and sustained
   responses (left, right), a signed choice ramp, an unsigned action (movement) signal,
   engagement, a shared per-trial gain, and for each region block (``_BLOCKS``) private
   dynamics: a noisy damped rotation kicked by the stimulus -- the same kick on every trial of a
   condition plus a trial-specific one -- and two slow (0.5 s) fluctuations. These give co-
   smoothing the real data's ladder (``helpers.realism.CO_SMOOTHING_TARGETS``): structure that a
   condition average captures, more that smoothing follows, and more that only a model of the
   whole trial can infer. On top,
   each region group has four fast private latents (0.05 s), and for the region pairs of
   :data:`COUPLED_PAIRS` the target reads a rank-2 projection of the source's private latents
   30 ms late (``truth.coupling``); other pairs share only the session-wide latents.
3. Rates ``rates = 1 / (exp(-(b + loadings @ x)) + 1 / max_rate)`` spikes per bin: log-linear,
   saturating at 150 spikes/s. ``truth.rates`` = E[spikes | latents], the best prediction any
   model can make from the rest of the population.
4. Spikes: Poisson events at ``private_gain * rates / (1 + burst_mean)``, each a burst of
   ``1 + Poisson(burst_mean)`` spikes; the private gamma gain (mean 1, per neuron and trial) and
   the bursts make counts over-dispersed in ways no other neuron can predict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.special import ndtri

from helpers.catalogue import EXAMPLE_SESSION, SESSIONS, resolve_session
from helpers.session import (
    Coupling,
    Session,
    Truth,
    region_of,
)
from helpers.simulated_design import TaskBehaviour, simulate_behaviour

__all__ = ["make_session", "simulated_session", "LATENT_NAMES", "DEFAULT_AREA_COUNTS",
           "COUPLED_PAIRS"]

#: Names of the latent variables, in the order of ``truth.latents[..., i]``.
LATENT_NAMES: tuple[str, ...] = (
    "stim_left",        # visual onset transient for the left stimulus, contrast**0.5 * kernel(t)
    "stim_right",       # same for the right (contralateral to the simulated left-hemisphere probes)
    "sustained_left",   # sustained visual response while the left stimulus stays on screen
    "sustained_right",
    "choice",           # signed ramp into the wheel movement: +1 left, -1 right, 0 no-go
    "action",           # unsigned movement signal (go trials only)
    "engagement",       # slow per-trial state in (0, 1), constant within a trial
    "gain",             # shared per-trial log-gain, unit variance, constant within a trial
    # Region-private dynamics: for each block (see _BLOCKS), a damped rotation ("rot", two
    # coordinates) kicked by the stimulus with a trial-specific kick, and two slow fluctuations.
    *(f"{block}_{kind}" for block in ("vis", "thal", "hipp", "ctx", "sub")
      for kind in ("rot_1", "rot_2", "slow_1", "slow_2")),
)
_N_TASK = 8  # latents before the region-private blocks

#: The published layout of Lederberg 2017-12-05 (course session 11): 698 neurons, 340 trials.
DEFAULT_AREA_COUNTS: dict[str, int] = dict(SESSIONS[EXAMPLE_SESSION].area_counts)
_DEFAULT_N_TRIALS = 340
_VISUAL_THALAMUS = ("LGd", "LP")
_VISUAL_MIDBRAIN = ("SCs", "SCsg", "SCig")
_CHOICE_CORTEX = ("MOs", "MOp", "ACA")
_SUBCORTICAL = ("thal", "midbrain", "basal ganglia", "cortical subplate")
_NEOCORTICAL = ("vis ctx", "other ctx")
_MEDIAN_RATE_HZ = 1.0
_REGION_RATE_FACTOR = {"vis ctx": 0.6, "thal": 3.0, "hipp": 0.6}
_MAX_RATE_HZ = 150.0  # rates saturate smoothly here
_LOG_RATE_SD = 1.3
_TYPICAL_ENGAGEMENT = 0.7  # mean engagement level; baseline rates refer to it
_THAL_ENGAGEMENT = 1.0
_SLOW_TIMESCALE = 0.5  # s, Gaussian smoothing width of the slow region-private fluctuations
_SUSTAINED_TAU = 1.0  # s, decay of the sustained visual response
_GAIN_SD = 0.2  # loading scale on the per-trial gain
_KICK_LATENCY = 0.05  # s after stimulus onset: when the stimulus kicks the rotations
#: Region-private dynamics per block: rotation frequency (Hz) and damping time (s), the
#: stimulus kick's condition-dependent size and trial-specific s.d. (in units of the rotation's
#: resting s.d.), and the s.d. of the loadings of the block's neurons on its rotation and slow
#: latents.
_BLOCKS: dict[str, dict[str, float]] = {
    "vis": {"hz": 2.5, "tau": 0.4, "kick": 1.0, "kick_sd": 0.9, "rot_sd": 0.28, "slow_sd": 0.33},
    "thal": {"hz": 3.0, "tau": 0.4, "kick": 0.5, "kick_sd": 1.0, "rot_sd": 0.45, "slow_sd": 0.3},
    "hipp": {"hz": 3.0, "tau": 0.4, "kick": 0.0, "kick_sd": 0.5, "rot_sd": 0.2, "slow_sd": 0.2},
    "ctx": {"hz": 2.0, "tau": 0.4, "kick": 0.5, "kick_sd": 1.0, "rot_sd": 0.25, "slow_sd": 0.2},
    "sub": {"hz": 2.0, "tau": 0.4, "kick": 0.3, "kick_sd": 0.5, "rot_sd": 0.2, "slow_sd": 0.2},
}
_REGION_BLOCK = {"vis ctx": "vis", "thal": "thal", "hipp": "hipp", "other ctx": "ctx"}  # else sub
_SUSTAINED_MEAN, _SUSTAINED_SD = 0.3, 0.4  # sustained loading / transient loading
_PRIVATE_SHAPE = 8.0  # private gamma gain: mean 1, variance 1 / shape
_BURST_MEAN = 0.25  # mean extra spikes per event, averaged over neurons


# --------------------------------------------------------------------------- public API
def make_session(
    seed: int = 0,
    *,
    n_trials: int = _DEFAULT_N_TRIALS,
    n_bins: int = 250,
    bin_size: float = 0.01,
    stim_onset: float = 0.5,
    area_counts: dict[str, int] | None = None,
    mouse_name: str = "Simulated",
    date_exp: str | None = None,
) -> Session:
    """Simulate one session of the Steinmetz task with known rates, latents and behaviour.

    Args:
        seed: the only source of randomness; same seed and options give the same session
            bit for bit.
        n_trials: number of trials.
        n_bins: time bins per trial.
        bin_size: bin width in seconds.
        stim_onset: stimulus onset in seconds from the start of the first bin.
        area_counts: Allen acronym -> number of neurons, e.g. ``{"VISp": 80, "LGd": 40}``;
            default :data:`DEFAULT_AREA_COUNTS` (698 neurons). Unknown acronyms are allowed
            (they behave like ``root``).
        mouse_name, date_exp: labels; ``date_exp`` defaults to ``"seed-<seed>"``.

    Returns:
        A :class:`~helpers.session.Session` with ``spikes`` int16 ``(n_neurons, n_trials, n_bins)``
        and ``truth``: ``rates`` float32 spikes per bin ``(n_trials, n_bins, n_neurons)``,
        ``latents`` float32
        ``(n_trials, n_bins, 28)`` named by :data:`LATENT_NAMES`, and ``extra`` with per-trial
        ``p_correct`` (P(reward) given contrasts and engagement, before the choice),
        ``engagement`` (level in (0, 1)), ``engaged`` (bool state), ``choice`` (= response),
        ``p_choice`` ``(n_trials, 3)`` (P(left), P(right), P(no-go)), ``gocue`` and
        ``move_time`` (s after stimulus onset, NaN on no-go trials). Like a real session it
        also carries ``behaviour["wheel"]`` (wheel velocity per bin, driven by the ``action``
        latent) and ``events["response_time"]`` (NaN on no-go trials). ``truth.coupling``
        (:class:`~helpers.session.Coupling`) holds each region's private latents and the
        couplings of :data:`COUPLED_PAIRS` present in the session (rank 2, 30 ms lag).

    Raises:
        ValueError: an option is out of range (the message names it and the valid range).
    """
    area_counts = _check_options(seed, n_trials, n_bins, bin_size, stim_onset, area_counts)
    rng = np.random.default_rng(seed)
    brain_area = np.array([a for a, n in area_counts.items() for _ in range(n)], dtype=object)
    behaviour = simulate_behaviour(rng, n_trials)
    time = (np.arange(n_bins) + 0.5) * bin_size - stim_onset
    latents = _simulate_latents(rng, behaviour, time, bin_size)
    neurons = _draw_neurons(rng, brain_area, bin_size)
    coupling, region_latents, region_loadings = _region_coupling(seed, brain_area, n_trials,
                                                                 n_bins, bin_size)
    rates = _rates(neurons.log_baseline - 0.25 * (region_loadings ** 2).sum(axis=1),
                   np.c_[neurons.loadings, region_loadings],
                   np.concatenate([latents, region_latents], axis=2), _MAX_RATE_HZ * bin_size)
    spikes = _sample_spikes(rng, rates, neurons)
    truth = Truth(
        rates=rates.transpose(1, 2, 0),  # trials first, like the latents (a view, no copy)
        latents=latents,
        latent_names=LATENT_NAMES,
        extra={
            "p_correct": behaviour.p_correct,
            "engagement": behaviour.engagement,
            "engaged": behaviour.engaged,
            "choice": behaviour.response.copy(),
            "p_choice": behaviour.p_choice,
            "gocue": behaviour.gocue,
            "move_time": behaviour.move_time,
        },
        coupling=coupling,
    )
    return Session(
        spikes=spikes,
        brain_area=brain_area,
        contrast_left=behaviour.contrast_left,
        contrast_right=behaviour.contrast_right,
        feedback_type=behaviour.feedback_type,
        response=behaviour.response,
        bin_size=float(bin_size),
        stim_onset=float(stim_onset),
        mouse_name=mouse_name,
        date_exp=f"seed-{seed}" if date_exp is None else date_exp,
        source="simulated",
        truth=truth,
        **_wheel_and_response_times(seed, behaviour, latents, bin_size),
    )


# --------------------------------------------------------------------------- options
def _check_options(
    seed: int, n_trials: int, n_bins: int, bin_size: float, stim_onset: float,
    area_counts: dict[str, int] | None,
) -> dict[str, int]:
    """Validate the options of :func:`make_session`; return the area counts to use."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    for name, value, low in (("n_trials", n_trials, 10), ("n_bins", n_bins, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if not np.isfinite(bin_size) or bin_size <= 0:
        raise ValueError(f"bin_size must be a positive number of seconds, got {bin_size!r}.")
    if not np.isfinite(stim_onset) or not 0 <= stim_onset < n_bins * bin_size:
        raise ValueError(
            f"stim_onset must lie inside the trial, 0 <= stim_onset < n_bins * bin_size "
            f"= {n_bins * bin_size:g} s, got {stim_onset!r}."
        )
    if area_counts is None:
        return dict(DEFAULT_AREA_COUNTS)
    if not isinstance(area_counts, dict) or not area_counts:
        raise ValueError("area_counts must be a non-empty dict like {'VISp': 80, 'LGd': 40}.")
    for area, count in area_counts.items():
        if not isinstance(area, str) or not area.strip():
            raise ValueError(f"area_counts keys must be acronyms (non-empty str), got {area!r}.")
        if not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(
                f"area_counts[{area!r}] must be a non-negative integer, got {count!r}."
            )
    if sum(area_counts.values()) == 0:
        raise ValueError("area_counts has zero neurons in total; give at least one area a count.")
    counts: dict[str, int] = {}
    for area, count in area_counts.items():  # " TT" and "TT" are the same area
        if count > 0:
            counts[area.strip()] = counts.get(area.strip(), 0) + int(count)
    return counts


# --------------------------------------------------------------------------- behaviour


# --------------------------------------------------------------------------- latents
def _visual_kernel(time: np.ndarray, latency: float = 0.045) -> np.ndarray:
    """Visual onset response, peak 1: a transient and a short sustained tail."""
    lag = np.clip(time - latency, 0, None)
    transient = (lag / 0.04) * np.exp(1 - lag / 0.04)
    sustained = 0.35 * (1 - np.exp(-lag / 0.05)) * np.exp(-lag / 0.5)
    kernel = transient + sustained
    return kernel / max(kernel.max(), 1e-12)


def _sustained_kernel(time: np.ndarray, latency: float = 0.045) -> np.ndarray:
    """Sustained visual response while the grating stays on screen, peak 1: rises over ~60 ms,
    decays over :data:`_SUSTAINED_TAU`."""
    lag = np.clip(time - latency, 0, None)
    kernel = (1 - np.exp(-lag / 0.06)) * np.exp(-lag / _SUSTAINED_TAU)
    return kernel / max(kernel.max(), 1e-12)


def _movement_kernels(time: np.ndarray, move_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Choice ramp and action bump, each ``(n_trials, n_bins)``; zero on no-go trials."""
    lag = time[None, :] - np.nan_to_num(move_time, nan=np.inf)[:, None]
    ramp = np.where(lag < 0, np.exp(np.clip(lag, -10, 0) / 0.12), np.exp(-np.clip(lag, 0, None)
                                                                        / 0.35))
    action = np.clip(lag + 0.05, 0, None) / 0.12
    action = action * np.exp(1 - action)
    return ramp, action


def _simulate_latents(
    rng: np.random.Generator, behaviour: TaskBehaviour, time: np.ndarray, bin_size: float
) -> np.ndarray:
    """All latents, float32 ``(n_trials, n_bins, n_latents)`` in the order of LATENT_NAMES."""
    n_trials, n_bins = len(behaviour.engagement), len(time)
    latents = np.zeros((n_trials, n_bins, len(LATENT_NAMES)), dtype=np.float32)
    root_left, root_right = np.sqrt(behaviour.contrast_left), np.sqrt(behaviour.contrast_right)
    kernel, sustained = _visual_kernel(time), _sustained_kernel(time)
    latents[:, :, 0] = root_left[:, None] * kernel
    latents[:, :, 1] = root_right[:, None] * kernel
    latents[:, :, 2] = root_left[:, None] * sustained
    latents[:, :, 3] = root_right[:, None] * sustained
    ramp, action = _movement_kernels(time, behaviour.move_time)
    latents[:, :, 4] = behaviour.response[:, None] * ramp
    latents[:, :, 5] = action
    latents[:, :, 6] = behaviour.engagement[:, None]
    latents[:, :, 7] = rng.normal(size=n_trials)[:, None]
    for i, params in enumerate(_BLOCKS.values()):
        first = _N_TASK + 4 * i
        latents[:, :, first:first + 2] = _kicked_rotation(rng, params, root_left, root_right,
                                                          time, bin_size)
        latents[:, :, first + 2:first + 4] = _smooth_noise(rng, n_trials, n_bins, 2,
                                                           _SLOW_TIMESCALE, bin_size)
    return latents


def _kicked_rotation(
    rng: np.random.Generator, params: dict[str, float], root_left: np.ndarray,
    root_right: np.ndarray, time: np.ndarray, bin_size: float,
) -> np.ndarray:
    """A noisy damped rotation kicked by the stimulus, ``(n_trials, n_bins, 2)``.

    ``z[t+1] = rho * R(2 pi f dt) z[t] + sqrt(1 - rho**2) * noise``, unit variance at rest
    (``rho = exp(-dt / tau)``). At :data:`_KICK_LATENCY` after stimulus onset the state is
    kicked by ``kick * (sqrt(c_R) u_R + sqrt(c_L) u_L)`` -- the same on every trial of a
    condition -- plus a trial-specific kick of s.d. ``kick_sd * (0.3 + sqrt(max contrast))``
    per coordinate. It then rings and decays: a trial-specific trajectory that a model can
    infer from the whole trial but a smoothing kernel can only follow locally.
    """
    n_trials, n_bins = len(root_left), len(time)
    rho = np.exp(-bin_size / params["tau"])
    angle = 2 * np.pi * params["hz"] * bin_size
    transition = rho * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    noise = rng.normal(size=(n_bins, n_trials, 2)) * np.sqrt(1 - rho**2)
    state = rng.normal(size=(n_trials, 2))
    directions = np.array([[np.cos(np.pi / 3), np.sin(np.pi / 3)], [1.0, 0.0]])  # left, right
    kick = params["kick"] * (root_left[:, None] * directions[0] + root_right[:, None]
                             * directions[1])
    kick += (params["kick_sd"] * (0.3 + np.maximum(root_left, root_right))[:, None]
             * rng.normal(size=(n_trials, 2)))
    kick_bin = int(np.searchsorted(time, _KICK_LATENCY))
    out = np.empty((n_trials, n_bins, 2), dtype=np.float32)
    for t in range(n_bins):
        if t == kick_bin:
            state = state + kick
        out[:, t] = state
        state = state @ transition.T + noise[t]
    return out


def _smooth_noise(
    rng: np.random.Generator, n_trials: int, n_bins: int, n_series: int, sigma_s: float,
    bin_size: float,
) -> np.ndarray:
    """Gaussian-smoothed white noise, unit variance, ``(n_trials, n_bins, n_series)``.

    White noise with four kernel widths of margin on each side, smoothed by a Gaussian of s.d.
    ``sigma_s`` seconds (bins of ``bin_size`` seconds): directly for narrow kernels, in the
    frequency domain for wide ones (the slow latents), where a direct convolution would cost
    most of a session's run time.
    """
    sigma = sigma_s / bin_size  # in bins
    pad = int(np.ceil(4 * sigma))
    noise = rng.normal(size=(n_trials, n_bins + 2 * pad, n_series))
    if sigma <= 8:
        smooth = gaussian_filter1d(noise, sigma, axis=1, mode="constant")
        return smooth[:, pad:pad + n_bins] / np.sqrt(1 / (2 * np.sqrt(np.pi) * sigma))
    length = noise.shape[1]
    transfer = np.exp(-2 * (np.pi * sigma * np.fft.rfftfreq(length)) ** 2)
    smooth = np.fft.irfft(np.fft.rfft(noise, axis=1) * transfer[:, None], n=length, axis=1)
    return smooth[:, pad:pad + n_bins] / np.sqrt(1 / (2 * np.sqrt(np.pi) * sigma))


# --------------------------------------------------------------------------- wheel
_WHEEL_PEAK = 3.0  # typical peak wheel speed of a choice movement, arbitrary units per bin
_WHEEL_NOISE = 0.05  # s.d. of the still wheel's jitter, same units
_RESPONSE_DELAY_S = 0.08  # median time from movement start to the registered response


def _wheel_and_response_times(seed: int, behaviour: TaskBehaviour, latents: np.ndarray,
                              bin_size: float) -> dict[str, dict[str, np.ndarray]]:
    """The simulated wheel velocity and response times, as ``Session`` keyword arguments.

    The wheel is driven by the ``action`` latent: ``velocity = choice * peak * action + jitter``
    per bin (left choices positive, a convention of the simulation), with a per-trial peak
    speed (log-normal around :data:`_WHEEL_PEAK`) and slow, small jitter, so the wheel starts
    turning about 0.05 s before ``move_time`` and peaks about 0.07 s after it; no-go trials
    only jitter. The response time (when the choice is registered) follows the movement start
    by a log-normal delay (median :data:`_RESPONSE_DELAY_S`); NaN on no-go trials. Its own
    random stream (seeded by ``seed``), so the rest of the session is unchanged by it.
    """
    rng = np.random.default_rng([int(seed), 0x3EE1])
    n_trials, n_bins, _ = latents.shape
    peak = _WHEEL_PEAK * rng.lognormal(0.0, 0.3, size=n_trials)
    action = latents[:, :, LATENT_NAMES.index("action")]
    jitter = _smooth_noise(rng, n_trials, n_bins, 1, 0.03, bin_size)[..., 0] * _WHEEL_NOISE
    wheel = behaviour.response[:, None] * peak[:, None] * action + jitter
    delay = _RESPONSE_DELAY_S * rng.lognormal(0.0, 0.35, size=n_trials)
    response_time = behaviour.move_time + delay  # NaN stays NaN on no-go trials
    return {"behaviour": {"wheel": wheel.astype(np.float32)},
            "events": {"response_time": response_time}}


# --------------------------------------------------------------------------- neurons
@dataclass(frozen=True)
class _Neurons:
    """Per-neuron parameters, each with ``n_neurons`` rows."""

    log_baseline: np.ndarray    # log rate, spikes per bin, at zero latents
    loadings: np.ndarray        # (n_neurons, n_latents): weight of each latent on the log rate
    private_shape: np.ndarray   # shape of the private gamma gain (larger = less over-dispersed)
    burst_mean: np.ndarray      # mean number of extra spikes per spike event


def _draw_neurons(rng: np.random.Generator, brain_area: np.ndarray, bin_size: float) -> _Neurons:
    """Draw every neuron's baseline rate, latent loadings and private noise parameters."""
    n_neurons = len(brain_area)
    region = region_of(brain_area)
    # Log-normal rates at a typical engagement level, drawn stratified within each region
    # group (one draw per quantile bin, shuffled) so that sessions, and the regions in them,
    # differ little in their rate distribution.
    quantiles = np.empty(n_neurons)
    for group in np.unique(region):
        members = np.flatnonzero(region == group)
        quantiles[members] = (rng.permutation(len(members)) + rng.random(len(members))) / len(
            members)
    rate_hz = np.exp(np.log(_MEDIAN_RATE_HZ) + _LOG_RATE_SD * ndtri(quantiles))
    rate_hz *= np.array([_REGION_RATE_FACTOR.get(r, 1.0) for r in region])
    loadings = np.zeros((n_neurons, len(LATENT_NAMES)))
    loadings[:, 0:4] = _stimulus_loadings(rng, brain_area, region)
    loadings[:, 4:6] = _movement_loadings(rng, brain_area, region)
    loadings[:, 6] = _engagement_loadings(rng, region)
    loadings[:, 7] = _GAIN_SD * rng.uniform(0.5, 1.5, size=n_neurons)
    loadings[:, _N_TASK:] = _block_loadings(rng, region)
    # The zero-mean, unit-variance latents raise the mean rate by exp(variance / 2); take it
    # out of the baseline so that the rate distribution does not depend on their strength.
    random_part = np.r_[7, np.arange(_N_TASK, len(LATENT_NAMES))]
    log_baseline = (np.log(rate_hz * bin_size) - loadings[:, 6] * _TYPICAL_ENGAGEMENT
                    - 0.5 * (loadings[:, random_part] ** 2).sum(axis=1))
    private_shape = rng.lognormal(np.log(_PRIVATE_SHAPE), 0.3, size=n_neurons)
    burst_mean = rng.uniform(0, 2 * _BURST_MEAN, size=n_neurons)
    return _Neurons(log_baseline, loadings, private_shape, burst_mean)


def _block_loadings(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """Loadings on the region-private latents, ``(n_neurons, 4 * n_blocks)``, random signs.

    Each neuron loads only on its own region's block (rotation and slow latents), with s.d.
    ``rot_sd`` and ``slow_sd`` of that block. Random signs keep the average pairwise correlation
    near zero, as in real recordings, while the population moves in a low-dimensional space.
    """
    block_of = np.array([_REGION_BLOCK.get(r, "sub") for r in region])
    loadings = np.zeros((len(region), 4 * len(_BLOCKS)))
    for i, (block, params) in enumerate(_BLOCKS.items()):
        member = block_of == block
        scale = np.array([params["rot_sd"]] * 2 + [params["slow_sd"]] * 2)
        loadings[member, 4 * i:4 * i + 4] = scale * rng.normal(size=(int(member.sum()), 4))
    return loadings


def _stimulus_loadings(
    rng: np.random.Generator, brain_area: np.ndarray, region: np.ndarray
) -> np.ndarray:
    """Visual loadings (transient left, right, sustained left, right), ``(n_neurons, 4)``,
    contralateral (right) preference.

    70 % of visual neurons respond (visual cortex, LGd, LP, superficial colliculus); 15 % of
    neurons in the rest of neocortex, midbrain and basal ganglia respond, at half the amplitude
    (vision is found there, not in hippocampus or non-visual thalamus; Steinmetz et al. 2019).
    A responsive neuron's sustained loading is its transient one times
    ``N(_SUSTAINED_MEAN, _SUSTAINED_SD**2)``: mostly sustained excitation, sometimes suppression.
    """
    visual = np.isin(brain_area, _VISUAL_THALAMUS + _VISUAL_MIDBRAIN) | (region == "vis ctx")
    weakly_visual = ~visual & np.isin(region, ("other ctx", "midbrain", "basal ganglia"))
    p_responsive = np.select([visual, weakly_visual], [0.7, 0.15], 0.0)
    responsive = rng.random(len(region)) < p_responsive
    amplitude = np.minimum(rng.lognormal(np.log(1.8), 0.35, size=len(region)), 3.0)
    amplitude *= responsive * np.where(weakly_visual, 0.5, 1.0)
    ipsi = rng.uniform(0.0, 0.4, size=len(region))
    sustained = rng.normal(_SUSTAINED_MEAN, _SUSTAINED_SD, size=len(region))
    return np.stack([amplitude * ipsi, amplitude, sustained * amplitude * ipsi,
                     sustained * amplitude], axis=1)


def _movement_loadings(
    rng: np.random.Generator, brain_area: np.ndarray, region: np.ndarray
) -> np.ndarray:
    """(choice, action) loadings, ``(n_neurons, 2)``: choice in frontal/midbrain/basal ganglia,
    action nearly everywhere except thalamus (kept free of outcome information, see docs)."""
    n = len(region)
    choice_area = np.isin(brain_area, _CHOICE_CORTEX) | np.isin(region, ("midbrain",
                                                                          "basal ganglia"))
    choice = (rng.random(n) < np.where(choice_area, 0.25, 0.0)) * rng.normal(0, 0.6, size=n)
    p_action = np.where(region == "thal", 0.0, np.where(choice_area, 0.5, 0.25))
    action = (rng.random(n) < p_action) * rng.normal(0.3, 0.4, size=n)
    return np.stack([choice, action], axis=1)


def _engagement_loadings(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    """Engagement raises subcortical and lowers neocortical rates, ``(n_neurons,)``."""
    sign = np.where(np.isin(region, _SUBCORTICAL), 1.0,
                    np.where(np.isin(region, _NEOCORTICAL), -1.0, 0.0))
    mixed = sign == 0
    sign[mixed] = rng.choice([-1.0, 1.0], size=int(mixed.sum()))
    strength = np.where(region == "thal", _THAL_ENGAGEMENT, 0.6)
    engaged = rng.random(len(region)) < np.where(region == "thal", 0.75, 0.6)
    return engaged * sign * strength * rng.lognormal(0, 0.4, size=len(region))


def _rates(
    log_baseline: np.ndarray, loadings: np.ndarray, latents: np.ndarray, max_rate: float,
    chunk: int = 64,
) -> np.ndarray:
    """Rates in spikes per bin, float32 ``(n_neurons, n_trials, n_bins)``.

    ``rate = 1 / (exp(-drive) + 1 / max_rate)`` with ``drive = log_baseline + loadings @ latents``:
    ``exp(drive)`` at ordinary rates, saturating smoothly at ``max_rate`` (spikes per bin).
    Computed in blocks of neurons to stay in cache, each with only the latents it loads on.
    """
    n_trials, n_bins, n_latents = latents.shape
    flat = np.ascontiguousarray(latents.reshape(-1, n_latents).T)  # (n_latents, trials*bins)
    weights = -loadings.astype(np.float32)
    offsets = -log_baseline.astype(np.float32)[:, None]
    rates = np.empty((len(log_baseline), n_trials * n_bins), dtype=np.float32)
    used: dict[tuple[int, ...], np.ndarray] = {}  # latent subsets, cut once each
    for start in range(0, len(rates), chunk):
        block = rates[start:start + chunk]
        columns = tuple(np.flatnonzero(np.any(weights[start:start + chunk] != 0, axis=0)))
        if columns not in used:
            used[columns] = flat[list(columns)]
        np.matmul(weights[start:start + chunk][:, list(columns)], used[columns], out=block)
        block += offsets[start:start + chunk]  # -drive
        np.exp(block, out=block)
        block += np.float32(1 / max_rate)
        np.reciprocal(block, out=block)
    return rates.reshape(len(log_baseline), n_trials, n_bins)


def _sample_spikes(
    rng: np.random.Generator, rates: np.ndarray, neurons: _Neurons, chunk: int = 64
) -> np.ndarray:
    """Spikes whose mean is ``rates``, int16 ``(n_neurons, n_trials, n_bins)``.

    Spike events are Poisson with rate ``private_gain * rates / (1 + burst_mean)``, where the
    private gain is gamma with mean 1 per neuron and trial; each event is a burst of
    ``1 + Poisson(burst_mean)`` spikes in its bin. Exact and fast for sparse counts: a trial's
    number of events is Poisson(total), and each event then falls in a bin with probability
    proportional to that bin's rate (the splitting property of the Poisson process).
    """
    n_neurons, n_trials, n_bins = rates.shape
    spikes = np.zeros(rates.shape, dtype=np.int16)
    buffer = np.empty(chunk * n_trials * n_bins)  # float64, reused across blocks
    for start in range(0, n_neurons, chunk):
        block = rates[start:start + chunk].reshape(-1, n_bins)
        shape = np.repeat(neurons.private_shape[start:start + chunk], n_trials)
        burst_mean = np.repeat(neurons.burst_mean[start:start + chunk], n_trials)
        gain = rng.gamma(shape, 1 / shape)
        # One running sum over the whole block: row r's bins occupy [ends[r-1], ends[r]).
        cumulative = buffer[:block.size]
        np.copyto(cumulative, block.ravel())
        np.cumsum(cumulative, out=cumulative)
        ends = cumulative[n_bins - 1::n_bins]
        starts = np.r_[0.0, ends[:-1]]
        totals = ends - starts
        rows = np.repeat(np.arange(len(block)), rng.poisson(gain * totals / (1 + burst_mean)))
        if len(rows) == 0:
            continue
        targets = starts[rows] + rng.random(len(rows)) * totals[rows]
        order = np.argsort(targets, kind="stable")  # sorted keys search faster
        rows, targets = rows[order], targets[order]
        flat_bins = np.searchsorted(cumulative, targets, side="right")
        flat_bins = np.clip(flat_bins, rows * n_bins, (rows + 1) * n_bins - 1)  # rounding
        burst_sizes = 1 + rng.poisson(burst_mean[rows])
        # flat_bins is sorted: each run of equal indices is one bin's events.
        run_starts = np.flatnonzero(np.r_[True, flat_bins[1:] != flat_bins[:-1]])
        counts = np.add.reduceat(burst_sizes, run_starts)
        spikes[start:start + chunk].reshape(-1)[flat_bins[run_starts]] = counts
    return spikes


# --------------------------------------------------------------------------- regions
#: Region pairs ``(source, target)`` coupled in every simulated session that records both: the
#: target reads a rank-2 projection of the source's private latents 30 ms earlier (chapter 3).
COUPLED_PAIRS: tuple[tuple[str, str], ...] = (
    ("vis ctx", "thal"), ("hipp", "other ctx"), ("midbrain", "basal ganglia"))
_N_PRIVATE = 4  # private latents per region group
_PRIVATE_TIMESCALE = 0.05  # s, Gaussian smoothing width of the private latents
_PRIVATE_LOADING = 0.3  # loading s.d. of a region's neurons on each of its private latents
_COUPLING_RANK = 2
_COUPLING_LAG = 0.03  # s, the source leads the target
_COUPLING_LOADING = 0.6  # loading s.d. of a target neuron on each coupled dimension


def _region_coupling(seed: int, brain_area: np.ndarray, n_trials: int, n_bins: int,
                     bin_size: float) -> tuple[Coupling, np.ndarray, np.ndarray]:
    """Region-private latents and the couplings of :data:`COUPLED_PAIRS`, on their own random
    stream (the session-wide latents, neurons and behaviour do not change with them).

    Returns:
        The :class:`~helpers.session.Coupling` record, the extra latents
        ``(n_trials, n_bins, n_extra)`` (each region's private latents, then each coupled
        source's delayed ones) and the neurons' loadings on them ``(n_neurons, n_extra)``.
    """
    rng = np.random.default_rng([int(seed), 0xC0DE])
    region = region_of(brain_area)
    present = [r for r in dict.fromkeys(region)]
    lag_bins = int(round(_COUPLING_LAG / bin_size))
    private, delayed = {}, {}
    for name in present:  # simulated with lag_bins extra bins of history
        series = _smooth_noise(rng, n_trials, n_bins + lag_bins, _N_PRIVATE,
                               _PRIVATE_TIMESCALE, bin_size).astype(np.float32)
        private[name], delayed[name] = series[:, lag_bins:], series[:, :n_bins]
    pairs = tuple(p for p in COUPLED_PAIRS if p[0] in private and p[1] in private)
    columns = [private[name] for name in present] + [delayed[src] for src, _ in pairs]
    loadings = np.zeros((len(region), _N_PRIVATE * len(columns)))
    for i, name in enumerate(present):
        mine = region == name
        loadings[mine, i * _N_PRIVATE:(i + 1) * _N_PRIVATE] = _PRIVATE_LOADING * rng.normal(
            size=(int(mine.sum()), _N_PRIVATE))
    projections = {}
    for j, (source, target) in enumerate(pairs):
        basis, _ = np.linalg.qr(rng.normal(size=(_N_PRIVATE, _COUPLING_RANK)))
        projections[(source, target)] = basis.T  # (rank, n_private), orthonormal rows
        mine = region == target
        reads = _COUPLING_LOADING * rng.normal(size=(int(mine.sum()), _COUPLING_RANK))
        column = (len(present) + j) * _N_PRIVATE
        loadings[mine, column:column + _N_PRIVATE] = reads @ basis.T
    coupling = Coupling(pairs=pairs, rank=_COUPLING_RANK, lag_s=lag_bins * bin_size,
                        projections=projections, private_latents=private,
                        timescale_s=_PRIVATE_TIMESCALE)
    extra = np.concatenate(columns, axis=2) if columns else np.zeros((n_trials, n_bins, 0))
    return coupling, extra.astype(np.float32), loadings


_last_simulated: dict[int, Session] = {}  # the most recent simulated session, kept in memory


def simulated_session(session: int | str) -> Session:
    """The simulated stand-in for one of the 39 sessions: its published layout (neurons per
    area) and trial count from :data:`~helpers.catalogue.SESSIONS`, seed = its index.

    Nothing is written to disk. The most recent one is kept in memory, so loading it again is
    instant; each call returns a fresh :class:`~helpers.session.Session` object (the arrays
    are shared: do not modify them in place).
    """
    index = resolve_session(session)
    if index not in _last_simulated:
        info = SESSIONS[index]
        _last_simulated.clear()
        _last_simulated[index] = make_session(
            seed=index, n_trials=info.n_trials, area_counts=dict(info.area_counts),
            mouse_name=info.mouse_name, date_exp=info.date_exp,
        )
    return replace(_last_simulated[index])
