"""Generate the Python modules of the Yellowstone gRPC messages (``feeds/wire/geyser``:
``geyser_pb2.py`` / ``solana_storage_pb2.py`` and their ``.pyi``) from the ``.proto``
files beside them, with grpcio-tools' bundled ``protoc``.

The Makefile runs this when a ``.proto`` changed (the generated files are not in the
repository: ``.gitignore``). The proto root is the repository, so the generated modules
import each other as ``feeds.wire.geyser.*``.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ("feeds/wire/geyser/solana_storage.proto", "feeds/wire/geyser/geyser.proto")


def main() -> int:
    from grpc_tools import protoc

    # protobuf's own well-known types (google/protobuf/timestamp.proto) ship with grpcio-tools
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{well_known}",
        f"--python_out={ROOT}",
        f"--pyi_out={ROOT}",
        *(str(ROOT / p) for p in PROTOS),
    ]
    code = protoc.main(args)
    if code != 0:
        sys.stderr.write(f"protoc failed ({code}) on {', '.join(PROTOS)}\n")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
