"""Inputs as a recording session records them (frames, HTTP accounts, books changed
between copies, sent by several endpoints), for the journal's delta tests: the storage
side's round trips and the engine's encoder checked against the journal's."""

from __future__ import annotations

import base64
import json
import random

from hypothesis import strategies as st

from storage.codec import Kind, json_payload
from storage.delta import MIN_SPAN

PUBKEYS = ["9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", "Ah3ZeTEXH8juRcuRsbCcNkEWrCHZ"]


def account_frame(sub: int, slot: int, data: bytes, sep: str = "") -> bytes:
    """An ``accountNotification`` as a node sends it (``sep``: json.dumps' spaces, as
    the simulator's)."""
    value = {
        "lamports": 633916800,
        "data": [base64.b64encode(data).decode(), "base64"],
        "owner": "opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb",
        "executable": False,
        "rentEpoch": 18446744073709551615,
        "space": len(data),
    }
    frame = {
        "jsonrpc": "2.0",
        "method": "accountNotification",
        "params": {"result": {"context": {"slot": slot}, "value": value}, "subscription": sub},
    }
    seps = (", ", ": ") if sep else (",", ":")
    return json.dumps(frame, separators=seps).encode()


def program_frame(sub: int, slot: int, pubkey: str, data: bytes) -> bytes:
    b64 = base64.b64encode(data).decode()
    return (
        '{"jsonrpc":"2.0","method":"programNotification","params":{"result":{"context":'
        f'{{"slot":{slot}}},"value":{{"pubkey":"{pubkey}","account":{{"data":["{b64}",'
        f'"base64"],"lamports":1}}}}}},"subscription":{sub}}}}}'
    ).encode()


def book(rng: random.Random, size: int) -> bytearray:
    return bytearray(rng.randbytes(size // 4) + bytes(size - size // 4))


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[Kind, int, bytes]]:
    """Inputs as a session records them: books (a few accounts, each changed at random
    bytes between copies, sometimes resized), sent by several endpoints, as account or
    program notifications, HTTP accounts, small frames, and frames that only look like
    notifications (no closing quote, non-canonical base64, no subscription)."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    sizes = [draw(st.sampled_from([MIN_SPAN // 2, 2 * MIN_SPAN, 9000])) for _ in range(3)]
    books = [book(rng, n) for n in sizes]
    out: list[tuple[Kind, int, bytes]] = []
    for step in range(draw(st.integers(1, 40))):
        which = rng.randrange(3)
        b = books[which]
        for _ in range(rng.choice([0, 1, 1, 3, 40])):  # bytes changed since the last copy
            b[rng.randrange(len(b))] = rng.randrange(256)
        if rng.random() < 0.05:
            books[which] = b = book(rng, len(b) + rng.choice([-3, 1, 3]))
        shape = rng.randrange(8)
        ep = rng.randrange(3)
        if shape <= 2:
            out.append((Kind.FRAME, ep, account_frame(100 + which, step, bytes(b), " " * ep)))
        elif shape == 3:
            out.append((Kind.FRAME, ep, program_frame(7, step, PUBKEYS[which % 2], bytes(b))))
        elif shape == 4:
            head = [PUBKEYS[which % 2], "owner", step]
            out.append((Kind.ACCOUNT, 0, json_payload(head, bytes(b))))
        elif shape == 5:  # base64 that b64decode would refuse or normalise
            text = base64.b64encode(bytes(b)).decode().replace("A", "-")[:-1] + "=="
            frame = account_frame(100 + which, step, b"").replace(b'"",', f'"{text}",'.encode())
            out.append((Kind.FRAME, ep, frame))
        elif shape == 6:  # cut short / no subscription / not JSON at all
            frame = account_frame(100 + which, step, bytes(b))
            cut = rng.choice([len(frame) // 2, frame.rfind(b'"subscription"'), 40])
            out.append((Kind.FRAME, ep, frame[:cut] + rng.randbytes(rng.randrange(20))))
        else:
            out.append((Kind.FRAME, ep, b'{"jsonrpc":"2.0","result":%d,"id":1}' % step))
        if rng.random() < 0.3:  # another endpoint's copy of the same notification
            kind, _, payload = out[-1]
            out.append((kind, (ep + 1) % 3, payload))
    return out
