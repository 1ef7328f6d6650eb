"""Clients, with I/O: the PubSub worker (:mod:`.pubsub`), the HTTP JSON-RPC and Jito
clients (:mod:`.rpc`), the endpoint pool that runs a session's feeds (:mod:`.pool`) and
the signature watcher (:mod:`.confirm`). They move bytes; the engine computes."""
