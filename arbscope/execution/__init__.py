"""Execution: paper trading (default) and, behind guard rails, live trading."""
