"""Mint and token-metadata accounts: decoders (no I/O).

What the token registry reads to name a token and scale its amounts:

- the **mint** (SPL Token: exactly 82 bytes; Token-2022: 82 bytes, or the base layout
  padded to 165, the account type ``1`` (Mint) at byte 165 and TLV extensions from 166:
  ``type u16 LE | length u16 LE | value``; an account of the Multisig size, 355, is never
  extended). Sources: solana-program/token ``interface/src/state.rs`` (``Mint``:
  ``array_refs![src, 36, 8, 1, 1, 36]``, decimals at 44) and token-2022
  ``interface/src/extension/mod.rs`` (``BASE_ACCOUNT_LENGTH`` 165, the account type
  byte, the TLV header, ``ExtensionType`` numbering: 18 MetadataPointer, 19 TokenMetadata);
  ``../shared/spec/solana.md`` §3 has both.
- Token-2022's **TokenMetadata** extension (type 19; spl-token-metadata-interface
  ``state.rs``): ``update_authority`` 32 (an ``OptionalNonZeroPubkey``: zeros for none),
  ``mint`` 32, then borsh ``name``, ``symbol``, ``uri`` (u32 LE length + UTF-8) and
  ``additional_metadata`` (u32 count of (key, value) string pairs). A real mainnet
  Token-2022 mint carrying it is in ``../shared/fixtures/raydium/cpmm_wsol_pump.json``.
- The Metaplex **Metadata** account (mpl-token-metadata ``state/metadata.rs``, ``state/
  mod.rs``): at the PDA ``["metadata", program, mint]`` of the program
  ``metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s``, owned by it; ``key`` u8 (4 =
  ``MetadataV1``), ``update_authority`` 32, ``mint`` 32, then ``Data``: borsh ``name``
  (at most 32 bytes), ``symbol`` (10), ``uri`` (200), stored padded with NUL bytes to
  those lengths by the program (``puff_out_data_fields``), then seller fee, creators...;
  the account is allocated ``MAX_METADATA_LEN`` = 679 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solders.pubkey import Pubkey

import engine_rs

from .tokens import SPL_TOKEN, TOKEN_2022

METADATA_PROGRAM = "metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s"
MINT_SIZE = 82
BASE_ACCOUNT_LENGTH = 165  # Token-2022: extended mints are padded to the Account size
MULTISIG_SIZE = 355  # never an extended account, whatever its byte 165 says
ACCOUNT_TYPE_MINT = 1
EXT_METADATA_POINTER = 18
EXT_TOKEN_METADATA = 19
METADATA_KEY_V1 = 4  # mpl-token-metadata Key::MetadataV1
MAX_NAME_LENGTH = 32
MAX_SYMBOL_LENGTH = 10
MAX_URI_LENGTH = 200
MAX_METADATA_LEN = 679  # the Metadata account's allocation (state/metadata.rs)
# the smallest Metadata account that holds its header and three strings, even empty
MIN_METADATA_LEN = 1 + 32 + 32 + 4 + 4 + 4


class TokenDataError(ValueError):
    """Bytes that are not the account they were read as (size, owner, layout)."""


@dataclass(frozen=True, slots=True)
class TokenMetadata:
    """A token's name, symbol and uri (Token-2022's extension or Metaplex's account)."""

    mint: str
    name: str
    symbol: str
    uri: str
    update_authority: str | None = None
    additional: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MintInfo:
    """A decoded mint: what the registry needs of it."""

    program: str  # SPL_TOKEN or TOKEN_2022
    decimals: int
    supply: int
    is_initialized: bool
    extensions: dict[int, bytes] = field(default_factory=dict)  # Token-2022 TLV by type
    metadata: TokenMetadata | None = None  # the TokenMetadata extension, when present


def _b58(key: bytes) -> str:
    return str(Pubkey.from_bytes(key))


def _tlv(data: bytes) -> dict[int, bytes]:
    """The TLV entries after the account type byte (type 0 ends them: the rest is zeros)."""
    out: dict[int, bytes] = {}
    i = BASE_ACCOUNT_LENGTH + 1
    while i + 4 <= len(data):
        kind = int.from_bytes(data[i : i + 2], "little")
        length = int.from_bytes(data[i + 2 : i + 4], "little")
        if kind == 0:  # Uninitialized: no more entries
            break
        if i + 4 + length > len(data):
            raise TokenDataError(
                f"Token-2022 extension {kind} at byte {i} claims {length} bytes; "
                f"{len(data) - i - 4} remain"
            )
        if kind in out:
            raise TokenDataError(f"Token-2022 extension {kind} appears twice")
        out[kind] = bytes(data[i + 4 : i + 4 + length])
        i += 4 + length
    return out


