"""Print the runtime dependencies of pyproject.toml and those of its extras (``charts``,
``dev``), one per line, for pip.

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
    # every extra: the optional features (the sweep's charts) are tested like the rest
    for extra in project.get("optional-dependencies", {}).values():
        deps += extra
    sys.stdout.write("\n".join(d for d in deps) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
