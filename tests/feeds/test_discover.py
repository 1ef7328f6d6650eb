"""Pool discovery (issue 17): ``feeds.discover`` and ``arbscope pools discover`` against
the simulator on loopback (real HTTP JSON-RPC): the pools found are exactly the world's
pools among the mints (the world's own list is the oracle), ranked by liquidity,
filtered by venue and liquidity, in answers kept small by ``dataSlice``; the file
written loads as a universe and a headless ``arbscope run --pools`` streams it; a node
that refuses ``getProgramAccounts`` gives one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine_rs
from feeds.clients.rpc import RpcClient
from feeds.discover import LAYOUTS, discover, render
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.venues import KINDS, VENUES
from feeds.wire.universe import load_universe, parse_universe
from tests.support.processes import cli_env, run_arbscope

WORLD = WorldConfig(seed=11, tokens=8, pools=32, trades_per_slot=4)
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0  # seconds per slot: the market holds still while a test reads it
SECRET = "Zq8RkT4mW2nX7pL1vB6cH3dJ"


def oracle(srv: SimServer, mints: list[str], kinds: tuple[str, ...] = KINDS) -> set[str]:
    """The world's own pools between two of ``mints``."""
    return {
        p.address for p in srv.world.pools if {p.mint_a, p.mint_b} <= set(mints) and p.kind in kinds
    }


def vault_amount(srv: SimServer, vault: str) -> int:
    return int.from_bytes(srv.world.accounts[vault].data[64:72], "little")


def test_mint_offsets_are_where_the_engine_decodes_them() -> None:
    """Each layout's memcmp offsets hold the mints the engine's decoder reads."""
    from feeds.sim.world import World

    w = World(WORLD)
    eng = engine_rs.backend()
    for v in VENUES:
        p = next(p for p in w.pools if p.kind == v.kind)
        acc = w.accounts[p.address]
        lay = LAYOUTS[v.kind]
        b58 = eng.b58encode
        assert b58(acc.data[lay.mint_a : lay.mint_a + 32]) == p.mint_a
        assert b58(acc.data[lay.mint_b : lay.mint_b + 32]) == p.mint_b
        if lay.data_size is not None:
            assert len(acc.data) == lay.data_size == v.ids.pool_account_size
        else:
            assert acc.data[:8] == lay.discriminator
        v.decode_pool(eng, acc.data, acc.owner)  # the account is a pool of the venue


async def test_discover_finds_exactly_the_worlds_pools_ranked_in_small_answers() -> None:
    async with SimServer(WORLD, FAST, slot_seconds=STILL) as srv:
        w = srv.world
        mints = w.mints[:4]
        want = oracle(srv, mints)
        assert want and len(want) < len(w.pools)  # the mints select
        async with RpcClient(srv.infos()[0].http_url) as rpc:
            d = await discover(rpc, mints)
            got = {p.address for p in d.pools}
            assert got == want and not d.unreadable
            by_addr = {p.address: p for p in w.pools}
            for p in d.pools:  # the vaults and mints are the world's
                q = by_addr[p.address]
                assert (p.kind, p.mint_a, p.mint_b) == (q.kind, q.mint_a, q.mint_b)
                assert p.amount_a == vault_amount(srv, q.vault_a)
                assert p.amount_b == vault_amount(srv, q.vault_b)
                assert p.decimals_a == w.decimals[q.mint_a]
                assert p.liquidity is not None and p.liquidity > 0
            liq = [p.liquidity or 0.0 for p in d.pools]
            assert liq == sorted(liq, reverse=True)
            # names from the registry: each mint's account and Metaplex metadata, as the
            # world serves them
            symbols = {t.mint: t.symbol for t in w.tokens}
            for m in mints:
                assert d.book.info(m).source == "chain"
                assert d.book.symbol(m) == symbols[m]
            # the world's first tokens are SOL, USDC, ...: liquidity in USD through USDC
            assert [symbols[m] for m in mints[:2]] == ["SOL", "USDC"]
            assert d.usd and d.unit == "$"
            # requests: one getProgramAccounts per venue and ordered pair, then 2 reads
            # and the registry's one
            served = srv.endpoints[0].served
            pairs = len(mints) * (len(mints) - 1)
            assert served["getProgramAccounts"][0] == len(VENUES) * pairs
            assert served["getMultipleAccounts"][0] == 3 == d.requests - len(VENUES) * pairs
            sliced = served["getProgramAccounts"][1]
            # the same queries with the data: what dataSlice saved
            full = 0
            for v in VENUES:
                before = served["getProgramAccounts"][1]
                lay = LAYOUTS[v.kind]
                await rpc.get_program_accounts(
                    v.program,
                    data_size=lay.data_size,
                    compress=False,
                    memcmp=[(0, lay.discriminator)] if lay.discriminator else [],
                )
                full += served["getProgramAccounts"][1] - before
            # every pool of the world once with its data, against 36 sliced answers
            assert sliced * 3 < full, (sliced, full)
            per_pool = (sliced - 200 * served["getProgramAccounts"][0]) / len(want)
            assert per_pool < 250, per_pool  # an address and an account's envelope


