"""The Token-2022 mints as the graph prices them (twin of ``graph/mints.rs``): each
mint's transfer fee in force at the epoch of the graph's slot (under the cluster's epoch
schedule) and the extensions that make a mint refused; the edge weights they make, and
a hop through a pool between fee mints (:class:`_FeeLeg`).
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import InvalidInputError
from .. import token2022 as _t22
from .._ints import Readonly, u64
from ..decode import owner_text
from ..sizing import Leg
from ._base import _check_id, _Graph

_REFUSED_WEIGHT = 1e9  # an edge through a refused mint: never part of a negative cycle
_REFUSED_FEE = (0, 0, 0xFFFF)  # a refused mint's leg fee: no mint holds it, nothing quotes
_MIN_SLOTS_PER_EPOCH = 32  # Agave's MINIMUM_SLOTS_PER_EPOCH


def _epoch_of(schedule: tuple[int, bool, int, int], slot: int) -> int:
    """Agave's ``EpochSchedule::get_epoch`` (``graph/mints.rs`` ``EpochSchedule::epoch``)."""
    spe, _warmup, first_epoch, first_slot = schedule
    if slot < first_slot:  # Agave: the warmup epochs lie before the first normal slot
        n = slot + _MIN_SLOTS_PER_EPOCH + 1
        length = 1 << (n - 1).bit_length() if n > 1 else 1
        return (length.bit_length() - 1) - (_MIN_SLOTS_PER_EPOCH.bit_length() - 1) - 1
    return first_epoch + (max(0, slot - first_slot)) // max(1, spe)


def _fee_factor(fee: tuple[int, int, int] | None) -> float:
    return 1.0 if fee is None else 1.0 - min(fee[2], 10_000) / 10_000.0


class _FeeLeg:
    """A hop through a pool between Token-2022 mints (the core's ``sizing::Leg`` with fees): the
    pool receives the input less its transfer fee, the trader the output less its."""

    __slots__ = ("fee_in", "fee_out", "leg")

    def __init__(self, leg: Leg, fee_in: Any, fee_out: Any) -> None:
        self.leg, self.fee_in, self.fee_out = leg, fee_in, fee_out

    def spot_rate(self) -> float:
        return self.leg.spot_rate() * _fee_factor(self.fee_in) * _fee_factor(self.fee_out)

    def amount_out(self, amount: int) -> int | None:
        if amount == 0:
            return 0
        into = _after_fee(self.fee_in, amount)
        if not into:
            return None
        out = self.leg.amount_out(into)
        return None if out is None else _after_fee(self.fee_out, out)

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        if amount == 0:
            return 0, 0
        into = _after_fee(self.fee_in, amount)
        if not into:
            return None
        r = self.leg.amount_steps(into)
        if r is None:
            return None
        out = _after_fee(self.fee_out, r[0])
        return None if out is None else (out, r[1])

    def constant_product(self) -> tuple[int, int, int, int] | None:
        return None  # the closed form does not hold with a transfer fee: the search sizes


def _after_fee(fee: tuple[int, int, int] | None, amount: int) -> int | None:
    if fee is None:
        return amount
    if fee[2] > 10_000:
        return None
    return amount - _t22._fee_of(fee, amount)


class _Mints(_Graph):
    """The mints' rules and the epoch (see the module docstring)."""

    def set_slot(self, slot: int) -> None:
        """Tell the graph the chain's current slot (for staleness, and the epoch of the
        mints' transfer fees)."""
        self._slot = max(self._slot, u64(slot))
        epoch = _epoch_of(self._epochs, self._slot)
        if epoch != self._epoch:
            self._epoch = epoch
            for t in list(self._mints):
                self._reweigh_token(t)

    epoch = Readonly[int](
        "_epoch",
        "The epoch of the graph's slot under its epoch schedule.",
    )

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        """The cluster's epoch schedule (``getEpochSchedule``'s fields)."""
        spe = u64(slots_per_epoch)
        if spe < _MIN_SLOTS_PER_EPOCH:
            raise InvalidInputError(f"slots_per_epoch {spe} is below {_MIN_SLOTS_PER_EPOCH}")
        self._epochs = (spe, bool(warmup), u64(first_normal_epoch), u64(first_normal_slot))
        self._epoch = -1
        self.set_slot(self._slot)

    def set_mint(self, mint: str, data: bytes, owner: object) -> list[str]:
        """A mint account: its transfer fee counts in every quote through its pools; the
        refused extensions' names (empty: tradable). Errors as ``decode_mint``."""
        _check_id(mint, "mint")
        if owner is None:
            raise InvalidInputError("owner: expected a program id")
        fee, refused = _t22.mint_rules(data, owner)
        t = self._token(mint)
        self._mint_owners[t] = str(owner_text(owner))
        if fee is None and not refused:
            if self._mints.pop(t, None) is not None:
                self._reweigh_token(t)
        else:
            self._mints[t] = (fee, list(refused))
            self._reweigh_token(t)
        return list(refused)

    def mint_fee(self, mint: str) -> Any:
        """A mint's transfer-fee config ``(older, newer)``; None without one."""
        t = self._token_ix.get(mint)
        rules = self._mints.get(t) if t is not None else None
        return None if rules is None else rules[0]

    def mint_program(self, mint: str) -> str | None:
        """The program that owns a mint the graph was told (``set_mint``), None for one
        it was not (an SPL Token mint the feed does not follow)."""
        t = self._token_ix.get(mint)
        return None if t is None else self._mint_owners.get(t)

    def refusal(self, mint: str) -> list[str]:
        """The refused extensions of a mint (empty: tradable, or not told)."""
        t = self._token_ix.get(mint)
        rules = self._mints.get(t) if t is not None else None
        return [] if rules is None else list(rules[1])

    def _fee_now(self, t: int) -> Any:
        rules = self._mints.get(t)
        if rules is None:
            return None
        if rules[1]:
            return _REFUSED_FEE
        if rules[0] is None:
            return None
        older, newer = rules[0]
        return newer if self._epoch >= newer[0] else older

    def _refused(self, t: int) -> bool:
        rules = self._mints.get(t)
        return rules is not None and bool(rules[1])

    def _weights(self, a: int, b: int, rates: tuple[float, float]) -> tuple[float, float]:
        if not self._mints:
            return (-math.log(rates[0]), -math.log(rates[1]))
        if self._refused(a) or self._refused(b):
            return (_REFUSED_WEIGHT, _REFUSED_WEIGHT)
        k = _fee_factor(self._fee_now(a)) * _fee_factor(self._fee_now(b))
        # a 100 % transfer fee: nothing ever arrives (the edge is as good as refused)
        wa, wb = (-math.log(r * k) if r * k > 0.0 else _REFUSED_WEIGHT for r in rates)
        return (wa, wb)

    def _reweigh_token(self, t: int) -> None:
        """Weigh the edges of every pool of token ``t`` again (its mint's rules changed)."""
        if t >= len(self._out):
            return
        for e in list(self._out[t]):
            s = e >> 1
            p = self._pools[s]
            if p is None:
                continue
            w = self._weights(p.a, p.b, p.rate)
            p.weight = w
            self._w[2 * s], self._w[2 * s + 1] = w
            self._cell[2 * s][1], self._cell[2 * s + 1][1] = w
            p.legs = None
        self._warm = None  # the distances were settled under other weights
