"""helpers.models: the sequence-to-sequence rate model Seq2SeqRNN (chapter 2) and the trial
classifier TrialClassifier (chapter 4): shapes, recipes, outputs, losses and bad inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.metrics import RATE_FLOOR
from helpers.models import (
    COURSE_SEQ2SEQ,
    RECOMMENDED_SEQ2SEQ,
    Outputs,
    Seq2SeqRNN,
    Seq2SeqSettings,
    TrialClassifier,
)
from helpers.train import fit


# ============================================================================ Seq2SeqRNN
def test_defaults_are_the_recommended_settings():
    model = Seq2SeqRNN(7, 5)
    assert model.settings == RECOMMENDED_SEQ2SEQ == Seq2SeqSettings()
    assert (RECOMMENDED_SEQ2SEQ.cell, RECOMMENDED_SEQ2SEQ.hidden_size) == ("gru", 16)
    assert RECOMMENDED_SEQ2SEQ.bidirectional and RECOMMENDED_SEQ2SEQ.log_inputs
    assert isinstance(model.rnn, torch.nn.GRU) and model.rnn.bidirectional
    assert model.rnn.hidden_size == 16 and model.hidden_size == 16 and model.log_inputs
    assert model.dropout.p == RECOMMENDED_SEQ2SEQ.input_dropout > 0
    assert model.loss_name == "Poisson loss"


def test_the_course_recipe_is_a_bidirectional_tanh_rnn_on_raw_counts():
    model = Seq2SeqRNN(7, 5, COURSE_SEQ2SEQ)
    assert model.settings == COURSE_SEQ2SEQ
    assert type(model.rnn) is torch.nn.RNN and model.rnn.nonlinearity == "tanh"
    assert model.rnn.bidirectional and model.rnn.hidden_size == 6
    assert not model.log_inputs and model.dropout.p == 0
    wider = Seq2SeqRNN(7, 5, COURSE_SEQ2SEQ, hidden_size=12)  # overrides apply on top
    assert wider.settings == dataclasses.replace(COURSE_SEQ2SEQ, hidden_size=12)
    assert COURSE_SEQ2SEQ.hidden_size == 6  # the recipe itself is untouched


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECOMMENDED_SEQ2SEQ.hidden_size = 32


def test_unknown_overrides_name_the_fields():
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['hidden'\].*hidden_size"):
        Seq2SeqRNN(3, 2, hidden=8)
    with pytest.raises(TypeError, match="Seq2SeqSettings"):
        Seq2SeqRNN(3, 2, {"hidden_size": 6})


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes_for_every_cell(cell, bidirectional, num_layers):
    torch.manual_seed(0)
    model = Seq2SeqRNN(7, 5, hidden_size=4, num_layers=num_layers, cell=cell,
                       bidirectional=bidirectional)
    rates, latents = model(torch.rand(3, 11, 7))
    assert rates.shape == (3, 11, 5)
    assert latents.shape == (3, 11, 4)


def test_bidirectional_latents_average_the_two_directions():
    torch.manual_seed(0)
    model = Seq2SeqRNN(3, 2, hidden_size=4, bidirectional=True, log_inputs=False).eval()
    spikes = torch.rand(2, 6, 3)
    hidden, _ = model.rnn(spikes)
    _, latents = model(spikes)
    assert torch.allclose(latents, (hidden[..., :4] + hidden[..., 4:]) / 2)


def test_rates_are_strictly_positive_even_for_extreme_weights():
    model = Seq2SeqRNN(4, 3)
    with torch.no_grad():
        model.readout.weight.fill_(-1e3)
        model.readout.bias.fill_(-1e3)
    rates, _ = model(torch.rand(2, 5, 4))
    assert (rates > 0).all() and torch.isfinite(torch.log(rates)).all()
    assert torch.all(rates >= RATE_FLOOR)


def test_readout_bias_starts_at_the_mean_rates():
    model = Seq2SeqRNN(4, 3, hidden_size=5)
    mean_rates = np.array([0.02, 0.5, 3.0])
    model.init_readout_bias(mean_rates)
    with torch.no_grad():
        model.readout.weight.zero_()
    rates, _ = model(torch.rand(1, 2, 4))
    assert np.allclose(rates[0, 0].detach().numpy(), mean_rates, rtol=1e-3)


def test_predict_returns_numpy_in_spikes_per_bin():
    model = Seq2SeqRNN(4, 3, hidden_size=2)
    rates, latents = model.predict(np.random.default_rng(0).poisson(0.3, (2, 5, 4)))
    assert isinstance(rates, np.ndarray) and rates.shape == (2, 5, 3) and (rates > 0).all()
    assert latents.shape == (2, 5, 2)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cell": "transformer"}, "cell must be one of"),
    ({"hidden_size": 0}, "hidden_size"),
    ({"num_layers": 1.5}, "num_layers"),
])
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Seq2SeqRNN(3, 2, **kwargs)


def test_bad_inputs_give_clear_errors():
    model = Seq2SeqRNN(4, 3)
    with pytest.raises(ValueError, match=r"session.spikes_by_trial\(\)"):
        model(torch.rand(4, 2, 5))  # session layout (neurons, trials, bins)
    with pytest.raises(ValueError, match=r"\(n_trials, n_bins, 4\)"):
        model(torch.rand(2, 5))
    with pytest.raises(ValueError, match="mean_rates must have shape"):
        model.init_readout_bias(np.ones(4))


def test_log_inputs_and_input_dropout():
    torch.manual_seed(0)
    spikes = torch.poisson(torch.full((2, 8, 4), 2.0))
    model = Seq2SeqRNN(4, 3, log_inputs=True, input_dropout=0.5).eval()
    plain = Seq2SeqRNN(4, 3, log_inputs=False, input_dropout=0.0)
    plain.load_state_dict(model.state_dict())
    assert torch.allclose(model(spikes)[0], plain(torch.log1p(spikes))[0])
    model.train()
    assert not torch.allclose(model(spikes)[0], plain(torch.log1p(spikes))[0])
    with pytest.raises(ValueError, match="input_dropout"):
        Seq2SeqRNN(4, 3, input_dropout=1.0)
    for settings in (COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ):
        assert Seq2SeqRNN(4, 3, settings)(spikes)[0].shape == (2, 8, 3)


# ======================================================================= TrialClassifier
def test_classifier_defaults_are_the_recommended_ones():
    model = TrialClassifier(3)
    assert isinstance(model.rnn, torch.nn.GRU) and not model.rnn.bidirectional
    assert model.hidden_size == 8 and model.n_classes == 2
    assert model.loss_name == "cross-entropy"


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_classifier_shapes(cell: str, num_layers: int) -> None:
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
    torch.testing.assert_close(model.loss(Outputs(logits, None), targets),
                               F.cross_entropy(logits, targets))
    torch.testing.assert_close(model.loss(Outputs(logits, None), targets, class_weights=weights),
                               F.cross_entropy(logits, targets, weight=weights))


def test_confident_right_answers_reach_zero_loss_unlike_a_double_softmax() -> None:
    model = TrialClassifier(2, hidden_size=3)
    logits, targets = torch.tensor([[-20.0, 20.0]]), torch.tensor([1])
    assert model.loss(Outputs(logits, None), targets).item() < 1e-6
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
def test_classifier_bad_settings_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        TrialClassifier(3, **kwargs)


def test_classifier_neurons_first_input_gets_a_clear_error() -> None:
    model = TrialClassifier(5)
    with pytest.raises(ValueError, match=r"session.spikes_by_trial\(\)"):
        model(torch.zeros(5, 10, 7))


# ============================================================================ LatentRNN
def test_latent_rnn_shapes_and_defaults():
    from helpers.models import RECOMMENDED_LATENT, LatentRNN, LatentSettings

    model = LatentRNN(7, 5)
    assert model.settings == RECOMMENDED_LATENT == LatentSettings()
    assert not model.rnn.bidirectional and isinstance(model.rnn, torch.nn.GRU)
    rates, factors = model(torch.rand(3, 11, 7))
    assert rates.shape == (3, 11, 5) and factors.shape == (3, 11, RECOMMENDED_LATENT.n_factors)
    assert (rates >= RATE_FLOOR).all()
    rates_np, factors_np = LatentRNN(7, 5, n_factors=3).predict(np.ones((2, 4, 7)))
    assert rates_np.shape == (2, 4, 5) and factors_np.shape == (2, 4, 3)


def test_latent_rnn_is_causal():
    """Changing the input at time t leaves every output before t unchanged."""
    from helpers.models import LatentRNN

    torch.manual_seed(0)
    model = LatentRNN(6, 4).eval()
    x = torch.poisson(torch.full((2, 20, 6), 0.5))
    changed = x.clone()
    changed[:, 12:] += 3.0
    with torch.no_grad():
        (rates, factors), (rates2, factors2) = model(x), model(changed)
    torch.testing.assert_close(rates[:, :12], rates2[:, :12])
    torch.testing.assert_close(factors[:, :12], factors2[:, :12])
    assert not torch.allclose(factors[:, 12:], factors2[:, 12:])


def test_latent_rnn_trains_with_fit():
    from helpers.models import LatentRNN

    rng = np.random.default_rng(0)
    drive = np.sin(np.linspace(0, 6, 30))[None, :, None] + rng.normal(0, 0.3, (40, 1, 1))
    spikes = rng.poisson(np.exp(drive + np.zeros((1, 1, 10)))).astype(np.float32)
    model = LatentRNN(6, 4, n_factors=2, hidden_size=8)
    history = fit(model, spikes[..., :6], spikes[..., 6:], n_iter=60, seed=0, progress=False)
    assert history.train_loss[-1] < history.train_loss[0]


def test_latent_rnn_bad_settings():
    from helpers.models import LatentRNN

    with pytest.raises(TypeError, match="unknown setting"):
        LatentRNN(3, 2, bidirectional=True)
    with pytest.raises(ValueError, match="n_factors must be a positive integer"):
        LatentRNN(3, 2, n_factors=0)
    with pytest.raises(TypeError, match="must be a LatentSettings"):
        LatentRNN(3, 2, RECOMMENDED_SEQ2SEQ)
    with pytest.raises(ValueError, match="Expected spikes shaped"):
        LatentRNN(3, 2)(torch.zeros(2, 5, 4))


# ======================================================================= the contract
def test_every_network_is_a_model_returning_outputs():
    from helpers.models import RECOMMENDED_CLASSIFIER, LatentRNN, Model

    x = torch.zeros(2, 5, 3)
    for model in (Seq2SeqRNN(3, 4), LatentRNN(3, 4), TrialClassifier(3)):
        assert isinstance(model, Model)
        outputs = model(x)
        assert isinstance(outputs, Outputs) and outputs.prediction is outputs[0]
    assert TrialClassifier(3).settings == RECOMMENDED_CLASSIFIER
    assert TrialClassifier(3, hidden_size=4).settings.hidden_size == 4


def test_latent_rnn_reuses_its_parent_and_keeps_the_layer_order():
    from helpers.models import LatentRNN

    model = LatentRNN(6, 4, n_factors=2, hidden_size=8)
    assert [name for name, _ in model.named_children()] == ["dropout", "rnn", "factors",
                                                            "readout"]
    assert not model.bidirectional and model.rnn.num_layers == 1
    assert model.readout.in_features == 2 and model.factors.in_features == 8


def test_start_from_sets_the_rate_models_readout_to_the_mean_count():
    model = Seq2SeqRNN(3, 2, input_dropout=0.0)
    targets = torch.tensor([[[0.2, 1.0]], [[0.4, 3.0]]])  # (trials, bins, neurons)
    model.start_from(targets)
    torch.testing.assert_close(F.softplus(model.readout.bias), torch.tensor([0.3, 2.0]))
    classifier = TrialClassifier(3)
    before = [p.clone() for p in classifier.parameters()]
    classifier.start_from(torch.tensor([0, 1]))  # a classifier keeps its fresh weights
    assert all(torch.equal(a, b) for a, b in zip(before, classifier.parameters(), strict=True))
