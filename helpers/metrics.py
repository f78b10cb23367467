"""Scores: the Poisson loss and bits per spike (chapter 2), classification metrics (chapter 4)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import gammaln

_RATE_FLOOR = 1e-9  # the field's convention (nlb_tools): zero rates become 1e-9


def poisson_loss(rates: torch.Tensor, spikes: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The course's Poisson loss, ``mean(rates - spikes * log(rates))``.

    Minimising it is maximum likelihood for counts drawn from Poisson(rates): it is the
    negative log-likelihood without the ``log(spikes!)`` term, which does not depend on the model.

    Args:
        rates: predicted rates, spikes per bin, any shape, positive.
        spikes: observed counts, same shape.
        eps: added inside the log so that a zero rate gives a large finite loss, not inf.
    """
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {tuple(rates.shape)} and spikes {tuple(spikes.shape)} "
                         "must have the same shape.")
    return torch.mean(rates - spikes * torch.log(rates + eps))


def _as_float_array(name: str, value: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or inf.")
    return value


def poisson_log_likelihood(rates: np.ndarray, spikes: np.ndarray) -> np.ndarray:
    """Elementwise Poisson log-likelihood ``spikes*log(rate) - rate - log(spikes!)`` (nats)."""
    rates = np.maximum(rates, _RATE_FLOOR)
    return spikes * np.log(rates) - rates - gammaln(spikes + 1)


def bits_per_spike(rates: np.ndarray | torch.Tensor, spikes: np.ndarray | torch.Tensor) -> float:
    """Log-likelihood gain over a per-neuron constant-rate model, in bits per spike.

    The field's definition (Neural Latents Benchmark): ``(LL_model - LL_null) / (n_spikes ln 2)``,
    where the null model predicts each neuron's mean count over the evaluated trials and bins.
    Zero for the null model itself, positive when the model beats it, negative when it is worse.

    Args:
        rates: predicted rates in spikes per bin, ``(..., n_neurons)`` -- neurons on the last axis.
        spikes: observed counts, same shape.
    """
    rates = _as_float_array("rates", rates)
    spikes = _as_float_array("spikes", spikes)
    if rates.shape != spikes.shape:
        raise ValueError(f"rates {rates.shape} and spikes {spikes.shape} must match in shape.")
    if np.any(rates < 0):
        raise ValueError("rates must be non-negative (spikes per bin).")
    n_spikes = spikes.sum()
    if n_spikes == 0:
        raise ValueError("bits per spike is undefined when there are no spikes to predict.")
    flat_spikes = spikes.reshape(-1, spikes.shape[-1])
    null_rates = np.broadcast_to(flat_spikes.mean(axis=0), flat_spikes.shape)
    ll_model = poisson_log_likelihood(rates.reshape(flat_spikes.shape), flat_spikes).sum()
    ll_null = poisson_log_likelihood(null_rates, flat_spikes).sum()
    return float((ll_model - ll_null) / (n_spikes * np.log(2)))
