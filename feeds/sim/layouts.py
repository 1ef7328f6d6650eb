"""Byte-exact account encoders (spec §3): the inverse of the decoders, for the accounts
every venue shares (SPL token accounts and mints), written with
:class:`~feeds.wire.writer.Writer`, as each venue's simulated program writes its own
(``feeds/venues/<venue>/sim.py``).

The simulator builds every account it serves with these, so what a client receives has
the real layout at the real offsets and sizes. ``base`` (optional) is an existing
account to write over: fields the decoders read are replaced, every other byte is kept,
so ``encode_x(decode_x(real), base=real) == real`` for a real account (tested against
the mainnet fixtures). Without ``base`` the bytes no field covers are zero.
"""

from __future__ import annotations

from typing import Any

from feeds.wire import mints as M
from feeds.wire.writer import Writer

TOKEN_ACCOUNT_LEN = 165
MINT_LEN = 82


def encode_token_account(r: Any, base: bytes | None = None) -> bytes:
    """An SPL Token account (165 bytes, spec §3)."""
    w = Writer(TOKEN_ACCOUNT_LEN, base)
    w.key(0, r.mint)
    w.key(32, r.owner)
    w.u64(64, r.amount)
    w.coption_key(72, r.delegate)
    w.u8(108, r.state)
    w.coption_u64(109, r.is_native)
    w.u64(121, r.delegated_amount)
    w.coption_key(129, r.close_authority)
    return w.done()


def encode_mint(r: Any, base: bytes | None = None) -> bytes:
    """An SPL Token mint (82 bytes, spec §3; no Token-2022 extensions)."""
    w = Writer(MINT_LEN, base)
    w.coption_key(0, r.mint_authority)
    w.u64(36, r.supply)
    w.u8(44, r.decimals)
    w.u8(45, int(r.is_initialized))
    w.coption_key(46, r.freeze_authority)
    return w.done()


def _borsh_str(text: str, pad_to: int = 0) -> bytes:
    """A borsh string (u32 LE length + UTF-8), NUL-padded to ``pad_to`` bytes as the
    Metaplex program stores its fixed-width fields (``puff_out_data_fields``)."""
    raw = text.encode()
    raw += bytes(max(0, pad_to - len(raw)))
    return len(raw).to_bytes(4, "little") + raw


def encode_metaplex_metadata(
    mint: str, name: str, symbol: str, uri: str = "", update_authority: str | None = None
) -> bytes:
    """A Metaplex ``Metadata`` account (mpl-token-metadata ``state/metadata.rs``):
    key 4 (MetadataV1), update authority, mint, then ``Data`` — name, symbol and uri
    padded to 32, 10 and 200 bytes — seller fee 0, no creators; primary sale false,
    mutable true, no edition nonce, token standard ``Fungible`` (2), no collection, uses,
    collection details or programmable config; zero-padded to ``MAX_METADATA_LEN`` (679)."""
    for text, most, what in (
        (name, M.MAX_NAME_LENGTH, "name"),
        (symbol, M.MAX_SYMBOL_LENGTH, "symbol"),
        (uri, M.MAX_URI_LENGTH, "uri"),
    ):
        if len(text.encode()) > most:
            raise ValueError(f"{what} {text!r}: at most {most} bytes")
    w = Writer(1 + 64, None)
    w.u8(0, M.METADATA_KEY_V1)
    w.key(1, update_authority or mint)
    w.key(33, mint)
    out = bytearray(w.done())
    out += _borsh_str(name, M.MAX_NAME_LENGTH)
    out += _borsh_str(symbol, M.MAX_SYMBOL_LENGTH)
    out += _borsh_str(uri, M.MAX_URI_LENGTH)
    out += (0).to_bytes(2, "little")  # seller_fee_basis_points
    out += b"\x00"  # creators: None
    out += b"\x00\x01"  # primary_sale_happened false, is_mutable true
    out += b"\x00"  # edition_nonce: None
    out += b"\x01\x02"  # token_standard: Some(Fungible)
    out += b"\x00\x00\x00\x00"  # collection, uses, collection_details, programmable_config
    return bytes(out + bytes(M.MAX_METADATA_LEN - len(out)))


def encode_token_metadata(
    mint: str,
    name: str,
    symbol: str,
    uri: str = "",
    update_authority: str | None = None,
    additional: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """The value of Token-2022's TokenMetadata extension (spl-token-metadata-interface
    ``state.rs``): update authority (zeros for none), mint, name, symbol, uri, then the
    additional (key, value) pairs; strings unpadded."""
    w = Writer(64, None)
    if update_authority is not None:
        w.key(0, update_authority)
    w.key(32, mint)
    out = bytearray(w.done())
    for text in (name, symbol, uri):
        out += _borsh_str(text)
    out += len(additional).to_bytes(4, "little")
    for k, v in additional:
        out += _borsh_str(k) + _borsh_str(v)
    return bytes(out)


def encode_token2022_mint(r: Any, extensions: dict[int, bytes]) -> bytes:
    """A Token-2022 mint with ``extensions`` (type -> value) as TLV entries after the
    base mint padded to 165 bytes and the account type 1 (Mint); no extensions: the
    plain 82 bytes (token-2022 ``interface/src/extension/mod.rs``)."""
    base = encode_mint(r)
    if not extensions:
        return base
    out = bytearray(base + bytes(TOKEN_ACCOUNT_LEN - MINT_LEN)) + b"\x01"
    for kind, value in extensions.items():
        out += kind.to_bytes(2, "little") + len(value).to_bytes(2, "little") + value
    return bytes(out)
