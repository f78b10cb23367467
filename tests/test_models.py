"""The sequence-to-sequence rate model (helpers.models.Seq2SeqRNN, chapter 2)."""

import numpy as np
import pytest
import torch

from helpers.models import Seq2SeqRNN


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
    model = Seq2SeqRNN(3, 2, hidden_size=4, bidirectional=True)
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
    with pytest.raises(ValueError, match="transpose"):
        model(torch.rand(4, 2, 5))  # session layout (neurons, trials, bins)
    with pytest.raises(ValueError, match=r"\(n_trials, n_bins, 4\)"):
        model(torch.rand(2, 5))
    with pytest.raises(ValueError, match="mean_rates must have shape"):
        model.init_readout_bias(np.ones(4))


def test_log_inputs_and_input_dropout():
    from helpers.models import COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ

    torch.manual_seed(0)
    spikes = torch.poisson(torch.full((2, 8, 4), 2.0))
    model = Seq2SeqRNN(4, 3, log_inputs=True, input_dropout=0.5).eval()
    plain = Seq2SeqRNN(4, 3)
    plain.load_state_dict(model.state_dict())
    assert torch.allclose(model(spikes)[0], plain(torch.log1p(spikes))[0])
    model.train()
    assert not torch.allclose(model(spikes)[0], plain(torch.log1p(spikes))[0])
    with pytest.raises(ValueError, match="input_dropout"):
        Seq2SeqRNN(4, 3, input_dropout=1.0)
    for settings in (COURSE_SEQ2SEQ, RECOMMENDED_SEQ2SEQ):
        assert Seq2SeqRNN(4, 3, **settings)(spikes)[0].shape == (2, 8, 3)
