"""Bad input on the command line: one line naming the problem, exit status 2 (1 for what
only the run could find out), never a traceback, nothing created or lost on the way."""

from __future__ import annotations

import asyncio
import stat
import sys
from pathlib import Path

import pytest

from arbscope import cli
from arbscope.config import ConfigError, parse
from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import WorldConfig
from feeds.wire.universe import UniverseError, address_problem, parse_universe
from tests.support.processes import headless_env, start_arbscope

# base58 of 33 bytes: 44 characters of the alphabet, one byte too many for a key
ADDR_33 = "JJEfe6DcPM2ziB2vfUWDV6aHVerXRGkv3TcyvJUNGHZz"
SOL = "So11111111111111111111111111111111111111112"
QUICK = WorldConfig(seed=4, tokens=8, pools=12, trades_per_slot=5, slot_seconds=0.05)


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    return headless_env(tmp, PYTHONWARNINGS="ignore", **extra)


async def _arbscope(args: list[str], env: dict[str, str], timeout: float = 120) -> tuple[int, str]:
    """Run ``python -m arbscope ARGS``; its exit status and stderr."""
    p = await start_arbscope(args, env)
    try:
        _, err = await asyncio.wait_for(p.communicate(), timeout)
    except TimeoutError:
        p.kill()
        await p.wait()
        raise AssertionError(f"arbscope {' '.join(args)} still running after {timeout} s") from None
    assert p.returncode is not None
    return p.returncode, err.decode()


