"""The events' canonical text: an opportunity's written without its dict is the text its
payload's canonical JSON is (what the digest hashes: a replay's digest depends on it)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from arbscope.events import Opp, OppCost
from arbscope.execution.paper import Fill
from storage.recorder import canonical, event_text

_words = st.lists(st.text(max_size=8), max_size=4).map(tuple)
_ints = st.integers(min_value=-(2**80), max_value=2**80)
# a ratio (profit_bps, p_ahead): floats the 6th-place rounding moves, any float, an int
_ratios = (
    st.integers(-(10**12), 10**12).map(lambda n: n / 1e7)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _ints
)
_costs = st.none() | st.builds(OppCost, _ints, st.none() | st.tuples(_ints, _ints))
_opps = st.builds(
    Opp,
    st.text(max_size=12),
    _words,
    _words,
    _words,
    _ints,
    _ints,
    _ints,
    _ints,
    _ratios,
    _ints,
    _ints,
    _ints,
    _ints,
    _ints,
    st.booleans(),
    _words,
    _costs,
)


def _text_is_the_payloads(odd: Opp | Fill) -> None:
    """``odd``'s text (its quick one too, where it has one) is its payload's canonical
    JSON (nothing to compare when the payload is not JSON at all)."""
    try:
        want = canonical(odd.payload())
    except (TypeError, ValueError):
        return
    quick = odd.canonical_text()
    assert quick is None or quick == want
    assert event_text(odd) == want


@given(
    _opps,
    st.sampled_from(["hops", "go", "profit_bps", "pools", "cost"]),
    st.sampled_from([True, 1.5, None, ("a", 1), "x"]),
)
def test_an_opportunity_of_other_types_falls_back_to_its_payload(
    opp: Opp, field: str, value: object
) -> None:
    """A field not of the engine's types (a bool count, a non-bool go, a list of
    non-strings, ...): the text is still the payload's canonical JSON (or its error)."""
    if field == "cost":
        value = OppCost(value, None)  # type: ignore[arg-type]
    _text_is_the_payloads(dataclasses.replace(opp, **{field: value}))  # type: ignore[arg-type]


_fills = st.builds(
    Fill,
    _ints,
    st.text(max_size=8),
    _ints,
    _ints,
    st.text(max_size=12),
    st.lists(st.text(max_size=8), max_size=4),
    st.lists(st.text(max_size=8), max_size=4),
    _ints,
    _ints,
    _ints,
    st.lists(_ints, max_size=5),
    _ints,
    _ints,
    _ints,
    st.booleans(),
    st.text(max_size=12),
    _ints,
    st.booleans(),
    _ratios,
    _ints,
)


@settings(max_examples=200)  # (the two kinds' 100 each, as when they were two tests)
@given(_opps | _fills)
def test_an_events_text_is_its_payloads_canonical_json(event: Opp | Fill) -> None:
    """An opportunity's or a fill's text, written without its dict."""
    text = event.canonical_text()
    assert text == canonical(event.payload())
    assert event_text(event) == text


@given(
    _fills,
    st.sampled_from(["seq", "ok", "raced", "p_ahead", "pools", "tokens", "hop_amounts", "base"]),
    st.sampled_from([True, 1, 1.5, None, ("a", 1), ["x"], [True], "x", "ab"]),
)
def test_a_fill_of_other_types_falls_back_to_its_payload(
    fill: Fill, field: str, value: object
) -> None:
    """A field not of the broker's types (a bool count, an int ok, a string for a list,
    a list of non-strings, ...): the text is still the payload's canonical JSON (or its
    error)."""
    _text_is_the_payloads(dataclasses.replace(fill, **{field: value}))  # type: ignore[arg-type]
