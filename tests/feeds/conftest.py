"""Fixtures of the feed tests: the JavaScript client (``jsclient.web3js``)."""

from __future__ import annotations

from tests.feeds.jsclient import web3js

__all__ = ["web3js"]
