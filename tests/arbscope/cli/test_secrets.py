"""No output of the command line prints a secret: argparse's usage errors echo what
they refuse (``unrecognized arguments: --ws wss://...?api-key=...``, ``invalid choice:
'...'``), and every parser of ``arbscope`` scrubs them; run's flags given before a
command that does not take them are refused (never silently ignored), and ``doctor``
checks what run would use, from flags given before or after it."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from arbscope import cli
from arbscope.cli.options import misplaced_flags, parser
from feeds.redact import scrub_urls

KEY = "Sup3rS3cretK3yOfTheProvider"
URLS = (
    f"wss://mainnet.provider.example/?api-key={KEY}",
    f"https://user:{KEY}@rpc.provider.example/v1",
    f"https://rpc.provider.example/{KEY}abc/",
    f"mainnet.provider.example/?api-key={KEY}",  # no scheme
    f"grpcs://grpc.provider.example:443/?x-token={KEY}",
)


def _parsers(
    p: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the command line with the words that reach it."""
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What the parser prints refusing ``argv``, checked: no key, and where it quotes
    the URL (its host), the URL redacted."""
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2
    out = capsys.readouterr()
    said = out.out + out.err
    assert KEY not in said, (argv[:-1], said)
    assert "provider.example" not in said or "***" in said, (argv[:-1], said)
    return said


@pytest.mark.parametrize("url", URLS)
def test_no_usage_error_of_any_parser_prints_a_secret(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [path for path, _ in _parsers(parser())]
    assert ("doctor",) in paths and ("pools", "discover") in paths and len(paths) > 12
    for path, p in _parsers(parser()):
        # an argument it does not know (what `doctor --ws URL` was)
        _refused([*path, "--no-such-flag", url], capsys)
        # a value refused by a choice or a type, where the parser has such an option
        for action in p._actions:
            if action.option_strings and (action.choices or action.type in (int, float)):
                _refused([*path, action.option_strings[-1], url], capsys)
    # a secret as the command itself, and one argparse quotes whole
    assert "***" in _refused([url], capsys)
    assert "***" in _refused(["doctor", "--ws", "x", url], capsys)


def test_the_scrubber_is_no_mere_absence_of_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    """The oracle of the test above: argparse's own parser prints the key."""
    raw = argparse.ArgumentParser(prog="x")
    with pytest.raises(SystemExit):
        raw.parse_args(["--ws", URLS[0]])
    assert KEY in capsys.readouterr().err
    for url in URLS:
        assert KEY not in scrub_urls(f"unrecognized arguments: --ws {url}")


def test_runs_flags_before_a_command_that_ignores_them_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert misplaced_flags(["--ws", URLS[0], "sessions"], "sessions") == ["--ws"]
    assert misplaced_flags(["--seed", "3", "sim", "--seed", "4"], "sim") == ["--seed"]
    assert misplaced_flags(["sessions"], "sessions") == []
    assert misplaced_flags(["--ws", URLS[0], "doctor"], "doctor") == []
    assert misplaced_flags(["--ws", URLS[0]], None) == []
    assert cli.main(["--ws", URLS[0], "sessions"]) == 2
    said = capsys.readouterr().err
    assert "--ws" in said and "sessions" in said and KEY not in said


@pytest.mark.parametrize("before", [True, False])
def test_doctor_checks_the_endpoint_given_on_the_command_line(
    before: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for k in [k for k in __import__("os").environ if k.startswith("ARBSCOPE_")]:
        monkeypatch.delenv(k)
    pools = tmp_path / "pools.toml"
    pools.write_text("")
    # nothing listens on port 1: every network check fails at once, naming the endpoint
    flags = [
        "--ws", f"ws://127.0.0.1:1/?api-key={KEY}",
        "--rpc", f"http://127.0.0.1:1/?api-key={KEY}",
        "--pools", str(pools),
        "--metrics-port", "0",
    ]  # fmt: skip
    argv = (
        [*flags, "doctor", "--timeout", "0.5"] if before else ["doctor", "--timeout", "0.5", *flags]
    )
    assert cli.main(argv) == 1  # not "everything checks out": the endpoint is down
    out = capsys.readouterr()
    said = out.out + out.err
    assert KEY not in said
    assert "ws://127.0.0.1:1/?api-key=***" in said and "everything checks out" not in said
    assert "simulator" not in said  # it checked the flag's endpoint, not the embedded one
