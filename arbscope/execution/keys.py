"""The operator's keypair, behind guard rails.

A keypair file is the Solana CLI's: a JSON array of the 64 bytes of an ed25519 keypair
(secret ‖ public). Before it is read, the file must be
- a regular file (a symlink is followed to one) owned by the user running arbscope;
- readable by its owner only (mode 0600 or 0400: no group or other bits);
- outside every git repository (no ``.git`` in any parent directory) — a key inside a
  checkout is one ``git add`` away from being published.

Errors (:class:`KeypairError`) name the file and what to do; they never contain the
file's content. The loaded :class:`Wallet` shows only its public key.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

import engine_rs


class KeypairError(Exception):
    """A keypair file that fails a guard rail (the message says which and how to fix it)."""


class Signer:
    """A keypair's ed25519 signing key held by OpenSSL (the ``cryptography`` package):
    :meth:`sign_message` gives the signature solders' ``Keypair.sign_message`` gives (an
    ed25519 signature is deterministic) in about 60% of its time — the live fast path
    signs every order in the deciding call. The key itself is never shown."""

    __slots__ = ("_key", "pubkey")

    def __init__(self, keypair: Keypair) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(keypair)[:32])
        self.pubkey = keypair.pubkey()

    def sign_message(self, message: bytes) -> Signature:
        return Signature.from_bytes(self._key.sign(message))

    def __repr__(self) -> str:
        return f"Signer({self.pubkey})"


@dataclass(frozen=True)
class Wallet:
    """A loaded keypair: ``pubkey`` is public; the keypair itself is never shown."""

    path: Path
    pubkey: str
    keypair: Keypair = field(repr=False, compare=False)
    key: Pubkey = field(repr=False, compare=False)  # ``pubkey`` as solders' type
    signer: Signer = field(repr=False, compare=False)  # what signs the orders
    # the engine's signer (``TxSigner``): the fast path renders and signs in one call
    tx: Any = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"Wallet({self.pubkey}, path={str(self.path)!r})"


def repository_of(path: Path) -> Path | None:
    """The git work tree (a directory holding ``.git``) that contains ``path``, if any."""
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    return None


def check_keypair_file(path: str | os.PathLike[str]) -> Path:
    """The resolved path when the file passes every guard rail; KeypairError otherwise."""
    p = Path(path).expanduser()
    shown = str(p)
    try:
        real = p.resolve(strict=True)
        st = real.stat()
    except FileNotFoundError:
        raise KeypairError(f"keypair {shown}: no such file") from None
    except OSError as exc:
        raise KeypairError(f"keypair {shown}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeypairError(f"keypair {shown}: not a regular file")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise KeypairError(
            f"keypair {shown}: owned by uid {st.st_uid}, not by you (uid {os.getuid()})"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeypairError(
            f"keypair {shown}: mode {mode:04o} lets others read it; run `chmod 600 {shown}`"
        )
    repo = repository_of(real)
    if repo is not None:
        raise KeypairError(
            f"keypair {shown}: inside the git repository {repo}; keep keys outside any "
            "repository (e.g. ~/.config/solana/)"
        )
    return real


def load_wallet(path: str | os.PathLike[str]) -> Wallet:
    """Check ``path`` (:func:`check_keypair_file`) and load the keypair."""
    real = check_keypair_file(path)
    shown = str(Path(path).expanduser())
    bad = KeypairError(
        f"keypair {shown}: not a Solana keypair file (a JSON array of 64 "
        "numbers 0-255, as `solana-keygen new` writes)"
    )
    try:
        raw = json.loads(real.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        raise bad from None
    if (
        not isinstance(raw, list)
        or len(raw) != 64
        or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in raw)
    ):
        raise bad
    try:
        kp = Keypair.from_bytes(bytes(raw))
    except Exception:  # solders: the public half does not match the secret
        raise bad from None
    del raw
    key = kp.pubkey()  # derived from the secret on every call: once
    return Wallet(real, str(key), kp, key, Signer(kp), engine_rs.backend().TxSigner(bytes(kp)))


def write_keypair(path: str | os.PathLike[str], keypair: Keypair | None = None) -> Wallet:
    """A new keypair file at ``path`` (mode 0600): what ``arbscope keygen`` does for
    simulator trials. Refused over an existing file, inside a git repository, and in a
    directory that does not exist (as ``ssh-keygen -f`` does: a typo in the path must
    not create directories anywhere)."""
    p = Path(path).expanduser()
    if p.exists():
        raise KeypairError(f"keypair {p}: already exists; not overwriting it")
    if not p.parent.exists():
        raise KeypairError(f"keypair {p}: directory {p.parent} does not exist; create it first")
    if not p.parent.is_dir():
        raise KeypairError(f"keypair {p}: {p.parent} is not a directory")
    parent = p.parent.resolve()
    repo = repository_of(parent / p.name)
    if repo is not None:
        raise KeypairError(
            f"keypair {p}: inside the git repository {repo}; choose a path outside any repository"
        )
    kp = keypair or Keypair()
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(list(bytes(kp)), f)
    return load_wallet(p)
