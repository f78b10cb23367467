"""One training loop for every model in the book (introduced in chapter 2).

:func:`fit` trains any :class:`~helpers.models.Model` (the model contract): the Poisson loss for
:class:`~helpers.models.Seq2SeqRNN`, cross-entropy for :class:`~helpers.models.TrialClassifier`.
Its defaults are the settings the book recommends (chapter 2 explains them): Adam on mini-batches
of 32 trials with early stopping on a validation set carved from the *training* trials, so that a
model never trains far past the point where it stops generalising.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from helpers.models import Model
from helpers.recipes import with_overrides
from helpers.runtime import ProgressBar, cpu_threads, set_seed
from helpers.splits import split_trials

__all__ = ["FitSettings", "RECOMMENDED_FIT", "COURSE_RECIPE", "History", "fit"]

ArrayLike = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class FitSettings:
    """How :func:`fit` trains: the book's recommended recipe by default (chapter 2).

    Attributes:
        n_iter: maximum number of iterations; an iteration is one update, on ``batch_size``
            trials (full batch: one iteration = one pass over the training trials).
        lr: Adam learning rate.
        seed: seeds the initialisation, the validation carve and the batches.
        validation: how to decide when to stop. A fraction: that share of the given trials is
            set aside, without replacement (stratified by label for a classifier), and never
            trained on. A pair ``(inputs, targets)``: use those trials. ``None``: train on
            everything for exactly ``n_iter`` iterations (the course's recipe, which can
            overfit). Never pass the test trials here.
        patience: iterations without validation improvement before stopping; the weights of
            the best validation loss are restored.
        eval_every: how often (iterations) to measure the validation loss.
        weight_decay: L2 penalty (Adam's ``weight_decay``).
        grad_clip: clip the gradient norm to this value (``None``: no clipping).
        batch_size: trials per update, drawn without replacement, reshuffled after each pass;
            ``None`` uses all of them (full batch). Mini-batches of 32 at lr 0.02 reach the
            full-batch recipe's held-out score (lr 0.01) in less than half its time: an update
            costs far less than a pass over all the trials, and each pass makes several
            (``benchmarks/seq2seq.py``, "the fit, before and after").
        num_threads: CPU threads during training (restored afterwards). One is fastest for
            these small recurrent models on a busy machine; ``None`` keeps PyTorch's setting.
    """

    n_iter: int = 2000
    lr: float = 0.02
    seed: int = 0
    validation: tuple[ArrayLike, ArrayLike] | float | None = 0.2
    patience: int = 50
    eval_every: int = 5
    weight_decay: float = 0.0
    grad_clip: float | None = None
    batch_size: int | None = 32
    num_threads: int | None = 1


#: The recipe chapter 2 recommends: Adam at lr 0.02 on mini-batches of 32 trials, with early
#: stopping on 20 % of the training trials.
RECOMMENDED_FIT = FitSettings()
#: How the course template trained its rate model: 1000 full-batch Adam iterations at lr 0.005
#: (its code; its slides say 0.001), every training trial used, nothing held out, PyTorch's
#: default threads. ``fit(model, inputs, targets, COURSE_RECIPE)`` reproduces it (chapter 2).
COURSE_RECIPE = FitSettings(n_iter=1000, lr=0.005, validation=None, batch_size=None,
                            num_threads=None)


@dataclass
class History:
    """What happened during :func:`fit`.

    Attributes:
        train_loss: training loss at every iteration (before that iteration's update).
        val_iterations: iterations at which the validation loss was measured (0 = before training).
        val_loss: validation loss at those iterations.
        best_iteration: iteration whose weights were kept (the last one without validation).
        stopped_early: whether training stopped before ``n_iter`` because validation stalled.
        seconds: wall-clock training time.
        n_train_trials: trials trained on.
        n_val_trials: trials set aside to decide when to stop.
        monitor_loss: loss on the ``monitor`` trials at ``val_iterations`` (only watched, never
            used to train or to stop).
        loss_name: what the loss is, from the model (e.g. "Poisson loss", "cross-entropy").
    """

    train_loss: list[float] = field(default_factory=list)
    val_iterations: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_iteration: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    n_train_trials: int = 0
    n_val_trials: int = 0
    monitor_loss: list[float] = field(default_factory=list)
    loss_name: str = "loss"

    @property
    def n_iterations(self) -> int:
        """Number of iterations actually run."""
        return len(self.train_loss)

    def describe(self, n_iter: int) -> str:
        """How training ended, in a few words (the last line of its progress bar)."""
        if self.stopped_early:
            return (f"stopped early at iteration {self.n_iterations} of {n_iter}, "
                    f"kept {self.best_iteration}")
        kept = f", kept {self.best_iteration}" if self.val_loss else ""
        return f"ran all {self.n_iterations} iterations{kept}"

    @property
    def best_val_loss(self) -> float:
        """Lowest validation loss seen (NaN without validation)."""
        return min(self.val_loss) if self.val_loss else math.nan

    def plot(self, ax=None, label: str = "", monitor_label: str = "held-out"):
        """Learning curves: training loss and, when measured, validation and monitor losses;
        a dotted line marks the iteration whose weights were kept."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        iterations = np.arange(1, self.n_iterations + 1)
        line, = ax.plot(iterations, self.train_loss, label=f"{label} training".strip())
        if self.val_loss:
            ax.plot(self.val_iterations, self.val_loss, ls="--", color=line.get_color(),
                    label=f"{label} validation".strip())
        if self.monitor_loss:
            ax.plot(self.val_iterations, self.monitor_loss, ls=":", color=line.get_color(),
                    label=f"{label} {monitor_label}".strip())
        if self.val_loss:
            ax.axvline(self.best_iteration, color=line.get_color(), ls=":", lw=1)
        ax.set(xlabel="iteration", ylabel=self.loss_name)
        ax.legend(frameon=False)
        return ax


def _to_tensor(value: ArrayLike, device: torch.device, integer: bool) -> torch.Tensor:
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    tensor = tensor.long() if integer else tensor.float()
    return tensor.to(device)


def _is_label_vector(targets: ArrayLike) -> bool:
    return np.ndim(targets) == 1


def _check_finite(name: str, tensor: torch.Tensor) -> None:
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        n_bad = int((~torch.isfinite(tensor)).sum())
        raise FloatingPointError(
            f"{name} contain {n_bad} NaN or infinite value(s); training on them would give a NaN "
            "loss. Clean or mask them (e.g. np.nan_to_num) before calling fit.")


def _check_not_empty(name: str, tensor: torch.Tensor) -> None:
    """Trials first, then time bins: an empty axis would train on nothing (a NaN loss)."""
    if tensor.ndim == 0 or tensor.shape[0] == 0:
        raise ValueError(f"{name} have no trials (shape {tuple(tensor.shape)}): check the trial "
                         "selection or split before calling fit.")
    if tensor.ndim >= 3 and tensor.shape[1] == 0:
        raise ValueError(f"{name} have no time bins (shape {tuple(tensor.shape)}): check the "
                         "time window (start < end, inside the trial).")


def _prepare_data(inputs, targets, validation, seed, device):
    """Tensors for training and (optionally) validation, carving validation trials if asked."""
    if len(inputs) != len(targets):
        raise ValueError(f"inputs have {len(inputs)} trials but targets {len(targets)}.")
    integer = _is_label_vector(targets)
    x, y = _to_tensor(inputs, device, False), _to_tensor(targets, device, integer)
    for name, tensor in (("inputs", x), ("targets", y)):
        _check_not_empty(name, tensor)
        _check_finite(name, tensor)
    if validation is None:
        return x, y, None
    if isinstance(validation, (float, int)) and not isinstance(validation, bool):
        trials = y.cpu().numpy() if integer else len(x)  # labels: stratified split
        fit_idx, val_idx = (torch.as_tensor(idx, device=device)
                            for idx in split_trials(trials, float(validation), seed=seed))
        return x[fit_idx], y[fit_idx], (x[val_idx], y[val_idx])
    x_val, y_val = (_to_tensor(validation[0], device, False),
                    _to_tensor(validation[1], device, integer))
    if len(x_val) != len(y_val):
        raise ValueError(f"validation inputs have {len(x_val)} trials but targets {len(y_val)}.")
    for name, tensor in (("validation inputs", x_val), ("validation targets", y_val)):
        _check_not_empty(name, tensor)
        _check_finite(name, tensor)
    return x, y, (x_val, y_val)


def _reset(model: Model, seed: int, y: torch.Tensor) -> None:
    """Seeded re-initialisation, then the model's own start (:meth:`Model.start_from`)."""
    set_seed(seed)
    model.reset_parameters()
    model.start_from(y)


def _non_finite_error(value: float, iteration: int, lr: float) -> FloatingPointError:
    return FloatingPointError(
        f"The training loss became {value} at iteration {iteration}. Lower the learning rate "
        f"(now {lr}), check the inputs for huge values (scale them, e.g. log1p), or clip "
        "gradients harder (grad_clip).")


def fit(
    model: Model,
    inputs: ArrayLike,
    targets: ArrayLike,
    settings: FitSettings = RECOMMENDED_FIT,
    *,
    class_weights: ArrayLike | None = None,
    monitor: tuple[ArrayLike, ArrayLike] | None = None,
    on_validation: Callable[[int, float], None] | None = None,
    progress: bool = True,
    desc: str = "training",
    **overrides: object,
) -> History:
    """Train ``model`` on ``inputs -> targets`` with Adam and early stopping (chapter 2).

    Args:
        model: a :class:`~helpers.models.Model` (the contract: ``forward`` -> ``Outputs``,
            ``loss``); it is re-initialised from the seed first, and trains on the device its
            parameters are on.
        inputs: spikes ``(n_trials, n_bins, n_inputs)``.
        targets: spike counts ``(n_trials, n_bins, n_outputs)`` for a rate model, or integer
            labels ``(n_trials,)`` for a classifier.
        settings: the recipe (:class:`FitSettings`); :data:`COURSE_RECIPE` is the course's.
        class_weights: per-class weights for the cross-entropy, ``(n_classes,)``.
        monitor: ``(inputs, targets)`` of trials whose loss is only recorded, at the same
            iterations as the validation loss, to draw learning curves on held-out trials
            (e.g. the test trials: they never influence training or stopping).
        on_validation: called as ``on_validation(iteration, val_loss)`` after every validation
            check (e.g. to report to a hyperparameter search); an exception it raises (such
            as ``optuna.TrialPruned``) stops training and propagates.
        progress: show a progress bar; it ends in one line saying how training ended.
        desc: label of the progress bar.
        **overrides: fields of :class:`FitSettings` to change, e.g. ``n_iter=300``.

    Returns:
        A :class:`History` of the losses.

    Raises:
        FloatingPointError: the data contain NaN/inf, or the loss became NaN or infinite.
        ValueError: inputs and targets disagree on the number of trials, bad settings, or
            ``on_validation`` without validation.
        TypeError: ``settings`` that is not a :class:`FitSettings`, or an override that is
            not one of its fields.
    """
    if not isinstance(model, Model):
        raise TypeError(f"{type(model).__name__} is not a helpers.models.Model (no loss, no "
                        "Outputs): use a model from helpers.models or subclass Model.")
    s = with_overrides(settings, FitSettings, overrides, "fit", "n_iter=300")
    if s.n_iter < 1 or not s.lr > 0 or s.eval_every < 1 or s.patience < 1:
        raise ValueError(f"need n_iter, eval_every, patience >= 1 and lr > 0; got "
                         f"n_iter={s.n_iter}, eval_every={s.eval_every}, "
                         f"patience={s.patience}, lr={s.lr}.")
    if s.batch_size is not None and s.batch_size < 1:
        raise ValueError(f"batch_size must be a number of trials >= 1 (or None: all trials), "
                         f"got {s.batch_size}.")
    if on_validation is not None and s.validation is None:
        raise ValueError("on_validation is called after each validation check, but "
                         "validation=None never checks: give a validation fraction or set.")
    device = next(model.parameters()).device
    x, y, val = _prepare_data(inputs, targets, s.validation, s.seed, device)
    if monitor is not None:
        monitor = _prepare_data(*monitor, None, s.seed, device)[:2]
    _reset(model, s.seed, y)
    loss_kwargs = {}
    if class_weights is not None:
        loss_kwargs["class_weights"] = _to_tensor(class_weights, device, False)
    optimizer = torch.optim.Adam(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    history = History(n_train_trials=len(x), n_val_trials=0 if val is None else len(val[0]),
                      loss_name=model.loss_name)
    loop = _Loop(model, optimizer, loss_kwargs, s.grad_clip, s.lr, s.eval_every, monitor,
                 on_validation)
    start = time.perf_counter()
    bar = ProgressBar(total=s.n_iter, desc=desc, enabled=progress, mininterval=1.0)
    with cpu_threads(s.num_threads if device.type == "cpu" else None):
        try:
            loop.run(x, y, val, s.n_iter, _batches(len(x), s.batch_size, s.seed),
                     _EarlyStopping(model, s.patience), history, bar)
        except BaseException:
            bar.close()
            raise
        finally:
            model.eval()
            history.seconds = time.perf_counter() - start
    bar.finish(history.describe(s.n_iter))
    return history


@dataclass
class _Loop:
    """The optimisation loop of :func:`fit`."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss_kwargs: dict
    grad_clip: float | None
    lr: float
    eval_every: int
    monitor: tuple[torch.Tensor, torch.Tensor] | None = None
    on_validation: Callable[[int, float], None] | None = None

    def checkpoint(self, iteration: int, val, stopping: _EarlyStopping, history: History) -> bool:
        """Record validation (and monitor) losses; True when patience has run out."""
        if self.monitor is not None:
            history.monitor_loss.append(_evaluate(self.model, self.monitor, self.loss_kwargs))
        if val is None:
            history.val_iterations.append(iteration)
            return False
        val_loss = _evaluate(self.model, val, self.loss_kwargs)
        done = stopping.update(iteration, val_loss, history)
        if self.on_validation is not None:
            self.on_validation(iteration, val_loss)
        return done

    def step(self, x: torch.Tensor, y: torch.Tensor, iteration: int) -> float:
        self.optimizer.zero_grad()
        loss = self.model.loss(self.model(x), y, **self.loss_kwargs)
        value = loss.item()
        if not math.isfinite(value):
            raise _non_finite_error(value, iteration, self.lr)
        loss.backward()
        if self.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        return value

    def run(self, x, y, val, n_iter, batches, stopping: _EarlyStopping, history: History,
            bar: ProgressBar) -> None:
        watching = val is not None or self.monitor is not None
        if watching:
            self.checkpoint(0, val, stopping, history)
        self.model.train()
        for iteration in range(1, n_iter + 1):  # the bar is advanced by hand: fit closes it
            bar.update()
            idx = next(batches)
            batch_x, batch_y = (x, y) if idx is None else (x[idx], y[idx])
            history.train_loss.append(self.step(batch_x, batch_y, iteration))
            if not watching or (iteration % self.eval_every and iteration != n_iter):
                continue
            if self.checkpoint(iteration, val, stopping, history):
                history.stopped_early = True
                break
            if history.val_loss:
                bar.set_postfix_str(f"val {history.val_loss[-1]:.4f}", refresh=False)
        stopping.restore(history)


def _evaluate(model: nn.Module, val: tuple[torch.Tensor, torch.Tensor], loss_kwargs) -> float:
    model.eval()
    with torch.no_grad():
        value = model.loss(model(val[0]), val[1], **loss_kwargs).item()
    model.train()
    return value


def _batches(n_trials: int, batch_size: int | None, seed: int):
    """Endless stream of trial indices per update (``None`` = full batch)."""
    if batch_size is None or batch_size >= n_trials:
        while True:
            yield None
    rng = np.random.default_rng(seed)
    while True:
        order = torch.as_tensor(rng.permutation(n_trials))
        for start in range(0, n_trials - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


class _EarlyStopping:
    """Keeps the weights of the best validation loss; says when patience has run out."""

    def __init__(self, model: nn.Module, patience: int) -> None:
        self.model, self.patience = model, patience
        self.best_loss, self.best_state = math.inf, None

    def update(self, iteration: int, val_loss: float, history: History) -> bool:
        history.val_iterations.append(iteration)
        history.val_loss.append(val_loss)
        if val_loss < self.best_loss:
            self.best_loss, history.best_iteration = val_loss, iteration
            self.best_state = copy.deepcopy(self.model.state_dict())
        return iteration - history.best_iteration >= self.patience

    def restore(self, history: History) -> None:
        if self.best_state is None:
            history.best_iteration = history.n_iterations
        else:
            self.model.load_state_dict(self.best_state)
