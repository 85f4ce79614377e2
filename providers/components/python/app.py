"""`database:kv` as a component provider written in Python (componentize-py).

`Get`, `Set` and `Delete` over a dict kept in the warm instance (gone when the host recycles
the instance: a cache, not storage). Payloads: `Get` and `Delete` take the key; `Set` takes
the key, a NUL byte, then the value. Same contract and error texts as the Rust example in
providers/components/kv.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import (
    CallInfo,
    Error_Failure,
    Error_InvalidInput,
    Error_UnknownOperation,
    Failure,
)

_MAP: dict[bytes, bytes] = {}


def _get(key: bytes) -> bytes:
    value = _MAP.get(key)
    if value is None:
        raise Err(Error_Failure(Failure(message="key not found", payload=key)))
    return value


def _set(payload: bytes) -> bytes:
    split = payload.find(b"\0")
    if split < 0:
        raise Err(Error_InvalidInput("Set expects key, NUL, value"))
    if split == 0:
        raise Err(Error_InvalidInput("empty key"))
    _MAP[payload[:split]] = payload[split + 1 :]
    return b""


def _delete(key: bytes) -> bytes:
    _MAP.pop(key, None)
    return b""


_OPERATIONS = {"Get": _get, "Set": _set, "Delete": _delete}


class Handler(exports.Handler):
    """The `handler` export: dispatch on the operation name."""

    def handle(self, call: CallInfo, payload: bytes) -> bytes:
        operation = _OPERATIONS.get(call.operation)
        if operation is None:
            raise Err(Error_UnknownOperation())
        return operation(bytes(payload))
