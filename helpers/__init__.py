"""Shared code for the book *Inferring Latent States with RNNs*.

Every chapter imports from here instead of re-defining code. The package is split into
small modules, each with one job:

- :mod:`helpers.data` -- the :class:`~helpers.data.Session` container, the Steinmetz loader,
  trial splitting and balancing (chapter 1).
- :mod:`helpers.surrogate` -- a simulated session in the same format with known rates and latents.
- :mod:`helpers.stats` -- summary statistics that compare a session with real recordings.
- :mod:`helpers.plotting` -- rasters, PSTHs and psychometric curves shared by the chapters.
- :mod:`helpers.models` -- the sequence-to-sequence RNN and the trial classifier.
- :mod:`helpers.metrics` -- Poisson loss, bits per spike, balanced accuracy and friends.
- :mod:`helpers.baselines` -- the null, condition-averaged PSTH and smoothing+GLM baselines.
- :mod:`helpers.evaluation` -- co-smoothing splits and bootstrap scoring of rates (chapter 2).
- :mod:`helpers.classify` -- cross-validated trial classification with baselines (chapter 4).
- :mod:`helpers.train` -- one training loop, :func:`~helpers.train.fit`, for every model.
- :mod:`helpers.progress` -- progress bars that render cleanly in Jupyter, a terminal and the site.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__version__ = "0.1.0"
__all__ = ["set_seed", "get_device", "__version__"]


def set_seed(seed: int = 2021, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and PyTorch so that a chapter gives the same numbers on every run.

    Args:
        seed: the seed to use everywhere.
        deterministic: also ask PyTorch for deterministic kernels (CPU results are then
            bit-for-bit reproducible; on a GPU some operations stay nondeterministic).

    Returns:
        The seed, so a notebook can print what it used.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global generator, used by older code)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return seed


def get_device(prefer: str | None = None, *, verbose: bool = True) -> torch.device:
    """Pick the device to train on: CUDA when available, else the CPU.

    Args:
        prefer: force a device ("cpu" or "cuda"); ``None`` picks automatically.
        verbose: print which device was chosen.

    Returns:
        A :class:`torch.device`.
    """
    if prefer is None:
        name = "cuda" if torch.cuda.is_available() else "cpu"
    elif prefer in ("cpu", "cuda"):
        if prefer == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "CUDA was requested but no GPU is visible. On Colab choose "
                "Runtime > Change runtime type > GPU, or call get_device() to use the CPU."
            )
        name = prefer
    else:
        raise ValueError(f"prefer must be None, 'cpu' or 'cuda', got {prefer!r}.")
    device = torch.device(name)
    if verbose:
        hint = "" if name == "cuda" else " (the book's chapters are sized to train on a CPU)"
        print(f"Using device: {device}{hint}")
    return device
