"""Tests for helpers.recipes: changing a few fields of a frozen settings dataclass."""

from dataclasses import dataclass

import pytest

from helpers.recipes import with_overrides


@dataclass(frozen=True)
class Recipe:
    size: int = 1
    rate: float = 0.1


def test_with_overrides_changes_only_the_named_fields() -> None:
    original = Recipe()
    changed = with_overrides(original, Recipe, {"size": 3}, "demo", "size=3")
    assert changed == Recipe(size=3, rate=0.1)
    assert original == Recipe()  # a new object; the recipe itself is untouched
    assert with_overrides(original, Recipe, {}, "demo", "size=3") == original


def test_with_overrides_names_the_unknown_field_and_the_known_ones() -> None:
    with pytest.raises(TypeError, match=r"demo got unknown setting\(s\) \['width'\].*size"):
        with_overrides(Recipe(), Recipe, {"width": 3}, "demo", "size=3")


def test_with_overrides_refuses_a_dict_and_shows_the_keyword_form() -> None:
    with pytest.raises(TypeError, match="must be a Recipe, got dict.*size=3"):
        with_overrides({"size": 1}, Recipe, {}, "demo", "size=3")


def test_with_overrides_refuses_a_type_that_is_not_a_dataclass() -> None:
    with pytest.raises(TypeError, match="dataclass type"):
        with_overrides(Recipe(), dict, {}, "demo", "size=3")
