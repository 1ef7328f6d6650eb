"""Shared fixtures: both engine backends, and the optional ../shared/fixtures data."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import engine_rs
from tests.support.paths import SHARED_FIXTURES

# Property tests: ``ci`` (the default, what ``make test`` and CI run) is derandomized — the
# same examples every run, no example database, no deadline or timing health check, so a
# busy 2-core machine never fails a test by slowness or by luck; ``dev``
# (``HYPOTHESIS_PROFILE=dev make test``) draws new examples each run, five times as many,
# and keeps the failures it finds in ``.hypothesis/`` to replay them first next time.
# A test's own ``@settings`` still sets its example count under either.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    derandomize=False,
    deadline=None,
    max_examples=500,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
if PROFILE == "ci":
    # Hypothesis (6.131 on) also draws from the literals of every local module loaded, so
    # a derandomized test's examples depended on which other test files were imported
    # with it: the CP-Swap differential test drew a failing case in a run of the whole
    # folder and never alone. The ci profile keeps to the same examples whatever runs
    # beside it; dev keeps the literals (they find boundaries).
    from hypothesis.internal.conjecture import providers as _providers

    if hasattr(_providers, "_get_local_constants"):
        _empty = _providers.Constants()
        _providers._get_local_constants = lambda: _empty


def _load(name: str) -> types.ModuleType:
    try:
        return engine_rs.load(name)
    except ImportError as exc:  # only the Rust one can be missing
        pytest.skip(f"Rust extension not built ({exc}); run `make test`")


@pytest.fixture(params=["rust", "python"])
def eng(request: pytest.FixtureRequest) -> types.ModuleType:
    """Each engine backend in turn: every test using it runs down both paths."""
    return _load(request.param)


@pytest.fixture(scope="session")
def rust() -> types.ModuleType:
    return _load("rust")


@pytest.fixture(scope="session")
def py() -> types.ModuleType:
    return _load("python")


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """``../shared/fixtures`` when present; tests needing it skip with the reason otherwise."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"{SHARED_FIXTURES} absent (a user's clone): full fixture files not run")
    return SHARED_FIXTURES


@pytest.fixture(autouse=True)
def _journal_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions recorded by tests (the CLI records by default) go to a temporary journal,
    never to the user's data directory."""
    monkeypatch.setenv("ARBSCOPE_DB", str(tmp_path_factory.mktemp("journal") / "j.sqlite"))


# the fixtures that start a JavaScript client under node (tests/support/jsclient.py,
# jsbook.py): a test using one is marked ``js`` without saying so itself (first, so
# that ``-m`` sees the mark)
JS_FIXTURES = {"web3js", "objs"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if JS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.js)


# What a test leaves running outlives pytest: the interpreter joins its threads (the
# executors' workers among them) before it exits. CI's run of stop 56 printed its summary
# and then hung until the job's limit, 50 minutes later, with nothing to say why. The
# session's end names the threads and child processes still alive, and if the process
# has not exited EXIT_GRACE_S later, every thread's stack is printed and it exits (1):
# a red run that says where, never a silent hang.
EXIT_GRACE_S = 120.0


def _children() -> list[str]:
    """This process's live children (pid and command line), from /proc."""
    out = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            out.append(f"{pid} {cmd.decode(errors='replace').strip()[:160]}")
    return out


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    main = threading.main_thread()
    threads = [t for t in threading.enumerate() if t is not main and t.is_alive()]
    left = [f"thread {t.name!r}{' (daemon)' if t.daemon else ''}" for t in threads]
    left += [f"child process {c}" for c in _children()]
    if left:
        print("\nleft running after the tests:", *left, sep="\n  ", file=sys.__stderr__)
    faulthandler.dump_traceback_later(EXIT_GRACE_S, exit=True, file=2)  # (stderr)
