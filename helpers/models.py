"""The book's RNNs: many-to-many rate models (chapter 2's, and chapter 5's causal one with a
named latent layer) and a many-to-one trial classifier.

Every network is a :class:`Model` (the contract :func:`helpers.train.fit` relies on): it takes
spikes shaped ``(n_trials, n_bins, n_inputs)`` (batch first), returns :class:`Outputs`
``(prediction, states)``, scores a prediction with :meth:`Model.loss`, and is built from a
frozen settings dataclass (:mod:`helpers.recipes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from helpers.metrics import RATE_FLOOR, poisson_loss
from helpers.recipes import with_overrides

__all__ = ["Outputs", "Model", "Seq2SeqSettings", "RECOMMENDED_SEQ2SEQ", "COURSE_SEQ2SEQ",
           "Seq2SeqRNN", "LatentSettings", "RECOMMENDED_LATENT", "LatentRNN",
           "ClassifierSettings", "RECOMMENDED_CLASSIFIER", "PLAIN_CLASSIFIER", "TrialClassifier"]

_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class Outputs(NamedTuple):
    """What every :class:`Model` returns: ``prediction, states = model(spikes)``.

    Attributes:
        prediction: what the loss scores: rates ``(n_trials, n_bins, n_outputs)`` in spikes
            per bin, or logits ``(n_trials, n_classes)``.
        states: the model's latent states ``(n_trials, n_bins, n_states)``.
    """

    prediction: torch.Tensor
    states: torch.Tensor


class Model(nn.Module):
    """The contract :func:`helpers.train.fit` trains: subclass it for a new network.

    A subclass implements :meth:`forward` (spikes ``(n_trials, n_bins, n_inputs)`` ->
    :class:`Outputs`) and :meth:`loss`, and names its loss in :attr:`loss_name` (the label of
    learning curves). :func:`~helpers.train.fit` calls :meth:`reset_parameters` (seeded) and
    then :meth:`start_from` with the training targets before its first update.
    """

    loss_name: str = "loss"

    def forward(self, x: torch.Tensor) -> Outputs:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward().")

    def loss(self, outputs: Outputs, targets: torch.Tensor,
             **kwargs: object) -> torch.Tensor:  # pragma: no cover - abstract
        """The training loss of ``outputs.prediction`` against ``targets`` (a scalar)."""
        raise NotImplementedError(f"{type(self).__name__} must define loss().")

    def reset_parameters(self) -> None:
        """Re-initialise every layer (PyTorch's default initialisation, from the global seed)."""
        for layer in self.modules():
            if layer is not self and hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def start_from(self, targets: torch.Tensor) -> None:
        """Adjust the fresh weights to the training targets before training; by default
        nothing (rate models start at each target neuron's mean rate)."""


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


class Seq2SeqRNN(Model):
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

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        """The recurrent state ``(n_trials, n_bins, hidden_size)`` (directions averaged)."""
        _check_input(x, self.n_inputs)
        if self.log_inputs:
            x = torch.log1p(x)
        hidden, _ = self.rnn(self.dropout(x))
        if self.bidirectional:
            forward, backward = hidden.chunk(2, dim=-1)
            hidden = (forward + backward) / 2
        return hidden

    def forward(self, x: torch.Tensor) -> Outputs:
        """Rates ``(n_trials, n_bins, n_outputs)`` in spikes/bin and latents
        ``(n_trials, n_bins, hidden_size)`` from spikes ``(n_trials, n_bins, n_inputs)``."""
        hidden = self._encode(x)
        return Outputs(nn.functional.softplus(self.readout(hidden)) + RATE_FLOOR, hidden)

    def start_from(self, targets: torch.Tensor) -> None:
        """Start at each target neuron's mean count (:meth:`init_readout_bias`)."""
        self.init_readout_bias(targets.mean(dim=tuple(range(targets.ndim - 1))).cpu())

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

    def loss(self, outputs: Outputs, targets: torch.Tensor, **_: object) -> torch.Tensor:
        """Poisson loss of the predicted rates against target spike counts."""
        return poisson_loss(outputs.prediction, targets)

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
        settings = with_overrides(settings, LatentSettings, overrides, "LatentRNN",
                                  "n_factors=4")
        if not isinstance(settings.n_factors, (int, np.integer)) or settings.n_factors < 1:
            raise ValueError(f"n_factors must be a positive integer, got "
                             f"{settings.n_factors!r}.")
        super().__init__(n_inputs, n_outputs, Seq2SeqSettings(
            hidden_size=settings.hidden_size, cell=settings.cell, bidirectional=False,
            num_layers=1, log_inputs=settings.log_inputs, input_dropout=settings.input_dropout))
        self.settings, self.n_factors = settings, settings.n_factors
        del self.readout  # the readout reads the factors: built after them (layer order = init)
        self.factors = nn.Linear(settings.hidden_size, settings.n_factors)
        self.readout = nn.Linear(settings.n_factors, n_outputs)

    def forward(self, x: torch.Tensor) -> Outputs:
        """Rates ``(n_trials, n_bins, n_outputs)`` in spikes/bin and factors
        ``(n_trials, n_bins, n_factors)`` from spikes ``(n_trials, n_bins, n_inputs)``."""
        factors = self.factors(self._encode(x))
        return Outputs(nn.functional.softplus(self.readout(factors)) + RATE_FLOOR, factors)


class _ZeroInitLinear(nn.Linear):
    """A linear layer that starts (and restarts, in :func:`~helpers.train.fit`) at zero."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)


@dataclass(frozen=True)
class ClassifierSettings:
    """How a :class:`TrialClassifier` is built and fed; the defaults are the ones chapter 4
    recommends (chosen on simulated sessions with the Lederberg layout, 100-trial, 260-neuron
    sessions, so that the RNN matches a cross-validated logistic regression). How it trains is
    its :class:`~helpers.train.FitSettings` (``helpers.classify.CLASSIFIER_RECIPE``).

    Attributes:
        cell: ``"gru"`` (default; trains more reliably than a tanh ``"rnn"``) or ``"lstm"``.
        hidden_size: size of the hidden state; small, because ~100-300 trials are few.
        num_layers: stacked recurrent layers.
        bin_width: seconds per time step fed to the RNN; spikes are summed into bins this wide
            (``None`` keeps the session's 10 ms bins). 50 ms bins cut noise and run time.
        log_inputs: feed ``log1p(counts)``, which tames bursty neurons.
        standardize: z-score each neuron with the mean and std of the training trials.
        n_components: feed the RNN this many whitened principal components of the scaled
            inputs instead of every neuron (``None``). Far fewer input weights to learn from a
            few hundred trials: the single change that helped most on small sessions.

    The last four are applied outside the network, by ``helpers.classify.InputScaler``.
    """

    cell: str = "gru"
    hidden_size: int = 8
    num_layers: int = 1
    bin_width: float | None = 0.05
    log_inputs: bool = True
    standardize: bool = True
    n_components: int | None = 8


#: The classifier chapter 4 recommends (the defaults of :class:`ClassifierSettings`).
RECOMMENDED_CLASSIFIER = ClassifierSettings()
#: A "plain" RNN, the original project's classifier without its bugs: a tanh RNN on raw 10 ms
#: counts (trained by ``helpers.classify.PLAIN_RECIPE``: fixed iterations, no validation).
PLAIN_CLASSIFIER = ClassifierSettings(cell="rnn", bin_width=None, log_inputs=False,
                                      standardize=False, n_components=None)


class TrialClassifier(Model):
    """Many-to-one RNN: a whole trial of spikes in, one class score per trial out.

    The logits come straight from a linear readout of the last hidden state: no softmax inside,
    because :func:`torch.nn.functional.cross_entropy` applies its own (the original project's
    extra softmax squashed the gradients). The readout starts at zero, so an untrained
    classifier gives every class the same logit (chance level): early stopping that finds no
    improvement then keeps a coin flip, not a random initial guess.

    Args:
        n_inputs: number of input features (neurons, or principal components).
        n_classes: number of classes (2: incorrect, correct).
        settings: the architecture (:class:`ClassifierSettings`; only ``cell``, ``hidden_size``
            and ``num_layers`` shape the network).
        **overrides: fields of :class:`ClassifierSettings` to change, e.g. ``hidden_size=4``.
    """

    loss_name = "cross-entropy"

    def __init__(self, n_inputs: int, n_classes: int = 2,
                 settings: ClassifierSettings = RECOMMENDED_CLASSIFIER,
                 **overrides: object) -> None:
        super().__init__()
        settings = with_overrides(settings, ClassifierSettings, overrides, "TrialClassifier",
                                  "hidden_size=4")
        if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
        self.settings = settings
        self.n_inputs, self.hidden_size, self.n_classes = n_inputs, settings.hidden_size, n_classes
        self.rnn = _make_recurrent(settings.cell, n_inputs, settings.hidden_size,
                                   settings.num_layers)
        self.readout = _ZeroInitLinear(settings.hidden_size, n_classes)

    def forward(self, x: torch.Tensor) -> Outputs:
        """Logits ``(n_trials, n_classes)`` and hidden states ``(n_trials, n_bins, hidden_size)``
        from spikes ``(n_trials, n_bins, n_inputs)``."""
        _check_input(x, self.n_inputs)
        hidden, _ = self.rnn(x)
        return Outputs(self.readout(hidden[:, -1]), hidden)

    def loss(self, outputs: Outputs, targets: torch.Tensor,
             class_weights: torch.Tensor | None = None, **_: object) -> torch.Tensor:
        """Cross-entropy of the logits against integer labels ``(n_trials,)``."""
        return nn.functional.cross_entropy(outputs.prediction, targets, weight=class_weights)
