"""arbscope: wiring package (CLI, session, market, execution)."""
