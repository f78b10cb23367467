"""Shared code for the book *Inferring Latent States with RNNs*.

Every chapter imports from here instead of re-defining code. One module, one job; a chapter
goes session -> window -> split -> model -> ``fit`` -> evaluate -> plot:

- :mod:`helpers.session` -- the :class:`~helpers.session.Session` container (select neurons and
  trials, cut a time window in seconds, switch to the models' layout).
- :mod:`helpers.catalogue` -- what the book knows of the 39 sessions before loading them.
- :mod:`helpers.steinmetz` -- the real recordings: download, cache, :func:`load_session`.
- :mod:`helpers.files` -- files in the data folder: safe downloads and writes, disk errors.
- :mod:`helpers.surrogate` -- simulated sessions in the same format, with known truth.
- :mod:`helpers.simulated_design` -- a simulated session's layout and task, before any neuron
  fires.
- :mod:`helpers.realism` -- is the simulation realistic? A session's summary statistics beside
  ranges measured on real recordings.
- :mod:`helpers.splits` -- who is held out: trials, neurons, folds, class balance.
- :mod:`helpers.recipes` -- the one settings shape (model settings + ``FitSettings``) and
  :func:`~helpers.recipes.with_overrides`.
- :mod:`helpers.models` -- every network, recommended settings by default, the course's by name.
- :mod:`helpers.train` -- one training loop, :func:`~helpers.train.fit`, for every model.
- :mod:`helpers.baselines` -- everything a model must beat, for rates and for decoding.
- :mod:`helpers.regression` -- ridge and reduced-rank regression between populations, lagged
  designs (chapter 3).
- :mod:`helpers.metrics` -- Poisson loss, bits per spike, balanced accuracy and friends.
- :mod:`helpers.evaluation` -- predictions -> one tidy table of scores with intervals.
- :mod:`helpers.classify` -- the cross-validated RNN decoding pipeline (chapter 4).
- :mod:`helpers.task_variables` -- the task's variables per trial and the null each needs.
- :mod:`helpers.decoding` -- what latents encode: decoders over time, paired comparisons.
- :mod:`helpers.latent_spaces` -- maps between latent spaces, seed agreement.
- :mod:`helpers.plotting` -- figures shared by the chapters.
- :mod:`helpers.runtime` -- seeds, device, CPU threads, progress bars.
- :mod:`helpers.sweep` -- hyperparameter searches with Optuna, from a laptop to a cluster.
- :mod:`helpers.sweep_storage` -- where a search keeps its trials, and what happens on faults.
- :mod:`helpers.sweep_analysis` -- reading a search: test-set comparison, samplers, importances.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helpers.runtime import get_device, set_seed
    from helpers.session import Session
    from helpers.steinmetz import list_sessions, load_session

__version__ = "0.1.0"
__all__ = ["set_seed", "get_device", "load_session", "list_sessions", "Session", "__version__"]

# The top-level names are imported on first use, so that ``import helpers.session`` (or
# ``helpers.surrogate``) loads neither PyTorch nor the real-data loader.
_LAZY = {"set_seed": "runtime", "get_device": "runtime", "Session": "session",
         "load_session": "steinmetz", "list_sessions": "steinmetz"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"helpers.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
