"""The embedded simulator: a market with real account layouts, served over Solana JSON-RPC
and PubSub on loopback (``arbscope sim``)."""
