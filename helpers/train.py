"""One training loop for every model in the book (introduced in chapter 2).

:func:`fit` trains a model that exposes ``loss(outputs, targets, **kwargs)``: the Poisson loss
for :class:`~helpers.models.Seq2SeqRNN`, cross-entropy for :class:`~helpers.models.TrialClassifier`.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from helpers import set_seed

ArrayLike = np.ndarray | torch.Tensor


@dataclass
class History:
    """What happened during :func:`fit`.

    Attributes:
        train_loss: training loss at every iteration.
        val_iterations: iterations at which the validation loss was measured.
        val_loss: validation loss at those iterations.
        best_iteration: iteration whose weights were kept (the last one without validation).
        stopped_early: whether training stopped before ``n_iter`` because validation stalled.
        seconds: wall-clock training time.
    """

    train_loss: list[float] = field(default_factory=list)
    val_iterations: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_iteration: int = 0
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def n_iterations(self) -> int:
        """Number of iterations actually run."""
        return len(self.train_loss)

    def plot(self, ax=None, label: str = ""):
        """Learning curves: training loss and, when measured, validation loss."""
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.plot(np.arange(1, self.n_iterations + 1), self.train_loss, label=f"{label} train".strip())
        if self.val_loss:
            ax.plot(self.val_iterations, self.val_loss, label=f"{label} held-out".strip())
            ax.axvline(self.best_iteration, color="grey", ls=":", lw=1)
        ax.set(xlabel="iteration", ylabel="loss")
        ax.legend(frameon=False)
        return ax


def _to_tensor(value: ArrayLike, device: torch.device, integer: bool) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
    tensor = tensor.long() if integer else tensor.float()
    return tensor.to(device)


def _is_label_vector(targets: ArrayLike) -> bool:
    return np.ndim(targets) == 1


def fit(
    model: nn.Module,
    inputs: ArrayLike,
    targets: ArrayLike,
    *,
    n_iter: int = 1000,
    lr: float = 0.005,
    seed: int = 0,
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    patience: int = 100,
    eval_every: int = 5,
    weight_decay: float = 0.0,
    class_weights: ArrayLike | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` on ``inputs -> targets`` with full-batch Adam.

    Args:
        model: a model with a ``loss`` method (see :mod:`helpers.models`).
        inputs: spikes ``(n_trials, n_bins, n_inputs)``.
        targets: spike counts ``(n_trials, n_bins, n_outputs)`` for a rate model, or integer
            labels ``(n_trials,)`` for a classifier.
        n_iter: maximum number of full-batch iterations.
        lr: Adam learning rate.
        seed: seeds the weight initialisation, so a run is reproducible on the CPU.
        validation: held-out ``(inputs, targets)``. When given, the validation loss is measured
            every ``eval_every`` iterations, training stops once it has not improved for
            ``patience`` iterations, and the best weights are restored.
        patience: iterations without validation improvement before stopping.
        eval_every: how often to measure the validation loss.
        weight_decay: L2 penalty (Adam's ``weight_decay``).
        class_weights: per-class weights for the cross-entropy, ``(n_classes,)``.
        progress: show a progress bar.
        desc: label of the progress bar.

    Returns:
        A :class:`History` of the losses.

    Raises:
        FloatingPointError: the loss became NaN or infinite.
        ValueError: inputs and targets disagree on the number of trials.
    """
    if not hasattr(model, "loss"):
        raise TypeError(f"{type(model).__name__} has no loss method; use a model from helpers.models.")
    if len(inputs) != len(targets):
        raise ValueError(f"inputs have {len(inputs)} trials but targets {len(targets)}.")
    if n_iter < 1 or lr <= 0:
        raise ValueError(f"n_iter must be >= 1 and lr > 0, got n_iter={n_iter}, lr={lr}.")
    set_seed(seed)
    for layer in model.modules():
        if layer is not model and hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    device = next(model.parameters()).device
    integer = _is_label_vector(targets)
    x, y = _to_tensor(inputs, device, False), _to_tensor(targets, device, integer)
    if hasattr(model, "init_readout_bias") and not integer:
        model.init_readout_bias(y.mean(dim=(0, 1)).cpu())
    loss_kwargs = {}
    if class_weights is not None:
        loss_kwargs["class_weights"] = _to_tensor(class_weights, device, False)
    if validation is not None:
        x_val = _to_tensor(validation[0], device, False)
        y_val = _to_tensor(validation[1], device, integer)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history, best_state, best_val = History(), None, math.inf
    start = time.perf_counter()
    bar = tqdm(range(1, n_iter + 1), desc=desc, disable=not progress, mininterval=1.0,
               ncols=80, ascii=True)
    model.train()
    for iteration in bar:
        optimizer.zero_grad()
        loss = model.loss(model(x), y, **loss_kwargs)
        value = loss.item()
        if not math.isfinite(value):
            bar.close()
            raise FloatingPointError(
                f"The training loss became {value} at iteration {iteration}. Lower the learning "
                f"rate (now {lr}), check the inputs for NaN/inf, or scale large inputs down."
            )
        loss.backward()
        optimizer.step()
        history.train_loss.append(value)
        if validation is not None and (iteration % eval_every == 0 or iteration == n_iter):
            model.eval()
            with torch.no_grad():
                val = model.loss(model(x_val), y_val, **loss_kwargs).item()
            model.train()
            history.val_iterations.append(iteration)
            history.val_loss.append(val)
            if val < best_val:
                best_val, history.best_iteration = val, iteration
                best_state = copy.deepcopy(model.state_dict())
            elif iteration - history.best_iteration >= patience:
                history.stopped_early = True
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        history.best_iteration = history.n_iterations
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
