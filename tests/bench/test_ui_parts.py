"""``bench.ui --parts``: every part it names is a method that exists, each call is
timed in the thread's CPU time, and the methods are put back after."""

from __future__ import annotations

from bench.ui import PARTS, PartTimes, _called_on, part_of


class _Spin:
    def work(self, n: int) -> int:
        return sum(i * i for i in range(n))


def test_every_part_is_a_method_of_its_class() -> None:
    # (a renamed method fails here, not an hour into a bench run)
    for spec in PARTS:
        owner, name = part_of(spec)
        assert callable(vars(owner)[name]), spec


def test_parts_are_timed_while_installed_and_put_back() -> None:
    was = _Spin.__dict__["work"]
    with PartTimes((f"{__name__}:_Spin.work",)) as parts:
        assert _Spin.__dict__["work"] is not was
        s = _Spin()
        assert s.work(200_000) == sum(i * i for i in range(200_000))  # (what it returns)
        s.work(10)
    assert _Spin.__dict__["work"] is was
    ((label, calls, p50, p90, most, total, on),) = parts.rows()
    assert (label, calls) == ("_Spin.work", 2)
    assert 0 < most <= total * 1e3 and p50 <= p90 <= most
    assert on in ("200000", "10")  # what the longest call was on (which one: the clock's)


def test_the_longest_call_is_said_by_its_argument_and_what_it_returned() -> None:
    self = object()
    assert _called_on((self, "PoolA"), ["k1", "k2"]) == "'PoolA' -> 2"  # a pool, its cycles
    assert _called_on((self, 7), 3) == "7"
    assert _called_on((self,), None) == ""  # no argument
    assert _called_on((self, object()), []) == " -> 0"  # an argument that is not said
    assert len(_called_on((self, "x" * 100), None)) == 48
