"""The configuration: every key has a default and an environment override; errors name
the key and the file line; flags win over the environment, which wins over the file;
URLs never appear unredacted in a message."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from arbscope import cli, sources
from arbscope.config import (
    KEYS,
    Config,
    ConfigError,
    apply_env,
    check,
    key_lines,
    load,
    parse,
    template,
)

SECRET = "sEcReTkEy9876543210abcd"


def test_the_template_lists_every_key_and_reads_back_as_the_defaults() -> None:
    text = template()
    cfg = parse(text, "init.toml")
    assert cfg.values == Config().values
    for k in KEYS:  # each key is documented with its environment variable
        assert f"env: {k.env}" in text
        assert f"\n{k.name} = " in text or f"\n# {k.name} = " in text


def test_every_key_has_an_environment_override() -> None:
    env = {}
    for k in KEYS:
        v = {
            "int": "7",
            "float": "7.5",
            "bool": "true",
            "str": "h",
            "path": "/tmp/x",
            "choice": k.choices[-1] if k.choices else "",
            "url": f"{k.schemes[0]}://h.example",
            "urls": f"{k.schemes[0]}://a.example,{k.schemes[0]}://b.example",
            "mints": "So11111111111111111111111111111111111111112",
        }[k.kind]
        if k.kind in ("int", "float"):  # 7 (7.5), moved into the key's range
            x = min(max(7.5 if k.kind == "float" else 7, k.lo or 0), k.hi or 1e18)
            v = str(int(x) if k.kind == "int" else x)
        env[k.env] = v
    cfg = apply_env(Config(), env)
    assert all(cfg.sources[k.dotted] == f"env {k.env}" for k in KEYS)
    assert cfg["feeds.ws"] == ["ws://a.example", "ws://b.example"]
    assert cfg["journal.record"] is True and cfg["policy.min_profit"] == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[policy]\nmin_profit = 1\nmin_persistnce = 3\n",
            'cfg.toml:3: unknown key "policy.min_persistnce" (did you mean "policy.min_persistence"?)',
        ),
        (
            "# x\n[polcy]\nmin_profit = 5\n",
            'cfg.toml:2: unknown section "polcy" (did you mean "policy"?)',
        ),
        ('theme = "dark"\n', 'cfg.toml:1: unknown key "theme" (did you mean "ui.theme"?)'),
        (
            '[policy]\n\n\nmin_profit = "lots"\n',
            "cfg.toml:4: policy.min_profit: expected an integer >= 0, got 'lots'",
        ),
        (
            "[live]\nmax_slippage_bps = 5000\n",
            "cfg.toml:2: live.max_slippage_bps: expected a value within 1..1000, got 5000",
        ),
        (
            '[ui]\ntheme = "neon"\n',
            "cfg.toml:2: ui.theme: expected one of dark, light, contrast, got 'neon'",
        ),
        ("[journal]\nrecord = 1\n", "cfg.toml:2: journal.record: expected true or false, got 1"),
        (
            '[feeds]\nws = ["https://x.example"]\n',
            "cfg.toml:2: feeds.ws: expected a ws:// or wss:// URL, got 'https://x.example'",
        ),
        (
            "policy.min_profit = -1\n",
            "cfg.toml:1: policy.min_profit: expected a value >= 0, got -1",
        ),
        (
            '[market]\nbase_mints = ["not-an-address"]\n',
            "cfg.toml:2: market.base_mints: 'not-an-address' is not an address "
            "(14 characters, not 32 to 44)",
        ),
    ],
)
def test_errors_name_the_key_and_its_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(text, "cfg.toml")
    assert e.value.problems == [expected]


def test_every_problem_is_reported_at_once_and_toml_errors_say_where() -> None:
    with pytest.raises(ConfigError) as e:
        parse("[policy]\nmin_profit = -3\nmax_hops = 3\n[ui]\ntheme = 1\n", "c.toml")
    assert [p.split(":")[1] for p in e.value.problems] == ["2", "3", "5"]
    with pytest.raises(ConfigError) as e:
        parse("[policy]\nmin_profit = = 3\n", "c.toml")
    assert e.value.problems[0].startswith("c.toml: not valid TOML") and "line 2" in str(e.value)


def test_key_lines_follow_tables_dotted_keys_and_multiline_values() -> None:
    text = '[feeds]\nws = [\n  "wss://a",\n]\nrpc = []\n[live.x]\ny = 1\npolicy.min_profit = 2\n'
    lines = key_lines(text)
    assert lines[("feeds", "ws")] == 2 and lines[("feeds", "rpc")] == 5
    assert lines[("live", "x", "y")] == 7 and lines[("live", "x", "policy", "min_profit")] == 8


def test_environment_errors_name_the_variable_and_unknown_ones_are_refused() -> None:
    with pytest.raises(ConfigError) as e:
        apply_env(
            Config(),
            {
                "ARBSCOPE_LIVE_MAX_TRADE": "1e9",
                "ARBSCOPE_POLCY_MIN_PROFIT": "3",
                "ARBSCOPE_FEEDS_RPC": f"wss://x.example/?api-key={SECRET}",
            },
        )
    text = str(e.value)
    assert "ARBSCOPE_LIVE_MAX_TRADE: expected an integer >= 1, got '1e9'" in text
    assert (
        'ARBSCOPE_POLCY_MIN_PROFIT: unknown setting (did you mean "ARBSCOPE_POLICY_MIN_PROFIT"?)'
        in text
    )
    assert "ARBSCOPE_FEEDS_RPC: expected a http:// or https:// URL" in text
    assert SECRET not in text and "api-key=***" in text
    cfg = apply_env(Config(), {"ARBSCOPE_KEYPAIR": "/k.json", "ARBSCOPE_DB": "/j.sqlite"})
    assert (cfg["live.keypair"], cfg["journal.path"]) == ("/k.json", "/j.sqlite")


def test_rules_between_keys() -> None:
    cfg = Config()
    cfg.set("feeds.ws", ["wss://a.example", "wss://b.example"], "t")
    cfg.set("feeds.rpc", ["https://a.example"], "t")
    with pytest.raises(ConfigError) as e:
        check(cfg)
    assert any("pair them in order" in p for p in e.value.problems)
    assert any("market.pools_file" in p for p in e.value.problems)
    cfg = Config()
    cfg.set("live.max_trade", 10, "cfg.toml:3")
    cfg.set("live.max_day", 5, "cfg.toml:4")
    with pytest.raises(ConfigError, match=r"cfg.toml:3: live.max_trade \(10\) is above"):
        check(cfg)


def test_tip_escalation_needs_block_engines_and_a_window_wider_than_its_step() -> None:
    cfg = Config()
    cfg.set("fees.tip_escalation", True, "cfg.toml:7")
    cfg.set("fees.tip_escalation_slots", 20, "cfg.toml:8")
    cfg.set("fees.tip_escalation_window", 20, "cfg.toml:9")
    with pytest.raises(ConfigError) as e:
        check(cfg)
    assert e.value.problems == [
        "cfg.toml:8: fees.tip_escalation_slots (20) must be under fees.tip_escalation_window "
        "(20): no second version would ever be sent",
        "cfg.toml:7: fees.tip_escalation needs live.jito (each version's tip goes to the "
        "block engines)",
    ]
    with pytest.raises(
        ConfigError,
        match=r"cfg.toml:2: fees.tip_escalation_step: expected a value within 1.01..10, got 1",
    ):
        parse("[fees]\ntip_escalation_step = 1.0\n", "cfg.toml")
    with pytest.raises(ConfigError, match=r"fees.tip_escalation_window: expected"):
        parse("[fees]\ntip_escalation_window = 151\n", "cfg.toml")
    cfg = Config()
    cfg.set("fees.tip_escalation", True, "t")
    cfg.set("live.jito", ["https://ny.mainnet.block-engine.jito.wtf"], "t")
    assert check(cfg) is cfg  # off by default; on with an engine and the defaults: fine


def _run_args(argv: list[str]) -> argparse.Namespace:
    return cli.parser().parse_args(["run", *argv])


def test_flags_override_the_environment_which_overrides_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[policy]\nmin_profit = 10\nmin_persistence = 4\n[sim]\nseed = 3\n")
    monkeypatch.setenv("ARBSCOPE_POLICY_MIN_PROFIT", "20")
    cfg = cli.resolve_config(_run_args(["--config", str(f), "--seed", "9"]))
    assert cfg["policy.min_profit"] == 20 and cfg.sources["policy.min_profit"].startswith("env")
    assert cfg["policy.min_persistence"] == 4 and cfg.sources["policy.min_persistence"] == f"{f}:3"
    assert cfg["sim.seed"] == 9 and cfg.sources["sim.seed"] == "flag --seed"
    with pytest.raises(ConfigError, match=r"--max-open: expected a value within 1\.\.64, got 0"):
        cli.resolve_config(_run_args(["--config", str(f), "--max-open", "0"]))


def test_the_rivals_are_a_preset_and_knobs_that_reach_the_simulators_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sim.rivals`` names one of the simulator's presets (the two lists are one);
    ``--rivals`` and ``--competitors`` set it and its count, the knobs come from the file
    or the environment, and the embedded simulator's world is built with them."""
    from arbscope.config import RIVAL_PRESETS
    from feeds.sim.competition import PRESETS

    assert RIVAL_PRESETS == tuple(PRESETS) == cli.options.RIVAL_PRESETS
    cfg = cli.resolve_config(_run_args([]))
    assert cfg["sim.rivals"] == "mainnet" and cfg["sim.competitors"] is None
    f = tmp_path / "c.toml"
    f.write_text("[sim]\nrival_tip = 4000\nrival_gap_bps = 12.5\n")
    monkeypatch.setenv("ARBSCOPE_SIM_RIVAL_REACTION", "2")
    cfg = cli.resolve_config(
        _run_args(["--config", str(f), "--rivals", "strong", "--competitors", "2"])
    )
    assert cfg["sim.rivals"] == "strong" and cfg.sources["sim.rivals"] == "flag --rivals"
    assert (cfg["sim.competitors"], cfg["sim.rival_reaction"]) == (2, 2)
    assert (cfg["sim.rival_tip"], cfg["sim.rival_gap_bps"]) == (4000, 12.5)
    settings = sources.SimSettings(
        rivals=cfg["sim.rivals"],
        competitors=cfg["sim.competitors"],
        rival_reaction=cfg["sim.rival_reaction"],
        rival_tip=cfg["sim.rival_tip"],
        rival_gap_bps=cfg["sim.rival_gap_bps"],
    )
    w = settings.world_config(7)
    assert (w.rivals, w.competitors, w.rival_reaction, w.rival_tip, w.rival_gap_bps) == (
        "strong",
        2,
        2,
        4000.0,
        12.5,
    )
    assert sources.SimSettings(rivals="weak").world_config(7).competitors == len(PRESETS["weak"])
    assert sources.SimSettings().world_config(7).competitors == 0  # no preset named: none
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["run", "--rivals", "brutal"])
    # the status bar and the session's start line say them (the source's label)
    from arbscope.sources.embedded import SimFeeds

    opts = sources.FeedOptions()
    feeds = SimFeeds(sources.SimSettings(endpoints=1, rivals="strong", rival_tip=9_000), 7, opts)
    assert feeds.label == "sim ×1 (loopback PubSub), rivals strong, tip 9,000"
    assert feeds.config()["sim"]["rivals"] == "strong, tip 9,000"
    none = SimFeeds(sources.SimSettings(endpoints=1, rivals="none"), 7, opts)
    assert none.label.endswith("rivals none")


