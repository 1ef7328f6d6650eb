"""A configuration turned into a session (``build_session``): the one place that does it."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..fleet import FleetSettings
    from ..session import FeedSession


def pubsub_transport(wanted: str) -> str:
    """The PubSub transport to use for ``feeds.transport``: picows falls back to websockets,
    said in the log, where it cannot be imported (an install without its wheel)."""
    from feeds.clients.transport import default_transport

    if wanted == "picows" and default_transport() != "picows":
        logging.getLogger(__name__).warning(
            "feeds.transport: picows cannot be imported; PubSub runs on websockets"
        )
        return "websockets"
    return wanted


def build_session(cfg: Any, fleet: FleetSettings | None = None) -> FeedSession:
    """The session a configuration describes (ConfigError for a bad pool file);
    ``fleet``: its NATS side, if any. The feeds are chosen by ``arbscope.sources``: the
    configured endpoints, else the embedded simulator (the only branch that loads it),
    and the NATS regions."""
    from engine_rs.records import ScorePolicy
    from feeds.clients.pool import Endpoint
    from feeds.clients.pubsub import WorkerConfig
    from feeds.clients.reconcile import ReconcileSettings
    from feeds.propamm import load_programs
    from feeds.propamm import programs as prop_programs
    from feeds.wire.universe import UniverseError, load_universe

    from .. import sources
    from ..config import ConfigError
    from ..execution.live import LiveConfig
    from ..health import Thresholds
    from ..metrics import MetricsSettings
    from ..rivals import load_labels
    from ..session import Evaluation, FeeSettings, RecordSettings, Watch

    record = (
        RecordSettings(
            cfg["journal.path"],
            cfg["journal.batch_ms"] / 1000.0,
            max_pending_bytes=int(cfg["journal.queue_mb"] * 2**20),
        )
        if cfg["journal.record"]
        else None
    )
    policy = ScorePolicy(
        min_profit=cfg["policy.min_profit"],
        min_profit_bps=cfg["policy.min_profit_bps"],
        min_persistence=cfg["policy.min_persistence"],
        max_staleness_slots=cfg["policy.max_staleness_slots"],
    )
    fees = FeeSettings(cfg["fees.cu_limit"], cfg["fees.percentile"], cfg["fees.tip_lamports"])
    thresholds = Thresholds(
        missed=cfg["metrics.missed_max_pct"],
        unknown=cfg["metrics.unknown_max_pct"],
        implausible=cfg["metrics.implausible_max"],
        older=cfg["metrics.older_max_pct"],
        repaired=cfg["metrics.repaired_max_pct"],
    )
    metrics = (
        MetricsSettings(
            cfg["metrics.host"], cfg["metrics.port"], cfg["metrics.stall_s"], thresholds
        )
        if cfg["metrics.enabled"]
        else None
    )
    ws, rpc, grpc_urls = cfg["feeds.ws"], cfg["feeds.rpc"], cfg["feeds.grpc"]
    ca_file = cfg["feeds.ca_file"]
    if ca_file:
        from feeds.clients.tls import TlsSetupError, client_context

        try:  # a CA file that cannot be used is a message now, not a failure per connection
            client_context(ca_file)
        except TlsSetupError as exc:
            raise ConfigError([f"feeds.ca_file: {exc}"]) from None
    max_frame = int(cfg["feeds.max_frame_mb"] * 2**20)
    transport = pubsub_transport(cfg["feeds.transport"])
    if cfg["fees.tip_percentile"] not in (25, 50, 75, 95, 99):
        raise ConfigError(
            [
                f"fees.tip_percentile: expected 25, 50, 75, 95 or 99 (the tip "
                f"floor's), got {cfg['fees.tip_percentile']}"
            ]
        )
    live = None
    if cfg["live.keypair"] or cfg["sim.accept_tx"]:
        live = LiveConfig(
            keypair=cfg["live.keypair"],
            rpc=cfg["live.send_rpc"] or (rpc[0] if rpc else None),
            ws=cfg["live.send_ws"] or (ws[0] if ws else None),
            jito=tuple(cfg["live.jito"]),
            tip_lamports=cfg["fees.tip_lamports"],
            tip_policy=cfg["fees.tip_policy"],
            tip_percentile=cfg["fees.tip_percentile"],
            tip_max=cfg["fees.tip_max"],
            tip_escalation=cfg["fees.tip_escalation"],
            tip_step=cfg["fees.tip_escalation_step"],
            tip_every_slots=cfg["fees.tip_escalation_slots"],
            tip_window_slots=cfg["fees.tip_escalation_window"],
            tables_budget_lamports=cfg["live.tables_budget_lamports"],
            nonces_budget_lamports=cfg["live.nonces_budget_lamports"],
            jito_rps=cfg["live.jito_rps"],
            bundle_check_s=cfg["live.bundle_check_s"],
            max_trade=cfg["live.max_trade"],
            max_day=cfg["live.max_day"],
            max_open=cfg["live.max_open"],
            max_slippage_bps=cfg["live.max_slippage_bps"],
            simulate=cfg["live.simulate"],
            cu_limit=cfg["live.cu_limit"],
            ca_file=ca_file,
            rpc_timeout_s=cfg["feeds.rpc_timeout_s"],
        )
    evaluation = Evaluation(policy=policy, fees=fees, sweep_s=cfg["market.sweep_s"])
    options = sources.FeedOptions(
        worker_config=WorkerConfig(
            stale_after_s=cfg["feeds.stale_after_s"],
            max_frame_bytes=max_frame,
            ca_file=ca_file,
            transport=transport,
            grpc_client=cfg["feeds.grpc_client"],
        ),
        commitment=cfg["feeds.commitment"],
        ca_file=ca_file,
        max_answer_bytes=max_frame,
        rpc_timeout_s=cfg["feeds.rpc_timeout_s"],
        reconcile=ReconcileSettings(cfg["feeds.reconcile_rps"], cfg["feeds.reconcile_batch"])
        if cfg["feeds.reconcile_rps"] > 0
        else None,
    )

    try:
        labels = load_labels(cfg["rivals.labels_file"])
    except ValueError as exc:
        raise ConfigError([f"rivals.labels_file: {exc}"]) from None
    try:
        extra = load_programs(cfg["propamm.programs_file"])
    except ValueError as exc:
        raise ConfigError([f"propamm.programs_file: {exc}"]) from None
    props = prop_programs(extra) if cfg["propamm.enabled"] else {}

    def build(
        watch: Watch,
        endpoints: Sequence[Endpoint] = (),
        sim: sources.SimSettings | None = None,
    ) -> FeedSession:
        watch = replace(
            watch,
            rivals=cfg["rivals.enabled"],
            rival_labels=labels,
            prop_amms=props,
            prop_follow_bps=cfg["propamm.follow_bps"],
        )
        return sources.session(
            watch,
            evaluation,
            endpoints=endpoints,
            sim=sim,
            options=options,
            fleet=fleet,
            metrics=metrics,
            record=record,
            live=live,
        )

    seed, max_hops = cfg["sim.seed"], cfg["market.max_hops"]
    if fleet is not None and fleet.regions and not (ws or grpc_urls):  # the collectors alone
        if cfg["sim.accept_tx"]:
            raise ConfigError(["sim.accept_tx is for the embedded simulator (--region is set)"])
        return build(Watch(base_mints=cfg["market.base_mints"], max_hops=max_hops, seed=seed))
    if ws or grpc_urls:
        if cfg["sim.accept_tx"]:
            raise ConfigError(["sim.accept_tx is for the embedded simulator (feeds.ws is set)"])
        try:
            uni = load_universe(cfg["market.pools_file"])
        except UniverseError as exc:
            raise ConfigError([f"market.pools_file: {exc}"]) from None
        bases = cfg["market.base_mints"] or uni.base_mints
        if not bases:  # every cycle starts and ends in a base mint: nothing could be found
            pools_file = cfg["market.pools_file"]
            raise ConfigError(
                [
                    f"market.base_mints: none set, and {pools_file} has no base_mints: cycles "
                    "start and end in a base mint, so nothing could be found (add base_mints = "
                    '["<mint>", ...])'
                ]
            )
        eps = [Endpoint(f"node-{i}", w, r) for i, (w, r) in enumerate(zip(ws, rpc))]
        if grpc_urls:
            token = grpc_token(cfg["feeds.grpc_token_file"], cfg["feeds.grpc_token_env"])
            more = list(rpc[len(ws) :]) if len(rpc) > len(ws) else []
            eps += [
                Endpoint(f"grpc-{i}", "", more[i] if i < len(more) else None, grpc=u, x_token=token)
                for i, u in enumerate(grpc_urls)
            ]
        return build(Watch(uni.pools, bases, max_hops, seed), endpoints=eps)
    programs = cfg["sim.programs"] or ""
    if programs:  # a folder that cannot be used is one line now, not a traceback later
        from ..sources.embedded import programs_problem

        problem = programs_problem(programs)
        if problem:
            raise ConfigError([f"sim.programs: {problem}"])
    sim = sources.SimSettings(
        endpoints=cfg["sim.endpoints"],
        grpc=cfg["sim.grpc"],
        accept_tx=cfg["sim.accept_tx"],
        slot_seconds=cfg["sim.slot_ms"] / 1000.0,
        competitors=cfg["sim.competitors"],
        programs=programs,
        rivals=cfg["sim.rivals"],
        rival_reaction=cfg["sim.rival_reaction"],
        rival_tip=cfg["sim.rival_tip"],
        rival_gap_bps=cfg["sim.rival_gap_bps"],
        prop_amms=cfg["sim.prop_amms"],
    )
    return build(Watch(base_mints=cfg["market.base_mints"], max_hops=max_hops, seed=seed), sim=sim)


def grpc_token(path: str | None, env: str | None) -> str | None:
    """The x-token of the gRPC endpoints: the file's first line, or the environment
    variable's value (None: neither named). A problem is a ConfigError that names the
    file or variable, never the token."""

    from ..config import ConfigError

    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"feeds.grpc_token_file: cannot read {path}: {exc}"]) from None
        if not text:
            raise ConfigError([f"feeds.grpc_token_file: {path} is empty"])
        return text.splitlines()[0].strip()
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError([f"feeds.grpc_token_env: ${env} is not set or empty"])
        return value
    return None
