"""The compute-unit limit of a cycle's transaction: one function, :func:`cycle_budget`,
for what the live executor requests (``SetComputeUnitLimit``) and what the scorer prices
(``FeeContext.cu_limit``), so the two are the same number.

A cycle's transaction requests:

- :data:`CU_BASE` for what is not a swap (the compute-budget instructions, a durable
  nonce's advance, the tip's transfer), plus
- each hop's venue limit, ``Venue.compute_units.limit(steps)`` (``feeds.venues.base``:
  the venue's measured base, per step crossed and margin; ``steps`` None is the most a
  built swap can cross). The engine's quote does not report the steps a hop crosses, so
  every hop is priced at its venue's maximum; a hop whose pool's program is not known (the
  in-process market's pools have none) at the most any venue of its curve requests, plus
- :data:`CU_ATA` for each of the wallet's token accounts the transaction creates
  (``CreateIdempotent`` of a missing intermediate account).

``fees.cu_limit`` (:class:`CuBudget.override`) replaces the sum for every transaction. The
runtime refuses a limit above 1,400,000, so the limit is capped there.

The venues' figures are read at each call (never cached at import): they are the venues'
own, measured against the real programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feeds import venues
from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT

CU_BASE = 5_000  # the compute-budget instructions, a nonce advance, the tip transfer
CU_ATA = 30_000  # one CreateIdempotent of an associated token account (the ATA program)


def hop_limit(kind: str | None, curve: str = "", steps: int | None = None) -> int:
    """The units one hop requests: its venue's ``compute_units.limit(steps)`` (``kind``:
    the pool's program, as pools files name it); a pool whose program is not known, the
    most a venue of its ``curve`` (``Opportunity.kinds``) requests, else of any venue."""
    if kind:
        return venues.by_kind(kind).compute_units.limit(steps)
    same = [v.compute_units.limit() for v in venues.VENUES if v.ids.graph_kind == curve]
    return max(same or [v.compute_units.limit() for v in venues.VENUES])


@dataclass(frozen=True, slots=True)
class CuBudget:
    """The compute units of one transaction, part by part (the cycle detail shows them):
    ``hops`` each hop's limit, ``accounts`` token accounts created, ``override`` the
    configured limit that replaces the sum (``fees.cu_limit``)."""

    hops: tuple[int, ...]
    accounts: int = 0
    base: int = CU_BASE
    per_account: int = CU_ATA
    override: int | None = None

    @property
    def estimate(self) -> int:
        """The sum of the parts."""
        return self.base + sum(self.hops) + self.per_account * self.accounts

    @property
    def limit(self) -> int:
        """What the transaction requests and the scorer prices."""
        return min(self.override or self.estimate, MAX_COMPUTE_UNIT_LIMIT)

    def text(self) -> str:
        """The arithmetic in a line: ``5,000 + 140,000 + 70,000 + 30,000 × 1 = 245,000``."""
        if self.override:
            return f"{self.limit:,} (fees.cu_limit; the hops' estimate is {self.estimate:,})"
        parts = [f"{self.base:,}", *(f"{h:,}" for h in self.hops)]
        if self.accounts:
            parts.append(f"{self.per_account:,} × {self.accounts}")
        capped = " (the runtime's cap)" if self.limit < self.estimate else ""
        return " + ".join(parts) + f" = {self.limit:,}{capped}"


def cycle_budget(
    kinds: Sequence[str | None],
    curves: Sequence[str] = (),
    accounts: int = 0,
    override: int | None = None,
    steps: Sequence[int | None] | None = None,
) -> CuBudget:
    """The compute units of a transaction holding one swap per hop of ``kinds`` (each
    hop's pool program; None where not known, then ``curves[i]``, the hop's curve, is
    used) and creating ``accounts`` token accounts; ``steps``: what each hop crosses,
    when known (None: its venue's maximum); ``override``: ``fees.cu_limit``."""
    hops = tuple(
        hop_limit(
            k,
            curves[i] if i < len(curves) else "",
            steps[i] if steps is not None and i < len(steps) else None,
        )
        for i, k in enumerate(kinds)
    )
    return CuBudget(hops, accounts, override=override)
