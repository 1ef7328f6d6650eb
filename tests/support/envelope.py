"""The JSON-RPC envelope cases a node is held to: requests as text and what Agave's RPC
(jsonrpc-core and jsonrpc-http-server) answers them, shared by the simulator's envelope
test (``tests/feeds/sim/test_node_envelope.py``) and the conformance probes
(``tests/support/probes.py``), which send them to the real node too."""

from __future__ import annotations

from typing import Any

INVALID = {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid request"}}
PARSE = {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}


# (request text, what a node answers: a JSON value, or None for an empty body)
CASES: list[tuple[str, Any]] = [
    ('{"jsonrpc":"2.0","method":"getSlot"}', None),
    ('{"jsonrpc":"2.0","method":"getSlot","params":[]}', None),
    ('{"jsonrpc":"2.0","method":"noSuchMethod"}', None),
    ('[{"jsonrpc":"2.0","method":"getSlot"},{"jsonrpc":"2.0","method":"getHealth"}]', None),
    (
        '[{"jsonrpc":"2.0","method":"getSlot"},{"jsonrpc":"2.0","id":"b","method":"getHealth"}]',
        [{"jsonrpc": "2.0", "result": "ok", "id": "b"}],
    ),
    (
        '{"jsonrpc":"2.0","id":null,"method":"getHealth"}',
        {"jsonrpc": "2.0", "result": "ok", "id": None},
    ),
    (
        '{"jsonrpc":"2.0","id":"x-1","method":"getHealth","params":null}',
        {"jsonrpc": "2.0", "result": "ok", "id": "x-1"},
    ),
    (
        '{"id":7,"method":"getHealth"}',
        {"error": {"code": -32600, "message": "Unsupported JSON-RPC protocol version"}, "id": 7},
    ),
    ('{"jsonrpc":"1.0","id":9,"method":"getHealth"}', {**INVALID, "id": 9}),
    ('{"jsonrpc":"2.0","id":8,"method":"getHealth","extra":1}', {**INVALID, "id": 8}),
    ('{"jsonrpc":"2.0","id":8,"method":7}', {**INVALID, "id": 8}),
    ('{"jsonrpc":"2.0","params":[]}', {**INVALID, "id": None}),
    ("[]", None),  # an empty batch: nothing to answer (Agave 3.1.12 answers nothing)
    ('[{"jsonrpc":"2.0","method":"getSlot"},{}]', [{**INVALID, "id": None}]),
    ('{"jsonrpc":"2.0","id":-1,"method":"getHealth"}', PARSE),
    ('{"jsonrpc":"2.0","id":1.5,"method":"getHealth"}', PARSE),
    ('{"jsonrpc":"2.0","id":[1],"method":"getHealth"}', PARSE),
    ('[{"jsonrpc":"2.0","id":1,"method":"getHealth"},5]', PARSE),
    ("5", PARSE),
    ("{nope", PARSE),
    (
        '{"jsonrpc":"2.0","id":3,"method":"getSlot","params":{}}',
        {
            "jsonrpc": "2.0",
            "error": {"code": -32602, "message": "`params` should be an array"},
            "id": 3,
        },
    ),
    (
        '{"jsonrpc":"2.0","id":4,"method":"getBalance","params":["11111111111111111111111111111111",{},1]}',
        {
            "jsonrpc": "2.0",
            "error": {
                "code": -32602,
                "data": '"Got: 3"',
                "message": "Invalid parameters: Expected from 1 to 2 parameters.",
            },
            "id": 4,
        },
    ),
]
