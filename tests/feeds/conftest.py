"""Fixtures of the feed tests: the JavaScript clients (``jsclient.web3js``, and the
OpenBook v2 TypeScript client ``jsbook.objs``)."""

from __future__ import annotations

from tests.engine.jsbook import objs
from tests.feeds.jsclient import web3js

__all__ = ["objs", "web3js"]