def decode_mint(data: bytes, owner: str) -> MintInfo:
    """A mint account of ``owner`` (SPL Token or Token-2022); anything else, a wrong size
    or a malformed extension is a :class:`TokenDataError` that says what is wrong."""
    if owner not in (SPL_TOKEN, TOKEN_2022):
        raise TokenDataError(f"not a mint: owned by {owner}, not a token program")
    n = len(data)
    if owner == SPL_TOKEN and n != MINT_SIZE:
        raise TokenDataError(f"an SPL Token mint is {MINT_SIZE} bytes, this one {n}")
    if owner == TOKEN_2022 and n != MINT_SIZE and (n <= BASE_ACCOUNT_LENGTH or n == MULTISIG_SIZE):
        raise TokenDataError(
            f"a Token-2022 mint is {MINT_SIZE} bytes or more than {BASE_ACCOUNT_LENGTH} "
            f"(not {MULTISIG_SIZE}), this one {n}"
        )
    extensions: dict[int, bytes] = {}
    if n > MINT_SIZE:
        if any(data[MINT_SIZE:BASE_ACCOUNT_LENGTH]):
            raise TokenDataError("a Token-2022 mint's padding (bytes 82..165) is not zero")
        if data[BASE_ACCOUNT_LENGTH] != ACCOUNT_TYPE_MINT:
            raise TokenDataError(
                f"account type {data[BASE_ACCOUNT_LENGTH]} at byte 165, not 1 (Mint)"
            )
        extensions = _tlv(data)
    meta = None
    if EXT_TOKEN_METADATA in extensions:
        meta = decode_token_metadata(extensions[EXT_TOKEN_METADATA])
    return MintInfo(
        program=owner,
        decimals=data[44],
        supply=int.from_bytes(data[36:44], "little"),
        is_initialized=data[45] == 1,
        extensions=extensions,
        metadata=meta,
    )


class _Reader:
    """Borsh, as far as these accounts need it."""

    def __init__(self, data: bytes, what: str, pos: int = 0) -> None:
        self.data, self.what, self.pos = data, what, pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise TokenDataError(
                f"{self.what}: ends at byte {len(self.data)}, reading {n} more at {self.pos}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def string(self, field_name: str, limit: int | None = None) -> str:
        n = self.u32()
        if limit is not None and n > limit:
            raise TokenDataError(f"{self.what}: {field_name} of {n} bytes (at most {limit})")
        raw = self.take(n)
        try:
            return raw.decode("utf-8").rstrip("\0")
        except UnicodeDecodeError:
            raise TokenDataError(f"{self.what}: {field_name} is not UTF-8") from None


def decode_token_metadata(value: bytes) -> TokenMetadata:
    """Token-2022's TokenMetadata extension value (type 19)."""
    r = _Reader(value, "TokenMetadata extension")
    auth = r.take(32)
    mint = _b58(r.take(32))
    name = r.string("name")
    symbol = r.string("symbol")
    uri = r.string("uri")
    extra = tuple((r.string("key"), r.string("value")) for _ in range(r.u32()))
    return TokenMetadata(mint, name, symbol, uri, _b58(auth) if any(auth) else None, extra)


def decode_metaplex(data: bytes, owner: str | None = None) -> TokenMetadata:
    """A Metaplex Metadata account (``owner``, when given, must be the metadata program)."""
    if owner is not None and owner != METADATA_PROGRAM:
        raise TokenDataError(f"not a Metaplex metadata account: owned by {owner}")
    if len(data) < MIN_METADATA_LEN:
        raise TokenDataError(
            f"a Metaplex metadata account is at least {MIN_METADATA_LEN} "
            f"bytes, this one {len(data)}"
        )
    if data[0] != METADATA_KEY_V1:
        raise TokenDataError(f"Metaplex account key {data[0]}, not {METADATA_KEY_V1} (MetadataV1)")
    r = _Reader(data, "Metaplex metadata", 1)
    auth = _b58(r.take(32))
    mint = _b58(r.take(32))
    name = r.string("name", MAX_NAME_LENGTH)
    symbol = r.string("symbol", MAX_SYMBOL_LENGTH)
    uri = r.string("uri", MAX_URI_LENGTH)
    return TokenMetadata(mint, name, symbol, uri, auth)


def metadata_address(mint: str) -> str:
    """The Metaplex Metadata PDA of ``mint``: ``["metadata", program, mint]``."""
    program = bytes(Pubkey.from_string(METADATA_PROGRAM))
    seeds = [b"metadata", program, bytes(Pubkey.from_string(mint))]
    addr, _bump = engine_rs.backend().find_program_address(seeds, METADATA_PROGRAM)
    return str(addr)
