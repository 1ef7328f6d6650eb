"""Fixtures of the feed tests: the JavaScript clients (``jsclient.web3js``, and the
OpenBook v2 TypeScript client ``jsbook.objs``), and each PubSub transport."""

from __future__ import annotations

import pytest

from feeds.clients.transport import TRANSPORTS
from tests.support.jsbook import objs
from tests.support.jsclient import web3js

__all__ = ["objs", "transport", "web3js"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """Each PubSub transport in turn (``WorkerConfig.transport``): the worker's
    behaviour against real and hostile endpoints is the same over both."""
    return str(request.param)
