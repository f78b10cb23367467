"""Recipes: the book's one settings shape.

A model is described by two frozen dataclasses, never by loose keywords:

- its *settings* (architecture and how it is fed), e.g. :class:`~helpers.models.Seq2SeqSettings`
  or :class:`~helpers.models.ClassifierSettings`, passed to the model's constructor;
- its training *recipe*, a :class:`~helpers.train.FitSettings`, passed to
  :func:`~helpers.train.fit`.

``settings, recipe = candidate_from_params(params)`` (:mod:`helpers.sweep`) and
``cross_validate(session, settings=..., recipe=...)`` (:mod:`helpers.classify`) use the same
pair. :func:`with_overrides` is the one way to change a few fields of either:
``Seq2SeqRNN(n_in, n_out, COURSE_SEQ2SEQ, hidden_size=32)``, ``fit(..., RECIPE, n_iter=300)``.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import TypeVar

__all__ = ["with_overrides"]

S = TypeVar("S")


def with_overrides(settings: S, expected: type[S], overrides: dict[str, object],
                   owner: str, example: str) -> S:
    """``settings`` (a frozen dataclass of type ``expected``) with some fields changed.

    Args:
        settings: the recipe to start from, e.g. ``COURSE_SEQ2SEQ``.
        expected: its dataclass type, e.g. ``Seq2SeqSettings``.
        overrides: field name -> new value (a model's or ``fit``'s ``**overrides``).
        owner: who asks (named in error messages), e.g. ``"Seq2SeqRNN"``.
        example: a valid override to show in the error message, e.g. ``"hidden_size=32"``.

    Returns:
        A new dataclass of type ``expected``; ``settings`` itself is unchanged.

    Raises:
        TypeError: ``settings`` is not an ``expected`` (e.g. an old-style dict), or an override
            is not one of its fields; the message names the fields.
    """
    if not (isinstance(expected, type) and is_dataclass(expected)):
        raise TypeError(f"expected must be a dataclass type, got {expected!r}.")
    names = [f.name for f in fields(expected)]
    if not isinstance(settings, expected):
        raise TypeError(f"settings must be a {expected.__name__}, got {type(settings).__name__};"
                        f" pass single changes as keywords, e.g. {example}.")
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise TypeError(f"{owner} got unknown setting(s) {unknown}; {expected.__name__} has "
                        f"{names}.")
    return replace(settings, **overrides)
