"""Fixtures of the bench tests: the OpenBook v2 TypeScript client (``jsbook.objs``)."""

from __future__ import annotations

from tests.support.jsbook import objs

__all__ = ["objs"]
