"""The venues' ids, in one place on the Python side: program ids, the kind pools files
use, the screen's label, the engine's curve and the pool account's size.

Every venue module (and through them the registry, the clients and the simulator) reads
its ids from :data:`TABLE` and from nowhere else.

INTEGRATOR: switch this table to the engine's venue registry,
``engine_rs.backend().venues()`` (records with name, kind, label, graph kind, program
ids, pool account size), once it exists: :func:`ids` is the one function to change, and
``tests/feeds/test_venues.py`` checks the values against the engine's decoders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VenueIds:
    """What identifies one venue (one DEX program).

    ``name``: the engine's venue name (and the module's); ``kind``: what pool-universe
    files call it; ``label``: the screen's two-letter tag; ``graph_kind``: the engine's
    curve its pools are priced with (``cpmm`` | ``clmm``); ``program_ids``: the programs
    whose accounts it reads, the first the one swaps are built for, logs subscribed to
    and the simulator runs; ``pool_account_size``: the pool account's struct, in bytes.
    """

    name: str
    kind: str
    label: str
    graph_kind: str
    program_ids: tuple[str, ...]
    pool_account_size: int

    @property
    def program(self) -> str:
        """The program swaps go to (the first of ``program_ids``)."""
        return self.program_ids[0]


TABLE: tuple[VenueIds, ...] = (
    VenueIds("raydium_amm_v4", "amm_v4", "v4", "cpmm",
             ("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8",), 752),  # spec §1.2
    VenueIds("raydium_cpmm", "cpmm", "cp", "cpmm",
             ("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C",), 637),  # spec §1.4
    VenueIds("orca_whirlpool", "whirlpool", "wp", "clmm",
             ("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",  # spec §2.2
              "iwhrLHdsgrvmnwU8GF2FSmyabSMjfHwFGJAX2ufJ3ZN"), 653),  # the immutable deployment
)  # fmt: skip


def ids(name: str) -> VenueIds:
    """The ids of the venue called ``name`` (KeyError for a name no venue has)."""
    for v in TABLE:
        if v.name == name:
            return v
    raise KeyError(f"no venue is called {name!r}")
