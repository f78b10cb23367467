"""helpers.catalogue: the 39 sessions' facts and session names."""

import numpy as np
import pytest

from helpers.catalogue import EXAMPLE_SESSION, SESSIONS, resolve_session
from helpers.session import region_of


# =============================================================================================
# The catalogue
# =============================================================================================
def test_sessions_table():
    assert len(SESSIONS) == 39
    assert [s.index for s in SESSIONS] == list(range(39))
    assert SESSIONS[11].name == "Lederberg 2017-12-05" and SESSIONS[11].n_trials == 340
    assert SESSIONS[EXAMPLE_SESSION] is SESSIONS[11]
    assert SESSIONS[0].n_neurons == 734 and SESSIONS[25].n_neurons == 1056
    assert SESSIONS[38].mouse_name == "Theiler"
    assert all(120 <= s.n_trials <= 450 and 400 <= s.n_neurons <= 1800 for s in SESSIONS)
    assert SESSIONS[25].n_trials == 178 and SESSIONS[20].n_trials == 124  # short sessions exist


def test_area_counts_sum_to_the_neurons_of_every_session():
    for info in SESSIONS:
        assert sum(info.area_counts.values()) == info.n_neurons, info.name
        assert sum(info.region_counts().values()) == info.n_neurons, info.name
        assert all(n > 0 for n in info.area_counts.values()), info.name
        assert info.confidence in ("several sources", "one source")
    assert {info.confidence for info in SESSIONS[:26]} == {"several sources"}


def test_catalogue_facts_the_book_relies_on():
    assert SESSIONS[0].mouse_name == "Cori" and SESSIONS[0].region_counts()["thal"] == 0
    assert SESSIONS[11].area_counts["MD"] == 126
    assert SESSIONS[11].region_counts()["thal"] == 155
    assert SESSIONS[11].region_counts()["vis ctx"] == 145
    assert SESSIONS[17].n_neurons == 1089
    layout = SESSIONS[17].area_counts
    assert {a: n for a, n in layout.items() if region_of([a])[0] == "thal"} == {
        "LGd": 89, "TH": 175}


def test_catalogue_rows_are_frozen():
    with pytest.raises(AttributeError):
        SESSIONS[0].n_neurons = 1


def test_simulated_default_layout_is_the_example_session():
    from helpers.surrogate import DEFAULT_AREA_COUNTS

    assert DEFAULT_AREA_COUNTS == SESSIONS[EXAMPLE_SESSION].area_counts


# =============================================================================================
# Naming
# =============================================================================================
@pytest.mark.parametrize("name", ["Lederberg 2017-12-05", "lederberg  2017-12-05",
                                  " LEDERBERG_2017-12-05 ", "11", 11, np.int64(11)])
def test_resolve_session(name):
    assert resolve_session(name) == 11


@pytest.mark.parametrize("bad", [39, -1, 100])
def test_resolve_session_out_of_range(bad):
    with pytest.raises(ValueError, match="out of range.*0-38"):
        resolve_session(bad)


def test_resolve_unknown_name_suggests():
    with pytest.raises(ValueError, match="Unknown session 'Nobody 2020-01-01'.*list_sessions"):
        resolve_session("Nobody 2020-01-01")
    with pytest.raises(ValueError, match="Did you mean.*Lederberg 2017-12-05"):
        resolve_session("Lederberg 2017-12-5")


@pytest.mark.parametrize("bad", [True, 3.0, None, [11]])
def test_resolve_session_bad_type(bad):
    with pytest.raises(TypeError, match="index 0-38 or a name"):
        resolve_session(bad)


def test_resolve_session_extra_names_take_precedence():
    assert resolve_session("Cori 2016-12-15", extra_names={0: "Cori 2016-12-15"}) == 0
    assert resolve_session("cori_2016-12-15", extra_names={0: "Cori 2016-12-15"}) == 0
    assert resolve_session("Cori 2016-12-17", extra_names={0: "Cori 2016-12-15"}) == 1