async def test_venue_and_min_liquidity_filter() -> None:
    async with SimServer(WORLD, FAST, slot_seconds=STILL) as srv:
        mints = srv.world.mints[:5]
        async with RpcClient(srv.infos()[0].http_url) as rpc:
            everything = await discover(rpc, mints)
            for kind in KINDS:
                d = await discover(rpc, mints, [kind])
                assert {p.address for p in d.pools} == oracle(srv, mints, (kind,))
            liq = sorted(p.liquidity or 0.0 for p in everything.pools)
            cut = liq[len(liq) // 2]
            d = await discover(rpc, mints, None, cut)
            assert {p.address for p in d.pools} == {
                p.address for p in everything.pools if (p.liquidity or 0.0) >= cut
            }
            assert d.dropped == len(everything.pools) - len(d.pools) > 0
        # the file: every pool once, as a universe, with a comment each
        text = render(everything, "http://127.0.0.1")
        u = parse_universe(text)
        assert u.pools == [(p.address, p.kind) for p in everything.pools]
        assert u.base_mints == mints
        assert text.count("# ") >= len(everything.pools) and " · fee " in text


@pytest.mark.slow
async def test_cli_writes_a_file_that_a_headless_run_streams(tmp_path: Path) -> None:
    async with SimServer(WORLD, FAST) as srv:
        info = srv.infos()[0]
        mints = srv.world.mints[:4]
        out = tmp_path / "pools.toml"
        url = f"{info.http_url}/?api-key={SECRET}"
        args = ["pools", "discover", "--rpc", url, "--out", str(out)]
        for m in mints:
            args += ["--mint", m]
        code, stdout, stderr = await run_arbscope(args, cli_env(tmp_path))
        assert code == 0, stderr
        assert SECRET not in stdout + stderr + out.read_text()
        u = load_universe(out)
        assert {a for a, _ in u.pools} == oracle(srv, mints)
        assert f"wrote {len(u.pools)} pools" in stdout
        code, _, stderr = await run_arbscope(args, cli_env(tmp_path))  # no silent overwrite
        assert code == 2 and "exists (--force to overwrite)" in stderr
        before = srv.endpoints[0].stats["notifications"]
        code, stdout, stderr = await run_arbscope(
            [
                "run",
                "--headless",
                "--duration",
                "4",
                "--no-record",
                "--no-metrics",
                "--ws",
                info.ws_url,
                "--rpc",
                info.http_url,
                "--pools",
                str(out),
            ],
            cli_env(tmp_path),
        )
        assert code == 0, stderr
        assert "Traceback" not in stderr
        # the session fetched the file's pools and the node streamed to it
        assert srv.endpoints[0].stats["notifications"] > before


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["refused", "symbol", "one-mint"])
async def test_cli_errors_are_one_clear_line(tmp_path: Path, bad: str) -> None:
    refuse = [
        EndpointProfile("a", latency_ms=1, jitter_ms=0, refuse_methods=("getProgramAccounts",))
    ]
    async with SimServer(WORLD, refuse, slot_seconds=STILL) as srv:
        url = f"{srv.infos()[0].http_url}/?api-key={SECRET}"
        mints = {
            "refused": srv.world.mints[:2],
            "symbol": ["SOL", "NOPE"],
            "one-mint": ["SOL", "sol"],
        }[bad]
        args = ["pools", "discover", "--rpc", url, "--out", str(tmp_path / "p.toml")]
        for m in mints:
            args += ["--mint", m]
        code, _, stderr = await run_arbscope(args, cli_env(tmp_path))
    assert code == 2 and "Traceback" not in stderr and SECRET not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    want = {
        "refused": "does not serve getProgramAccounts",
        "symbol": "unknown token 'NOPE'",
        "one-mint": "at least two different --mint",
    }[bad]
    assert want in stderr and "api-key=***" in stderr if bad == "refused" else want in stderr
    assert not (tmp_path / "p.toml").exists()


async def test_token2022_mints_are_named_fees_in_comments_refusals_commented_out() -> None:
    """The default market's Token-2022 mints: a pool of a fee mint says the fee in its
    comment; a pool of the hooked mint is written commented out with the extension named
    (a run does not track it); the rest of the file still loads."""
    async with SimServer(WorldConfig(seed=63, trades_per_slot=0), FAST, slot_seconds=STILL) as srv:
        w = srv.world
        roles = {r: m for m, r in w.token2022.items()}
        mints = [w.mints[0], w.mints[1], roles["fee"], roles["hook"]]
        async with RpcClient(srv.infos()[0].http_url) as rpc:
            d = await discover(rpc, mints)
        assert {p.address for p in d.pools} == oracle(srv, mints)
        sym = {t.mint: t.symbol for t in w.tokens}
        text = render(d, "sim")
        hooked = [p for p in d.pools if roles["hook"] in (p.mint_a, p.mint_b)]
        fee = [p for p in d.pools if roles["fee"] in (p.mint_a, p.mint_b)]
        assert hooked and fee
        for p in hooked:
            assert p.refused == f"{roles['hook']} has TransferHook"
            assert f"# refused: {sym[roles['hook']]} has TransferHook" in text
            assert f'# address = "{p.address}"' in text
        for p in fee:
            assert not p.refused
            assert f"{sym[roles['fee']]} transfer fee 1% from epoch {w.epoch()}, 0.5% before" in (
                text
            )
            assert f'\naddress = "{p.address}"' in text
        u = parse_universe(text)
        assert {a for a, _ in u.pools} == {p.address for p in d.pools} - {p.address for p in hooked}
