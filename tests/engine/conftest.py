"""Fixtures of the engine tests: the OpenBook v2 TypeScript client (``jsbook.objs``)."""

from __future__ import annotations

from tests.support.jsbook import objs

__all__ = ["objs"]
