"""The book's RNNs: many-to-many rate models (chapter 2's, and chapter 5's causal one with a
named latent layer) and a many-to-one trial classifier.

All take spikes shaped ``(n_trials, n_bins, n_inputs)`` (batch first), and all expose a
``loss`` method so that :func:`helpers.train.fit` can train any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.metrics import RATE_FLOOR, poisson_loss
from helpers.runtime import with_overrides

__all__ = ["Seq2SeqSettings", "RECOMMENDED_SEQ2SEQ", "COURSE_SEQ2SEQ", "Seq2SeqRNN",
           "LatentSettings", "RECOMMENDED_LATENT", "LatentRNN", "TrialClassifier"]

_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


@dataclass(frozen=True)
class Seq2SeqSettings:
    """How a :class:`Seq2SeqRNN` is built; the defaults are the ones chapter 2 recommends.

    Attributes:
        hidden_size: latent dimensionality (the course used 6).
        cell: ``"rnn"`` (tanh, as in the course), ``"gru"`` or ``"lstm"``.
        bidirectional: run forwards and backwards in time; latents are the average of the two
            directions, as in the course template.
        num_layers: stacked recurrent layers.
        log_inputs: feed ``log(1 + spikes)`` instead of raw counts, so that a burst in one bin
            does not dominate the input (the model still takes counts; the transform is inside).
        input_dropout: during training, silence each input neuron's count in each bin with this
            probability (and scale the rest up); a regulariser that keeps the model from leaning
            on a few neurons. Off in evaluation mode.
    """

    hidden_size: int = 16
    cell: str = "gru"
    bidirectional: bool = True
    num_layers: int = 1
    log_inputs: bool = True
    input_dropout: float = 0.3


#: The rate model chapter 2 recommends: a bidirectional GRU with 16 latents, log(1 + counts) in,
#: input dropout against overfitting (the defaults of :class:`Seq2SeqSettings`).
RECOMMENDED_SEQ2SEQ = Seq2SeqSettings()
#: The course template's rate model (chapter 2): a bidirectional tanh RNN with 6 latents, fed
#: raw counts. ``Seq2SeqRNN(n_inputs, n_outputs, COURSE_SEQ2SEQ)``.
COURSE_SEQ2SEQ = Seq2SeqSettings(hidden_size=6, cell="rnn", bidirectional=True,
                                 log_inputs=False, input_dropout=0.0)


def _make_recurrent(cell: str, n_inputs: int, hidden_size: int, num_layers: int,
                    bidirectional: bool = False) -> nn.Module:
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}.")
    for name, value in (("n_inputs", n_inputs), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return _CELLS[cell](n_inputs, hidden_size, num_layers=num_layers, batch_first=True,
                        bidirectional=bidirectional)


def _check_input(x: torch.Tensor, n_inputs: int) -> None:
    if x.ndim != 3 or x.shape[-1] != n_inputs:
        raise ValueError(
            f"Expected spikes shaped (n_trials, n_bins, {n_inputs}), got {tuple(x.shape)}. "
            "A Session's spikes are (n_neurons, n_trials, n_bins): use "
            "session.spikes_by_trial() for the models' layout."
        )


class Seq2SeqRNN(nn.Module):
    """Many-to-many RNN: spikes of some neurons in, firing rates of (other) neurons out.

    The course template's model, generalised: an RNN/GRU/LSTM encoder, a linear readout and a
    softplus, so that rates are strictly positive. Its hidden state is the model's latent state.
    ``Seq2SeqRNN(n_inputs, n_outputs)`` builds the recommended model;
    ``Seq2SeqRNN(n_inputs, n_outputs, COURSE_SEQ2SEQ)`` the course's.

    Args:
        n_inputs: number of input neurons.
        n_outputs: number of target neurons whose rates are predicted.
        settings: the architecture (:class:`Seq2SeqSettings`).
        **overrides: fields of :class:`Seq2SeqSettings` to change, e.g. ``hidden_size=32``.
    """

    loss_name = "Poisson loss"

    def __init__(self, n_inputs: int, n_outputs: int,
                 settings: Seq2SeqSettings = RECOMMENDED_SEQ2SEQ, **overrides: object) -> None:
        super().__init__()
        settings = with_overrides(settings, Seq2SeqSettings, overrides, "Seq2SeqRNN",
                                  "hidden_size=32")
        if not 0 <= settings.input_dropout < 1:
            raise ValueError(f"input_dropout must be in [0, 1), got {settings.input_dropout!r}.")
        self.settings = settings
        self.n_inputs, self.n_outputs, self.hidden_size = n_inputs, n_outputs, settings.hidden_size
        self.bidirectional, self.log_inputs = settings.bidirectional, settings.log_inputs
        self.dropout = nn.Dropout(settings.input_dropout)
        self.rnn = _make_recurrent(settings.cell, n_inputs, settings.hidden_size,
                                   settings.num_layers, settings.bidirectional)
        self.readout = nn.Linear(settings.hidden_size, n_outputs)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rates ``(n_trials, n_bins, n_outputs)`` in spikes/bin and latents
        ``(n_trials, n_bins, hidden_size)`` from spikes ``(n_trials, n_bins, n_inputs)``."""
        _check_input(x, self.n_inputs)
        if self.log_inputs:
            x = torch.log1p(x)
        hidden, _ = self.rnn(self.dropout(x))
        if self.bidirectional:
            forward, backward = hidden.chunk(2, dim=-1)
            hidden = (forward + backward) / 2
        rates = nn.functional.softplus(self.readout(hidden)) + RATE_FLOOR
        return rates, hidden

    def init_readout_bias(self, mean_rates: torch.Tensor | np.ndarray) -> None:
        """Start the readout at each target neuron's mean rate (spikes/bin, ``(n_outputs,)``),
        so that training begins at the constant-rate null model instead of far from it."""
        mean_rates = torch.as_tensor(np.asarray(mean_rates), dtype=torch.float32).flatten()
        if mean_rates.shape != (self.n_outputs,):
            raise ValueError(f"mean_rates must have shape ({self.n_outputs},), "
                             f"got {tuple(mean_rates.shape)}.")
        rates = mean_rates.clamp_min(1e-4)
        inverse_softplus = rates + torch.log(-torch.expm1(-rates))
        with torch.no_grad():
            self.readout.bias.copy_(inverse_softplus.to(self.readout.bias.device))

    def loss(self, outputs: tuple[torch.Tensor, torch.Tensor], targets: torch.Tensor,
             **_: object) -> torch.Tensor:
        """Poisson loss of the predicted rates against target spike counts."""
        return poisson_loss(outputs[0], targets)

    @torch.no_grad()
    def predict(self, spikes: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Rates (spikes/bin) and latents as NumPy arrays, in evaluation mode, on the model's
        device: spikes ``(n_trials, n_bins, n_inputs)`` -> ``(rates, latents)``."""
        device = next(self.parameters()).device
        x = torch.as_tensor(np.asarray(spikes, dtype=np.float32)
                            if not isinstance(spikes, torch.Tensor) else spikes).float()
        was_training = self.training
        self.eval()
        rates, latents = self(x.to(device))
        self.train(was_training)
        return rates.cpu().numpy(), latents.cpu().numpy()


@dataclass(frozen=True)
class LatentSettings:
    """How a :class:`LatentRNN` is built; the defaults are the ones chapter 5 recommends.

    Attributes:
        hidden_size: units of the causal GRU (its running state).
        n_factors: size of the latent layer between the recurrent state and the readout:
            the low-dimensional quantity chapter 5 interprets.
        cell: ``"gru"`` (recommended), ``"rnn"`` or ``"lstm"``; always unidirectional.
        log_inputs: feed ``log(1 + spikes)`` (see :class:`Seq2SeqSettings`).
        input_dropout: silence each input count with this probability during training.
    """

    hidden_size: int = 32
    n_factors: int = 8
    cell: str = "gru"
    log_inputs: bool = True
    input_dropout: float = 0.3


#: The latent model chapter 5 recommends (the defaults of :class:`LatentSettings`).
RECOMMENDED_LATENT = LatentSettings()


class LatentRNN(Seq2SeqRNN):
    """A causal rate model with a named latent layer: spikes -> GRU -> factors -> rates.

    Chapter 2's rate model, made unidirectional, with a small linear layer (the *factors*)
    between the recurrent state and the readout, as in LFADS: the rates of all target neurons
    are a fixed function of these few numbers, so they are the model's latent state. Being
    causal, the factors in bin ``t`` depend only on spikes up to ``t`` (a running state you
    can interpret in time; a bidirectional network mixes in the future). Trained with
    :func:`helpers.train.fit` like :class:`Seq2SeqRNN`.

    Args:
        n_inputs: number of input neurons.
        n_outputs: number of target neurons whose rates are predicted.
        settings: the architecture (:class:`LatentSettings`).
        **overrides: fields of :class:`LatentSettings` to change, e.g. ``n_factors=4``.
    """

    def __init__(self, n_inputs: int, n_outputs: int,
                 settings: LatentSettings = RECOMMENDED_LATENT, **overrides: object) -> None:
        nn.Module.__init__(self)
        settings = with_overrides(settings, LatentSettings, overrides, "LatentRNN",
                                  "n_factors=4")
        if not 0 <= settings.input_dropout < 1:
            raise ValueError(f"input_dropout must be in [0, 1), got {settings.input_dropout!r}.")
        if not isinstance(settings.n_factors, (int, np.integer)) or settings.n_factors < 1:
            raise ValueError(f"n_factors must be a positive integer, got "
                             f"{settings.n_factors!r}.")
        self.settings = settings
        self.n_inputs, self.n_outputs, self.hidden_size = n_inputs, n_outputs, settings.hidden_size
        self.n_factors = settings.n_factors
        self.bidirectional, self.log_inputs = False, settings.log_inputs
        self.dropout = nn.Dropout(settings.input_dropout)
        self.rnn = _make_recurrent(settings.cell, n_inputs, settings.hidden_size, 1)
        self.factors = nn.Linear(settings.hidden_size, settings.n_factors)
        self.readout = nn.Linear(settings.n_factors, n_outputs)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rates ``(n_trials, n_bins, n_outputs)`` in spikes/bin and factors
        ``(n_trials, n_bins, n_factors)`` from spikes ``(n_trials, n_bins, n_inputs)``."""
        _check_input(x, self.n_inputs)
        if self.log_inputs:
            x = torch.log1p(x)
        hidden, _ = self.rnn(self.dropout(x))
        factors = self.factors(hidden)
        rates = nn.functional.softplus(self.readout(factors)) + RATE_FLOOR
        return rates, factors


class _ZeroInitLinear(nn.Linear):
    """A linear layer that starts (and restarts, in :func:`~helpers.train.fit`) at zero."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)


class TrialClassifier(nn.Module):
    """Many-to-one RNN: a whole trial of spikes in, one class score per trial out.

    The logits come straight from a linear readout of the last hidden state: no softmax inside,
    because :func:`torch.nn.functional.cross_entropy` applies its own (the original project's
    extra softmax squashed the gradients). The readout starts at zero, so an untrained
    classifier gives every class the same logit (chance level): early stopping that finds no
    improvement then keeps a coin flip, not a random initial guess.

    Args:
        n_inputs: number of input neurons.
        hidden_size: size of the hidden state.
        n_classes: number of classes (2: incorrect, correct).
        cell: ``"gru"`` (recommended, chapter 4), ``"rnn"`` or ``"lstm"``.
        num_layers: stacked recurrent layers.
    """

    loss_name = "cross-entropy"

    def __init__(self, n_inputs: int, hidden_size: int = 8, n_classes: int = 2,
                 cell: str = "gru", num_layers: int = 1) -> None:
        super().__init__()
        if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
        self.n_inputs, self.hidden_size, self.n_classes = n_inputs, hidden_size, n_classes
        self.rnn = _make_recurrent(cell, n_inputs, hidden_size, num_layers)
        self.readout = _ZeroInitLinear(hidden_size, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(n_trials, n_classes)`` and hidden states ``(n_trials, n_bins, hidden_size)``
        from spikes ``(n_trials, n_bins, n_inputs)``."""
        _check_input(x, self.n_inputs)
        hidden, _ = self.rnn(x)
        return self.readout(hidden[:, -1]), hidden

    def loss(self, outputs: tuple[torch.Tensor, torch.Tensor], targets: torch.Tensor,
             class_weights: torch.Tensor | None = None, **_: object) -> torch.Tensor:
        """Cross-entropy of the logits against integer labels ``(n_trials,)``."""
        return nn.functional.cross_entropy(outputs[0], targets, weight=class_weights)
