"""feeds: everything between a socket and the engine, sorted by role (ARCHITECTURE.md).

- :mod:`feeds.wire`: wire formats without I/O (PubSub frames, the instruction layouts
  every venue shares, transaction sizing, the pool-universe file);
- :mod:`feeds.clients`: clients with I/O (PubSub workers, HTTP JSON-RPC and Jito, the
  endpoint pool, the signature watcher);
- :mod:`feeds.venues`: one package per DEX program (its swap instruction, its program's
  errors, its pool's layout; in its ``sim`` module, loaded by the simulator alone, its
  simulated accounts and program) and the registry everything dispatches through;
- :mod:`feeds.sim`: the simulator, a node on loopback (RPC, PubSub, the programs'
  runtime, the market behind them), a room of its own: nothing outside it imports it;
- :mod:`feeds.health` (per-endpoint health records) and :mod:`feeds.redact` (what of a
  URL may be shown).
"""