def test_the_pubsub_transport_is_chosen_by_key_or_flag_and_reaches_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``feeds.transport`` (default picows) and ``--transport`` set the workers' client;
    picows falls back to websockets where it cannot be imported."""
    from feeds.clients import transport

    f = tmp_path / "c.toml"
    f.write_text('[feeds]\ntransport = "websockets"\n')
    assert cli.resolve_config(_run_args([]))["feeds.transport"] == "picows"
    cfg = cli.resolve_config(_run_args(["--config", str(f)]))
    assert cli.build_session(cfg).feeds.options.worker_config.transport == "websockets"
    cfg = cli.resolve_config(_run_args(["--config", str(f), "--transport", "picows"]))
    assert cfg.sources["feeds.transport"] == "flag --transport"
    assert cli.build_session(cfg).feeds.options.worker_config.transport == "picows"
    with pytest.raises(ConfigError, match=r"feeds\.transport: expected one of picows, websockets"):
        parse('[feeds]\ntransport = "aiohttp"\n', "c.toml")
    monkeypatch.setattr(transport, "default_transport", lambda: "websockets")
    assert cli.build_session(cfg).feeds.options.worker_config.transport == "websockets"


def _workers(cfg: Any) -> Any:
    """The feed workers' config of the session ``cfg`` builds."""
    return cli.build_session(cfg).feeds.options.worker_config


