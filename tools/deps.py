"""Print the runtime and dev dependencies of pyproject.toml, one per line, for pip.

The Makefile installs these before building the extension, so the project installs
everything it needs from its own files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tomllib


def main() -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    deps = list(project.get("dependencies", []))
    deps += project.get("optional-dependencies", {}).get("dev", [])
    sys.stdout.write("\n".join(d for d in deps) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