def _one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "80000"], "--port 80000: ports are 1..65535"),
        (["--port", "-1"], "--port -1: ports are 1..65535"),
        (["--port", "65534", "--endpoints", "3"], "ports 65534..65536, past 65535"),
    ],
)
def test_sim_refuses_a_port_out_of_range(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sim", *argv]) == 2
    assert needle in _one_line(capsys.readouterr().err)


@pytest.mark.slow
async def test_sim_refuses_a_fund_key_that_is_not_an_address(tmp_path: Path) -> None:
    # before: the simulator started, said so on stderr, and served on (exit status 0 at ^C)
    rc, err = await _arbscope(["sim", "--accept-tx", "--fund", ADDR_33], _env(tmp_path), 60)
    assert rc == 2
    assert "--fund" in _one_line(err) and "decodes to 33 bytes, not 32" in err


async def test_an_unknown_engine_is_refused_naming_the_accepted_ones(tmp_path: Path) -> None:
    env = _env(tmp_path, ARBSCOPE_ENGINE="cobol")
    rc, err = await _arbscope(
        ["run", "--headless", "--duration", "0.5", "--no-metrics", "--no-record"], env
    )
    assert rc == 2
    line = _one_line(err)
    assert "ARBSCOPE_ENGINE='cobol'" in line and "rust or python" in line
    rc, err = await _arbscope(["sessions"], env)  # every command, not only run
    assert rc == 2 and "ARBSCOPE_ENGINE" in _one_line(err)


def test_keygen_creates_no_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "dir" / "k.json"
    assert cli.main(["keygen", str(target)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"directory {target.parent} does not exist; create it first" in line
    assert not (tmp_path / "no").exists()
    target.parent.mkdir(parents=True)  # as ssh-keygen: it works once the directory is there
    assert cli.main(["keygen", str(target)]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_33_byte_address_is_not_an_address() -> None:
    assert address_problem(SOL) == "" and address_problem("1" * 32) == ""
    assert address_problem(ADDR_33) == "decodes to 33 bytes, not 32"
    assert "character '0'" in address_problem("0" + SOL[1:])
    with pytest.raises(
        UniverseError, match=r"pool #1\.address: .* \(decodes to 33 bytes, not 32\)"
    ):
        parse_universe(f'[[pool]]\naddress = "{ADDR_33}"\nkind = "cpmm"\n', "pools.toml")
    with pytest.raises(UniverseError, match=r"base_mints\[0\]: .* \(decodes to 33 bytes"):
        parse_universe(f'base_mints = ["{ADDR_33}"]\n[[pool]]\naddress = "{SOL}"\nkind = "cpmm"\n')
    with pytest.raises(
        ConfigError, match=r"cfg.toml:2: market.base_mints: .* \(decodes to 33 bytes, not 32\)"
    ):
        parse(f'[market]\nbase_mints = ["{ADDR_33}"]\n', "cfg.toml")


async def _headless_on(server: SimServer, pools: Path, tmp: Path) -> tuple[int, str]:
    i = server.infos()[0]
    return await _arbscope(
        [
            "run",
            "--headless",
            "--duration",
            "4",
            "--no-metrics",
            "--no-record",
            "--ws",
            i.ws_url,
            "--rpc",
            i.http_url,
            "--pools",
            str(pools),
        ],
        _env(tmp),
    )


@pytest.mark.slow
async def test_a_pools_file_without_base_mints_is_refused(tmp_path: Path) -> None:
    async with SimServer(QUICK, default_profiles(1), slot_seconds=0.05) as server:
        addr, kind = server.world.universe()[0]
        pools = tmp_path / "pools.toml"
        pools.write_text(f'[[pool]]\naddress = "{addr}"\nkind = "{kind}"\n')
        rc, err = await _headless_on(server, pools, tmp_path)
    # before: it watched the pool for the whole run, found nothing, and exited 0
    assert rc == 2 and "Traceback" not in err
    assert f"{pools} has no base_mints" in err and "nothing could be found" in err


@pytest.mark.slow
async def test_a_universe_whose_pools_are_all_missing_says_so_and_fails(tmp_path: Path) -> None:
    async with SimServer(QUICK, default_profiles(1), slot_seconds=0.05) as server:
        pools = tmp_path / "pools.toml"
        missing = "\n".join(f'[[pool]]\naddress = "{"1" * 31}{c}"\nkind = "cpmm"\n' for c in "23")
        pools.write_text(f'base_mints = ["{server.world.bases[0]}"]\n{missing}')
        rc, err = await _headless_on(server, pools, tmp_path)
    assert rc == 1 and "Traceback" not in err
    assert "arbscope: nothing to find: none of the 2 pools of the universe is on" in err
    assert "(2 not found, 0 rejected)" in err


def test_sim_faults_are_read_and_checked() -> None:
    """``arbscope sim --fault N:KEY=VALUE``: endpoint N misbehaves as told; a bad spec is
    one line naming what is wrong (exit 2)."""
    from arbscope.cli.simulator import faulty_profiles as _faulty_profiles
    from feeds.sim.server import default_profiles

    base = default_profiles(3)
    out = _faulty_profiles(base, ["2:future_after=30,repoint_rate=0.5", "0:silent=true"])
    assert (out[2].future_after, out[2].repoint_rate, out[0].silent) == (30, 0.5, True)
    assert out[1] == base[1] and base[2].future_after is None
    for bad, why in [
        ("3:lag_slots=1", "3 endpoints"),
        ("x", "expected N:KEY"),
        ("1:name=x", "not one of"),
        ("1:drop_rate=lots", "not a float"),
        ("1:silent=maybe", "not a bool"),
    ]:
        with pytest.raises(ValueError, match=why):
            _faulty_profiles(base, [bad])
    assert cli.main(["sim", "--fault", "9:lag_slots=1"]) == 2
    # a provider's limits: a rate with its answer, a subscription cap with its answer
    out = _faulty_profiles(
        base,
        ["0:rate_limit_rps=5,rate_limit_answer=plain", "1:max_subscriptions=20,cap_answer=close"],
    )
    assert (out[0].rate_limit_rps, out[0].rate_limit_answer) == (5, "plain")
    assert (out[1].max_subscriptions, out[1].cap_answer) == (20, "close")
    for bad, why in [
        ("0:rate_limit_answer=polite", "not one of retry-after, plain, jsonrpc"),
        ("1:cap_answer=shrug", "not one of error, close"),
        ("1:max_subscriptions=many", "not a whole number"),
    ]:
        with pytest.raises(ValueError, match=why):
            _faulty_profiles(base, [bad])


@pytest.mark.slow
def test_sim_writes_its_pools_file(tmp_path: Path) -> None:
    """``--pools-out`` gives the pools file a separate ``arbscope run`` needs."""
    import subprocess

    from feeds.sim.world import World, WorldConfig
    from feeds.wire.universe import load_universe

    out = tmp_path / "pools.toml"
    sim = ["sim", "--seed", "4", "--endpoints", "1", "--pools-out", str(out)]
    p = subprocess.Popen(
        [sys.executable, "-m", "arbscope", *sim],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None and p.stdout.readline().startswith("ws://")
    finally:
        p.terminate()
        p.wait(60)
    u = load_universe(out)
    w = World(WorldConfig(seed=4))
    assert u.pools == w.universe() and u.base_mints == list(w.bases)


@pytest.mark.slow
def test_the_standalone_simulator_serves_yellowstone_grpc_with_grpc() -> None:
    """``arbscope sim --grpc``: after each endpoint's ws:// and http:// URLs, its grpc://
    one, where a Yellowstone client subscribed to slots gets them."""
    import asyncio
    import subprocess

    import grpc

    from feeds.clients.yellowstone import subscribe_request, target
    from feeds.wire.geyser import geyser_pb2 as pb

    p = subprocess.Popen(
        [sys.executable, "-m", "arbscope", "sim", "--endpoints", "2", "--grpc", "--slot-ms", "50"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None
        lines = [p.stdout.readline().strip() for _ in range(6)]
        schemes = [ln.split("://")[0] for ln in lines]
        assert schemes == ["ws", "http", "grpc", "ws", "http", "grpc"], lines

        async def first_slot(url: str) -> int:
            req = subscribe_request([], "processed")
            req.slots["s"].filter_by_commitment = True
            async with grpc.aio.insecure_channel(target(url)[0]) as ch:
                call = ch.stream_stream(
                    "/geyser.Geyser/Subscribe",
                    request_serializer=pb.SubscribeRequest.SerializeToString,
                    response_deserializer=pb.SubscribeUpdate.FromString,
                )(iter([req]))
                async for up in call:
                    if up.WhichOneof("update_oneof") == "slot":
                        return int(up.slot.slot)
            raise AssertionError("the stream ended without a slot")

        assert asyncio.run(asyncio.wait_for(first_slot(lines[2]), 60)) > 0
    finally:
        p.terminate()
        p.wait(60)
