"""One real node for the whole session (``tests/support/realnode.py``): the market of
seed 63 written for it, the validator with the real programs and the gRPC plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo, Validator
from tests.support import realnode


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
