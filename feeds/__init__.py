"""feeds: everything between a socket and the engine (see ARCHITECTURE.md).

So far: :mod:`feeds.protocol`, the Solana JSON-RPC PubSub messages (requests, id
bookkeeping, frame parsing, dedup keys) with no I/O. Workers, aggregation and the
embedded simulator follow (issue 4).
"""
