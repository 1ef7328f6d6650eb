"""The compute-unit limit of a cycle's transaction: one function, :func:`cycle_budget`,
for what the live executor requests (``SetComputeUnitLimit``) and what the scorer prices
(``FeeContext.cu_limit``), so the two are the same number.

A cycle's transaction requests:

- :data:`CU_BASE` for what is not a swap (the compute-budget instructions, a durable
  nonce's advance, the tip's transfer), plus
- each hop's venue limit, ``Venue.compute_units.limit(steps)`` (``feeds.venues.base``:
  the venue's measured base, per step crossed and margin) at the steps its quote
  crosses (:func:`cycle_steps`): what the engine's quote counts for its curve
  (``PoolGraph.quote_steps``, ``Opportunity.hop_steps``: a Whirlpool's or a Raydium CLMM
  pool's initialized ticks crossed, a DLMM pair's bins filled after the first and every
  18 empty bins walked past, an order book's maker orders reached) plus what its mints'
  token programs add (:func:`token_steps`: a Token-2022 surcharge). The margin covers
  the state moving a little between the decision and the landing; a hop whose quote
  crosses more than its venue's ``max_steps`` is priced at the venue's most, and so is a
  hop whose steps are not known (``steps`` None). A hop whose pool's program is not
  known (the in-process market's pools have none) requests the most any venue of its
  curve requests at those steps, plus
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
from feeds.venues import orca_whirlpool, raydium_clmm
from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT, TOKEN_2022

CU_BASE = 5_000  # the compute-budget instructions, a nonce advance, the tip transfer
CU_ATA = 30_000  # one CreateIdempotent of an associated token account (the ATA program)


# the steps a venue's swap adds for its mints' token programs, by the number of its two
# mints that are Token-2022's (each venue's COMPUTE_UNITS notes, measured on its binary):
# a Whirlpool's swap_v2 and a Raydium CLMM swap with such a mint a fixed surcharge, a
# CP-Swap or a DAMM v2 swap one step per side transferred through Token-2022; the others
# none (a DLMM pair's swap2 is within its base). Each as (fixed, per mint): ``fixed + per
# mint × n`` for n > 0 such mints, read at each call
def _token_rules() -> dict[str, tuple[int, int]]:
    return {
        "whirlpool": (orca_whirlpool.TOKEN_2022_STEPS, 0),
        "clmm": (raydium_clmm.TOKEN_2022_STEPS, 0),
        "cpmm": (0, 1),
        "damm_v2": (0, 1),
    }


# the pool programs a Token-2022 mint adds steps to (the rules' keys): a cycle of none of
# these, and of no pool whose program is not known, takes no Token-2022 step
TOKEN_STEP_KINDS: frozenset[str] = frozenset(_token_rules())


def token_steps(kind: str | None, programs: Sequence[str | None], curve: str = "") -> int:
    """The steps a hop of pool program ``kind`` takes for its two mints' token programs
    (``programs``: each mint's owner, None read as SPL Token's); a pool whose program is
    not known, the most a venue of its ``curve`` would take."""
    t22 = sum(p == TOKEN_2022 for p in programs)
    if not t22:
        return 0
    rules = _token_rules()

    def steps(k: str) -> int:
        fixed, per = rules[k]
        return fixed + per * t22

    if kind:
        return steps(kind) if kind in rules else 0
    same = [v.kind for v in venues.VENUES if v.ids.graph_kind == curve] or list(rules)
    return max((steps(k) for k in same if k in rules), default=0)


def cu_models() -> tuple[tuple[str, str, int, int, int, int, int, int], ...]:
    """Every venue's compute units as the engine's ``CyclePricer`` takes them: ``(kind,
    curve, base, per_step, max_steps, scale, t22_fixed, t22_per_mint)``, ``scale`` the
    margin as ``ComputeUnits.limit`` applies it (``round(margin × 10_000 + 10_000)``);
    the pricer's budget is :func:`cycle_budget`'s at :func:`cycle_steps` (read now: the
    venues' own figures)."""
    rules = _token_rules()
    out = []
    for v in venues.VENUES:
        cu = v.compute_units
        fixed, per = rules.get(v.kind, (0, 0))
        scale = round(cu.margin * 10_000 + 10_000)
        out.append(
            (v.kind, v.ids.graph_kind, cu.base, cu.per_step, cu.max_steps, scale, fixed, per)
        )
    return tuple(out)


def cycle_steps(
    kinds: Sequence[str | None],
    curves: Sequence[str],
    curve_steps: Sequence[int],
    programs: Sequence[str | None],
) -> tuple[int, ...]:
    """Each hop's steps in its venue's compute-unit model: what the engine's quote counted
    for its curve (``curve_steps``: ``Opportunity.hop_steps``, ``PoolGraph.quote_steps``)
    plus :func:`token_steps` of the hop's two mints (``programs``: the token program of
    each token of the path, ``len(kinds) + 1`` of them; hop ``i`` trades tokens ``i`` and
    ``i + 1``)."""
    if TOKEN_2022 not in programs:  # no Token-2022 mint on the path: no hop adds a step
        return tuple(int(curve_steps[i]) for i in range(len(kinds)))
    return tuple(
        int(curve_steps[i])
        + token_steps(k, programs[i : i + 2], curves[i] if i < len(curves) else "")
        for i, k in enumerate(kinds)
    )


def hop_limit(kind: str | None, curve: str = "", steps: int | None = None) -> int:
    """The units one hop requests: its venue's ``compute_units.limit(steps)`` (``kind``:
    the pool's program, as pools files name it; ``steps`` None: the most it can cross);
    a pool whose program is not known, the most a venue of its ``curve``
    (``Opportunity.kinds``) requests at ``steps``, else of any venue."""
    if kind:
        return venues.by_kind(kind).compute_units.limit(steps)
    same = [v.compute_units.limit(steps) for v in venues.VENUES if v.ids.graph_kind == curve]
    return max(same or [v.compute_units.limit(steps) for v in venues.VENUES])


@dataclass(frozen=True, slots=True)
class CuBudget:
    """The compute units of one transaction, part by part (the cycle detail shows them):
    ``hops`` each hop's limit, ``accounts`` token accounts created, ``override`` the
    configured limit that replaces the sum (``fees.cu_limit``); ``steps`` each hop's
    steps it was priced at (None: not known, its venue's most; empty: none given)."""

    hops: tuple[int, ...]
    accounts: int = 0
    base: int = CU_BASE
    per_account: int = CU_ATA
    override: int | None = None
    steps: tuple[int | None, ...] = ()

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
    used) and creating ``accounts`` token accounts; ``steps``: what each hop crosses
    (:func:`cycle_steps`; None, or a hop's None: its venue's maximum); ``override``:
    ``fees.cu_limit``."""
    each = tuple(
        steps[i] if steps is not None and i < len(steps) else None for i in range(len(kinds))
    )
    hops = tuple(
        hop_limit(k, curves[i] if i < len(curves) else "", each[i]) for i, k in enumerate(kinds)
    )
    return CuBudget(hops, accounts, override=override, steps=each)
