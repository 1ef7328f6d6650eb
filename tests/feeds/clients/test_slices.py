"""The JSON parse in slices (:mod:`feeds.clients.slices`) against its oracle,
``json.loads``: the same value for every document, the same refusal for every broken
one, whatever the window and the slice; and the loop's turns between the slices."""

from __future__ import annotations

import asyncio
import gc
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.clients.slices import ONE_GO, Pace, gc_paused, parse_json, run_sliced, run_whole

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text()
)
documents = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=40,
)
spaces = st.sampled_from(["", " ", "\n", "\t ", " \r\n "])


def _text(doc: Any, sep: str, indent: int | None, ascii_only: bool) -> str:
    return json.dumps(
        doc, indent=indent, ensure_ascii=ascii_only, separators=(sep + "," + sep, sep + ":" + sep)
    )


def _outcome(parse: Any, raw: Any) -> tuple[str, Any]:
    """('ok', value) or ('refused', the exception's kind)."""
    try:
        return "ok", parse(raw)
    except (ValueError, RecursionError) as exc:
        return "refused", ValueError if isinstance(exc, ValueError) else RecursionError


def _sliced(step: int) -> Any:
    """The parse in slices, ``step`` bytes decoded at a time, a yield after every value."""
    return lambda raw: run_whole(parse_json(raw, Pace(0.0), step))


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (json.loads reads "NaN")."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(
    doc=documents,
    sep=spaces,
    indent=st.none() | st.integers(0, 2),
    ascii_only=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32-le", "str"]),
    step=st.integers(1, 9),
    lead=spaces,
    trail=spaces,
)
def test_every_document_parses_as_json_loads_parses_it(
    doc: Any,
    sep: str,
    indent: int | None,
    ascii_only: bool,
    encoding: str,
    step: int,
    lead: str,
    trail: str,
) -> None:
    """Any document, any spacing, any encoding json.loads reads, decoded a few bytes at
    a time (so every value straddles the window's end somewhere)."""
    text = lead + _text(doc, sep, indent, ascii_only) + trail
    raw: str | bytes = text if encoding == "str" else text.encode(encoding, "surrogatepass")
    want, got = _outcome(json.loads, raw), _outcome(_sliced(step), raw)
    assert want[0] == "ok" and got[0] == "ok" and _same(got[1], want[1])


@given(
    doc=documents,
    cut=st.integers(0, 10**6),
    insert=st.sampled_from([*',:[]{}"\\ -+.eE0123456789tfnx\x00\u00e9', "NaN", "1e", "//"]),
    drop=st.booleans(),
    step=st.integers(1, 9),
)
def test_every_broken_document_is_refused_as_json_loads_refuses_it(
    doc: Any, cut: int, insert: str, drop: bool, step: int
) -> None:
    """A document with a character inserted or one dropped, or cut short: refused when
    json.loads refuses it (ValueError), the same value when it still reads it."""
    text = _text(doc, "", None, False)
    at = cut % (len(text) + 1)
    broken = text[:at] + ("" if drop else insert) + text[at + (1 if drop else 0) :]
    for raw in (broken, broken.encode("utf-8", "surrogatepass"), text[:at].encode()):
        want, got = _outcome(json.loads, raw), _outcome(_sliced(step), raw)
        assert want[0] == got[0], (raw, want, got)
        if want[0] == "ok":
            assert _same(got[1], want[1])
        else:
            assert got[1] == want[1]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b" ",
        b"\xff\xfe\x00",
        b'["\xc3"]',
        b"\xef\xbb\xbf[1]",
        "\ufeff[1]",
        "[1]\ufeff",
        "1 2",
        "[1,]",
        '{"a":1,}',
        "[-]",
        "[1.]",
        "[1e]",
        "[.5]",
        "[01]",
        "[tru]",
        "[-Inf]",
        '"\x01"',
        '{"a" 1}',
        "{1:2}",
        "[[[[[[[[]]]]]]]]x",
        "NaN",
        "-Infinity",
    ],
)
def test_edge_cases_read_as_json_loads_reads_them(raw: str | bytes) -> None:
    for step in (1, 2, 3, 1 << 20):
        want, got = _outcome(json.loads, raw), _outcome(_sliced(step), raw)
        assert want[0] == got[0] and _same(got[1], want[1]), (raw, step, want, got)


def test_nesting_deeper_than_the_stack_is_a_recursion_error_as_with_json_loads() -> None:
    raw = "[" * 100_000 + "]" * 100_000
    assert _outcome(json.loads, raw)[1] is RecursionError
    assert _outcome(_sliced(1 << 20), raw)[1] is RecursionError


async def test_the_loop_takes_a_turn_between_every_two_values_of_the_walked_levels() -> None:
    """A slice of 0 s: a yield after every value of the walked containers — the loop's
    other tasks ran at least once per entry (counted turns, not time)."""
    entries = [
        {"pubkey": str(i), "account": {"data": ["QUJD", "base64"], "lamports": i}}
        for i in range(500)
    ]
    raw = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 5}, "value": entries}}
    ).encode()
    turns = 0

    async def spin() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    spinner = asyncio.create_task(spin())
    await asyncio.sleep(0)
    before = turns
    pace = Pace(0.0)
    got = await run_sliced(parse_json(raw, pace), pace)
    during = turns - before
    spinner.cancel()
    assert got == json.loads(raw)
    assert during >= len(entries)
    # in one go (the small answers' way): no turn at all
    before = turns
    assert run_whole(parse_json(raw, Pace(ONE_GO))) == json.loads(raw) and turns == before


def test_the_collector_is_held_off_while_any_pause_lasts_and_restored_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        with gc_paused(False):
            assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("an error inside")
    assert gc.isenabled()
    gc.disable()
    try:  # disabled before: left disabled
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
