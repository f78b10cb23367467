"""helpers.train.fit refuses inputs it cannot train on (issue 19): NaN or infinite inputs,
targets or validation trials, empty trials or time bins, and a batch size of 0, each with a
message naming the problem and the fix, before any training starts."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.models import Seq2SeqRNN
from helpers.train import fit


def _data(n_trials: int = 12, n_bins: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.poisson(0.5, (n_trials, n_bins, 4)).astype(np.float32),
            rng.poisson(0.5, (n_trials, n_bins, 3)).astype(np.float32))


def _fit(inputs, targets, **kwargs):
    return fit(Seq2SeqRNN(4, 3), inputs, targets, n_iter=3, progress=False, **kwargs)


@pytest.mark.parametrize("where, name", [
    ("train_x", "inputs"), ("train_y", "targets"),
    ("val_x", "validation inputs"), ("val_y", "validation targets"),
])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_anywhere_are_refused(where, name, bad):
    (x, y), (vx, vy) = _data(), _data(6, seed=1)
    {"train_x": x, "train_y": y, "val_x": vx, "val_y": vy}[where][2, 3, 1] = bad
    with pytest.raises(FloatingPointError, match=f"^{name} contain 1 NaN or infinite.*Clean"):
        _fit(x, y, validation=(vx, vy))


def test_nan_validation_targets_no_longer_train_with_early_stopping_silently_off():
    (x, y), (vx, vy) = _data(), _data(6, seed=1)
    vy[:] = np.nan
    with pytest.raises(FloatingPointError, match="validation targets contain 144 NaN"):
        _fit(x, y, validation=(vx, vy))


@pytest.mark.parametrize("n_trials, n_bins, validation, message", [
    (0, 8, None, "inputs have no trials"),
    (12, 0, None, "inputs have no time bins.*time window"),
    (12, 8, "empty", "validation inputs have no trials"),
])
def test_empty_trials_or_bins_are_refused(n_trials, n_bins, validation, message):
    x, y = _data(n_trials, n_bins)
    if validation == "empty":
        validation = (x[:0], y[:0])
    with pytest.raises(ValueError, match=message):
        _fit(x, y, validation=validation)


@pytest.mark.parametrize("batch_size", [0, -3])
def test_a_batch_of_no_trials_is_refused(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be .* >= 1.*got {batch_size}"):
        _fit(*_data(), batch_size=batch_size)


def test_clean_data_still_train():
    history = _fit(*_data(), validation=_data(6, seed=1), batch_size=4)
    assert history.n_iterations == 3 and np.isfinite(history.val_loss).all()
