"""TrialClassifier (chapter 4): shapes, raw logits, and a loss without a double softmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.models import TrialClassifier
from helpers.train import fit


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes(cell: str, num_layers: int) -> None:
    model = TrialClassifier(7, hidden_size=5, n_classes=3, cell=cell, num_layers=num_layers)
    logits, hidden = model(torch.randn(4, 11, 7))
    assert logits.shape == (4, 3)
    assert hidden.shape == (4, 11, 5)


def test_logits_are_the_readout_of_the_last_hidden_state() -> None:
    torch.manual_seed(0)
    model = TrialClassifier(3, hidden_size=4)
    logits, hidden = model(torch.randn(6, 9, 3))
    torch.testing.assert_close(logits, model.readout(hidden[:, -1]))


def test_untrained_classifier_sits_at_chance() -> None:
    model = TrialClassifier(3, hidden_size=4)
    logits, _ = model(torch.randn(5, 6, 3))
    assert torch.all(logits == 0)
    model.readout.reset_parameters()  # what fit() calls before training
    assert torch.all(model.readout.weight == 0)


def test_output_is_not_normalised() -> None:
    torch.manual_seed(0)
    model = TrialClassifier(3, hidden_size=4)
    with torch.no_grad():
        model.readout.bias.copy_(torch.tensor([-3.0, 2.0]))
    logits, _ = model(torch.randn(5, 6, 3))
    assert (logits < 0).any(), "logits should be free real numbers, not probabilities"
    assert not torch.allclose(logits.sum(dim=1), torch.ones(5))


def test_loss_is_cross_entropy_of_the_logits() -> None:
    model = TrialClassifier(2, hidden_size=3)
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-4.0, 4.0]])
    targets = torch.tensor([0, 1, 1])
    weights = torch.tensor([2.0, 0.5])
    torch.testing.assert_close(model.loss((logits, None), targets),
                               F.cross_entropy(logits, targets))
    torch.testing.assert_close(model.loss((logits, None), targets, class_weights=weights),
                               F.cross_entropy(logits, targets, weight=weights))


def test_confident_right_answers_reach_zero_loss_unlike_a_double_softmax() -> None:
    model = TrialClassifier(2, hidden_size=3)
    logits, targets = torch.tensor([[-20.0, 20.0]]), torch.tensor([1])
    assert model.loss((logits, None), targets).item() < 1e-6
    double_softmax = F.cross_entropy(torch.softmax(logits, dim=1), targets).item()
    assert double_softmax == pytest.approx(np.log(1 + np.exp(-1)), abs=1e-6)  # floor 0.313


def test_fit_trains_with_plain_cross_entropy_on_integer_labels() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(12, 5, 3)).astype(np.float32)
    labels = np.array([0, 1] * 6)
    model = TrialClassifier(3, hidden_size=4)
    history = fit(model, inputs, labels, n_iter=1, lr=1e-12, validation=None, progress=False)
    with torch.no_grad():
        expected = F.cross_entropy(model(torch.as_tensor(inputs))[0], torch.as_tensor(labels))
    assert history.train_loss[0] == pytest.approx(expected.item(), rel=1e-5)


def test_fit_learns_an_easy_problem() -> None:
    rng = np.random.default_rng(1)
    labels = np.array([0, 1] * 20)
    inputs = (rng.normal(size=(40, 4, 3)) + 2.0 * labels[:, None, None]).astype(np.float32)
    model = TrialClassifier(3, hidden_size=4, cell="gru")
    fit(model, inputs, labels, n_iter=150, lr=0.02, validation=None, progress=False)
    predictions = model(torch.as_tensor(inputs))[0].argmax(dim=1).numpy()
    assert np.mean(predictions == labels) > 0.9


@pytest.mark.parametrize("kwargs", [{"n_classes": 1}, {"cell": "transformer"},
                                    {"hidden_size": 0}])
def test_bad_settings_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        TrialClassifier(3, **kwargs)


def test_neurons_first_input_gets_a_clear_error() -> None:
    model = TrialClassifier(5)
    with pytest.raises(ValueError, match="transpose"):
        model(torch.zeros(5, 10, 7))
