"""feeds: everything between a socket and the engine, sorted by role (ARCHITECTURE.md).

- :mod:`feeds.wire`: wire formats without I/O (PubSub frames, shared instruction
  layouts, the pool-universe file);
- :mod:`feeds.clients`: clients with I/O (PubSub workers, HTTP JSON-RPC, the endpoint
  pool, the signature watcher);
- :mod:`feeds.sim`: the simulator, a node on loopback (RPC, PubSub, the programs'
  runtime, the market behind them);
- :mod:`feeds.health` (per-endpoint health records) and :mod:`feeds.redact` (what of a
  URL may be shown).
"""
