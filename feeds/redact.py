"""URL redaction: what of an endpoint URL may be shown.

RPC URLs routinely carry API keys in the path, the query or the user-info, so every URL
that reaches a health record, a log line, an error or the screen goes through
:func:`redact` first, every error text that may quote one through :func:`scrub`, and a
text that may quote any (a usage error echoing the command line, a log line) through
:func:`scrub_urls`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_KEYISH = re.compile(r"[A-Za-z0-9_\-]{16,}")
# a URL up to whitespace or quotes, without trailing punctuation (": ", "), ", "." ...)
_URL = re.compile(r"\b(?:https?|wss?|grpcs?|nats|tls)://[^\s\"'<>]+?(?=[.,;:)\]]*(?:[\s\"'<>]|$))")
# a query parameter that names a secret, outside a URL with a scheme (``host/?api-key=K``)
_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:[a-z0-9_\-]*(?:key|token|secret|passw(?:or)?d|auth|signature))=)[^&\s\"'<>]+"
)


def redact(url: str) -> str:
    """``url`` with anything that may be a secret replaced by ``***``: user-info, every
    query value, and path segments that look like keys (16+ key characters)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # e.g. a port that is not a number: show nothing of it
        return "<unparsable url>"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = "***@" + host
    path = "/".join("***" if _KEYISH.fullmatch(seg) else seg for seg in parts.path.split("/"))
    query = "&".join(
        (q.split("=", 1)[0] + "=***") if "=" in q else "***" for q in parts.query.split("&") if q
    )
    return urlunsplit((parts.scheme, host, path, query, ""))


def scrub(text: str, *secrets: str) -> str:
    """``text`` with each of ``secrets`` (full URLs) replaced by its redacted form."""
    for s in secrets:
        if s:
            text = text.replace(s, redact(s))
    return text


def scrub_urls(text: str) -> str:
    """``text`` with every URL in it redacted (:func:`redact`), and the value of every
    query parameter naming a secret (``api-key=``, ``token=``, ``secret=`` ...) masked
    where no scheme marks the URL: what a text quoting a command line or a setting may
    hold."""
    text = _URL.sub(lambda m: redact(m.group(0)), text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + "***", text)
