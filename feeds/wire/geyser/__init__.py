"""Yellowstone gRPC's Geyser messages: ``geyser.proto`` and ``solana_storage.proto``
(written from the published definitions; see their headers) and the modules
``geyser_pb2`` / ``solana_storage_pb2`` that ``make`` generates from them with
grpcio-tools (``tools/protos.py``; not in the repository)."""
