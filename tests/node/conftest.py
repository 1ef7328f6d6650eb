"""One real node for the whole session (``tests/support/realnode.py``): the market of
seed 63 written for it, the validator with the real programs and the gRPC plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo, Validator
from tests.support import realnode
from tests.support.driver import Driven


@pytest.fixture(scope="session")
def node_market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Market]:
    realnode.validator_binary()  # skip before writing anything when there is no node
    folder = tmp_path_factory.mktemp("market")
    return folder, realnode.market(folder)


@pytest.fixture(scope="session")
def validator(node_market: tuple[Path, Market]) -> Iterator[Validator]:
    v = realnode.start(node_market[0])
    try:
        yield v
    finally:
        v.stop()


@pytest.fixture(scope="session")
def node(validator: Validator) -> NodeInfo:
    assert validator.info is not None
    return validator.info


@pytest.fixture(scope="session")
def driven(
    node: NodeInfo, node_market: tuple[Path, Market], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Driven]:
    """The market driver (``feeds/sim/driver.py``: noise traders, arbitrageurs, large
    trades, rival arbitrages) trading the session's node from the first test that asks
    for it to the end of the session, in a process of its own; waited for until its
    first swaps landed."""
    d = Driven(node.rpc_url, node_market[0], tmp_path_factory.mktemp("driver")).start()
    try:
        d.wait_for(lambda t: t["totals"]["landed"] > 0)
        yield d
    finally:
        d.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The node's tests on the still market first, then those that use ``driven`` (once
    the driver started, every later test sees a moving market); each group in its
    order."""
    # the still market's own tests in this order: the genesis accounts checked before any
    # transaction lands, then the tests that send their own (each sized for a market only
    # it has moved), the probes that compare the node with the simulator before the
    # others' trades move the wallets they read
    still = ["test_market", "test_conformance", "test_live", "test_grpc", "test_discover"]

    def key(item: pytest.Item) -> tuple[bool, int]:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        rank = still.index(module) if module in still else len(still)
        return ("driven" in getattr(item, "fixturenames", ()), rank)

    items.sort(key=key)