def test_the_grpc_client_is_chosen_by_key_or_flag_and_reaches_the_workers(
    tmp_path: Path,
) -> None:
    """``feeds.grpc_client`` (default native) and ``--grpc-client`` set the gRPC
    workers' receiver."""
    f = tmp_path / "c.toml"
    f.write_text('[feeds]\ngrpc_client = "aio"\n')
    cfg = cli.resolve_config(_run_args([]))
    assert cfg["feeds.grpc_client"] == "native"
    assert _workers(cfg).grpc_client == "native"
    cfg = cli.resolve_config(_run_args(["--config", str(f)]))
    assert _workers(cfg).grpc_client == "aio"
    cfg = cli.resolve_config(_run_args(["--config", str(f), "--grpc-client", "native"]))
    assert cfg.sources["feeds.grpc_client"] == "flag --grpc-client"
    assert _workers(cfg).grpc_client == "native"
    with pytest.raises(ConfigError, match=r"feeds\.grpc_client: expected one of native, aio"):
        parse('[feeds]\ngrpc_client = "tonic"\n', "c.toml")


def test_a_named_config_file_must_exist_the_default_one_need_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "missing.toml", {})
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load(None, {}).path is None


def test_init_writes_an_owner_only_file_once_and_the_cli_reports_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "conf" / "arbscope.toml"
    assert cli.main(["init", str(path)]) == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load(path, {}).values == Config().values
    assert cli.main(["init", str(path)]) == 2 and "exists" in capsys.readouterr().err
    path.write_text(path.read_text().replace("min_profit = 1", "min_profit = -5"))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "min_profit = -5" in t)
    assert cli.main(["run", "--config", str(path), "--headless", "--duration", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: policy.min_profit: expected a value >= 0, got -5" in err


@pytest.mark.slow
async def test_a_configured_policy_is_journaled_and_the_replay_decides_the_same(
    tmp_path: Path,
) -> None:
    from arbscope.replay import ReplaySession, load_info
    from arbscope.session import FeeSettings, RecordSettings
    from engine_rs.records import ScorePolicy

    db = tmp_path / "j.sqlite"
    policy = ScorePolicy(
        min_profit=250_000, min_profit_bps=3.5, min_persistence=3, max_staleness_slots=40
    )
    fees = FeeSettings(cu_limit=450_000, percentile=90.0, tip_lamports=20_000)
    s = sources.session(
        sources.Watch(seed=9),
        sources.Evaluation(shadow=False, policy=policy, fees=fees),
        sim=sources.SimSettings(endpoints=1),
        record=RecordSettings(db, batch_s=0.1),
    )
    await s.run_for(3.0, tick_s=0.1)
    assert s.digest and s.ev.broker is not None and s.ev.broker.tip_lamports == 20_000
    info = await load_info(db, s.session_id)
    assert (
        info.config["policy"]["min_profit"] == 250_000 and info.config["fees"]["percentile"] == 90
    )
    r = ReplaySession(db, info, shadow=False)
    assert r.policy == policy and r.fee_settings == fees
    await r.start()
    try:
        digest = await r.play(float("inf"))
    finally:
        await r.stop()
    assert digest == s.digest


def test_the_rpc_timeout_is_set_by_key_or_flag_and_reaches_the_pool(tmp_path: Path) -> None:
    """``feeds.rpc_timeout_s`` (default 5 s) and ``--rpc-timeout`` set every HTTP
    request's timeout (the snapshot's retries grow from it); out of range is refused."""
    f = tmp_path / "c.toml"
    f.write_text("[feeds]\nrpc_timeout_s = 12.5\n")
    cfg = cli.resolve_config(_run_args([]))
    assert cfg["feeds.rpc_timeout_s"] == 5.0
    assert cli.build_session(cfg).feeds.options.rpc_timeout_s == 5.0
    cfg = cli.resolve_config(_run_args(["--config", str(f)]))
    assert cli.build_session(cfg).feeds.options.rpc_timeout_s == 12.5
    cfg = cli.resolve_config(_run_args(["--config", str(f), "--rpc-timeout", "30"]))
    assert cfg.sources["feeds.rpc_timeout_s"] == "flag --rpc-timeout"
    assert cli.build_session(cfg).feeds.options.rpc_timeout_s == 30.0
    with pytest.raises(ConfigError, match=r"feeds\.rpc_timeout_s"):
        parse("[feeds]\nrpc_timeout_s = 0\n", "c.toml")
