"""TLS for every client (``wss://`` and ``https://``) and the frame-size limit they share.

Certificates are verified against the system's trust store, always; ``ca_file`` (``--ca-file``,
``feeds.ca_file``) adds a private CA (PEM) to it, for a provider or a node behind a CA of
its own. There is no switch that turns verification off.

:func:`client_context` builds (once per CA file) the :class:`ssl.SSLContext` every
WebSocket and HTTP client uses; :func:`ssl_for` gives it for a ``wss://`` / ``https://``
URL and None for a plain one (websockets refuses an SSL context for ``ws://``).
:func:`tls_problem` turns a failed handshake, wherever it surfaced (websockets raises the
``ssl`` error itself, aiohttp wraps it), into one line that names the endpoint (redacted)
and says what to do.
"""

from __future__ import annotations

import functools
import ssl

from ..redact import redact

DEFAULT_MAX_FRAME_BYTES = 64 << 20  # a PubSub frame or an HTTP answer (bytes)
CA_HINT = "pass the endpoint's CA certificate with --ca-file FILE (feeds.ca_file)"
FRAME_HINT = "raise it with --max-frame-mb N (feeds.max_frame_mb)"


class TlsSetupError(ValueError):
    """A CA file that cannot be used (missing, unreadable, not PEM certificates)."""


@functools.lru_cache(maxsize=8)
def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The clients' TLS context: the system's trust store, plus ``ca_file``'s
    certificates when given; hostnames checked, certificates required."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except FileNotFoundError:
            raise TlsSetupError(f"CA file {ca_file}: no such file") from None
        except (ssl.SSLError, OSError, ValueError) as exc:
            why = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
            raise TlsSetupError(f"CA file {ca_file}: not usable PEM certificates ({why})") from None
    return ctx


def is_tls(url: str) -> bool:
    return url.lower().startswith(("wss://", "https://"))


def ssl_for(url: str, ca_file: str | None = None) -> ssl.SSLContext | None:
    """The context for ``url``: None for ``ws://`` / ``http://``."""
    return client_context(ca_file) if is_tls(url) else None


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (cause, context, aiohttp's ``certificate_error`` /
    ``os_error``), without cycles."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is x for x in out):
            continue
        out.append(e)
        todo += [e.__cause__, e.__context__]
        for attr in ("certificate_error", "os_error"):
            inner = getattr(e, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)
    return out


def tls_problem(exc: BaseException, url: str, ca_file: str | None = None) -> str | None:
    """One line for a TLS failure in ``exc`` (None when it is not one): certificate
    verify failed, with the reason and how to pass a CA; or a handshake that failed
    otherwise (a plain endpoint behind a ``wss://`` URL, say)."""
    chain = _chain(exc)
    where = redact(url)
    for e in chain:
        # aiohttp's wrapper is an SSLCertVerificationError too (without its fields): the
        # wrapped one, listed after it, says why
        if isinstance(e, ssl.SSLCertVerificationError) and hasattr(e, "verify_message"):
            reason = e.verify_message or e.reason or "no reason given"
            hint = (
                CA_HINT
                if ca_file is None
                else f"the CA file {ca_file} does not vouch for it either: check --ca-file"
            )
            return f"certificate verify failed at {where} ({reason}); {hint}"
    for e in chain:
        if isinstance(e, ssl.SSLError):
            reason = getattr(e, "reason", None) or str(e)
            return (
                f"TLS handshake failed at {where} ({reason}); is the endpoint TLS "
                "(wss://, https://) at all?"
            )
    return None
