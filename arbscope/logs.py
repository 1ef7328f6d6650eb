"""Logging: structured JSON lines to a rotating file, human lines to stderr (headless).

Every record passes a redaction filter first: any URL in the message or its arguments
is replaced by its redacted form (API keys in the path, query or user-info become
``***``).
The dashboard owns the terminal, so on screen only the file is written.

A JSON line: ``{"ts": "2026-11-23T04:35:59.123Z", "level": "info", "logger":
"arbscope.session", "msg": "...", ...extra fields}``.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import time
from pathlib import Path
from typing import Any

from feeds.redact import scrub_urls

# a URL up to whitespace or quotes (what is masked whole when redaction itself fails)
_URL = re.compile(r"\b(?:https?|wss?|grpcs?|nats|tls)://[^\s\"'<>]+")
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def scrub_text(text: str) -> str:
    """``text`` with every URL redacted (:func:`feeds.redact.scrub_urls`)."""
    return scrub_urls(text)


class RedactFilter(logging.Filter):
    """Rewrites the record's message (formatted once, with its arguments) redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            msg = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = _safe_scrub(msg), ()
        for k, v in list(record.__dict__.items()):
            if k not in _STD and isinstance(v, str):
                record.__dict__[k] = _safe_scrub(v)
        return True


def _safe_scrub(text: str) -> str:
    """:func:`scrub_text`, and when that fails anyway, every URL masked whole: logging
    must never raise into the code that logs."""
    try:
        return scrub_text(text)
    except Exception:
        return _URL.sub("<url>", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        t = record.created
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                out[k] = v if isinstance(v, (int, float, bool, str, type(None))) else str(v)
        if record.exc_info:
            out["exc"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def default_log_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("arbscope")) / "arbscope.log"


HANDLER_NAME = "arbscope"  # the handlers setup() adds (a second setup() replaces them)


def setup(
    file: str | Path | None = None,
    level: str = "info",
    max_bytes: int = 10 << 20,
    backups: int = 5,
    stderr: bool = False,
) -> Path | None:
    """Configure the root logger (idempotent); the JSON log file's path (None when it
    cannot be opened: then only stderr, if asked, and a warning there)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == HANDLER_NAME:
            root.removeHandler(h)
            h.close()
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    redact_filter = RedactFilter()
    path: Path | None = Path(file).expanduser() if file else default_log_file()
    assert path is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError as exc:
        print(f"arbscope: cannot write the log file {path}: {exc.strerror}", file=sys.stderr)
        path = None
    else:
        fh.setFormatter(JsonFormatter())
        fh.addFilter(redact_filter)
        fh.set_name(HANDLER_NAME)
        root.addHandler(fh)
    if stderr:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
        sh.addFilter(redact_filter)
        sh.set_name(HANDLER_NAME)
        root.addHandler(sh)
    # libraries that are chatty at info
    for noisy in ("aiohttp.access", "websockets", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # picows logs each connection at info and a hostile endpoint's bad frame at error:
    # every failure it sees already reaches that feed's health as one line
    logging.getLogger("picows").setLevel(logging.CRITICAL)
    return path
