"""The messages between the judge and the subject: plain data only, both ways.

A message is a JSON header plus raw buffers, framed by lengths on a socket:

    uint32 header length, uint32 buffer count, header bytes,
    then per buffer: uint64 length, bytes

Values cross as JSON where JSON can hold them exactly; everything else is tagged:
an array is {"__nd__": buffer index, "dtype", "shape"} over its raw bytes (exact,
like `np.save` with `allow_pickle=False`; a 0-d array keeps its shape ()), a NumPy
scalar is the same under "__np__" and arrives as a NumPy scalar (so a list of them
is still a list of scalars, and `np.asarray` of it is 1-d), a tuple is {"__tuple__": [...]}, a dict
is {"__dict__": [[key, value], ...]} (so no learner dict can pose as a tag), a float
JSON cannot spell is {"__float__": "nan"}, a Keras model is {"__keras__": its plain
form}. Any other object becomes {"__opaque__": its type name}: the judge reports
it and never sees the object. Nothing is ever unpickled, and the reading side
checks every tag, dtype, shape and size, so a subject that writes garbage gets a
`WireError`, not a foothold. A value over the limits (nesting, item count, bytes) is
a `TooLarge` whose text says what was too large.
"""

from __future__ import annotations

import json
import math
import socket
import struct
from typing import Any

import numpy as np

MAX_MESSAGE = 64 * 1024 * 1024  # a learner's return value, all arrays included
MAX_HEADER = 16 * 1024 * 1024  # its JSON part: every str, list and dict
MAX_STRING = 10 * 1024 * 1024  # characters: JSON-encoding more costs seconds
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000  # containers and scalars in one value
_NUMERIC_KINDS = "biufc"
_HEAD = struct.Struct("<II")
_LENGTH = struct.Struct("<Q")


class WireError(Exception):
    """A message that breaks the format, or one too large to accept."""


class TooLarge(WireError):
    """A message over the size limits: what was too large, in words."""


class Opaque:
    """Stands for an object that is not plain data; only its type name crossed."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


# -- encoding (either side) ------------------------------------------------------------


class PlainModel:
    """A Keras model already in its plain form, taken at some earlier moment (a
    snapshot): it crosses as a Keras model does, and arrives as one."""

    __slots__ = ("plain",)

    def __init__(self, plain: dict[str, Any]) -> None:
        self.plain = plain


class _Encoder:
    def __init__(self, keras_to_plain: Any = None) -> None:
        self.buffers: list[bytes] = []
        self.items = 0
        self.keras_to_plain = keras_to_plain

    def array(self, value: np.ndarray, tag: str) -> dict:
        if value.dtype.kind not in _NUMERIC_KINDS or value.dtype.hasobject:
            return {"__opaque__": f"numpy array of dtype {value.dtype}"}
        # tobytes() writes C order whatever the layout; the shape is the value's own,
        # 0-d included (np.ascontiguousarray would have made a 0-d value shape (1,)).
        self.buffers.append(value.tobytes(order="C"))
        return {
            tag: len(self.buffers) - 1,
            "dtype": value.dtype.str,
            "shape": list(value.shape),
        }

    def value(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH:
            raise TooLarge(
                f"it nests lists, tuples or dicts more than {MAX_DEPTH} deep, the most the "
                "grader reads"
            )
        if self.items > MAX_ITEMS:
            raise TooLarge(
                f"it holds more than {MAX_ITEMS:,} items (numbers, strings, lists…), the most "
                "the grader reads in one value: return NumPy arrays rather than long lists"
            )
        kind = type(value)
        if value is None or kind is bool:
            return value
        if kind is str:
            return value if len(value) <= MAX_STRING else {"__opaque__": "str over 10 MB long"}
        if kind is int:
            return value if abs(value) < 2**63 else {"__opaque__": "int too large"}
        if kind is float:
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if kind is np.ndarray:
            return self.array(value, "__nd__")
        if isinstance(value, np.generic) and kind.__module__ == "numpy":
            return self.array(np.asarray(value), "__np__")
        if kind is tuple or kind is list:
            items = [self.value(item, depth + 1) for item in value]
            return {"__tuple__": items} if kind is tuple else items
        if kind is dict:
            return {
                "__dict__": [
                    [self.value(k, depth + 1), self.value(v, depth + 1)] for k, v in value.items()
                ]
            }
        if self.keras_to_plain is not None and is_keras_model(value):
            return {"__keras__": self.value(self.keras_to_plain(value), depth + 1)}
        if kind is PlainModel:
            return {"__keras__": self.value(value.plain, depth + 1)}
        return {"__opaque__": _type_name(value)}


def _type_name(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", None) or getattr(kind, "__name__", "object")
    return name if module in ("builtins", "") else f"{module}.{name}"


def is_keras_model(value: Any) -> bool:
    import sys

    keras = sys.modules.get("keras")
    model = getattr(keras, "Model", None) if keras is not None else None
    return isinstance(model, type) and isinstance(value, model)


def encode(header: dict, keras_to_plain: Any = None, **values: Any) -> tuple[bytes, list[bytes]]:
    """`header` (plain JSON) with each of `values` encoded under its name."""
    encoder = _Encoder(keras_to_plain)
    body = dict(header)
    for name, value in values.items():
        body[name] = encoder.value(value)
    return json.dumps(body, allow_nan=False).encode(), encoder.buffers


def send(sock: socket.socket, header: dict, keras_to_plain: Any = None, **values: Any) -> None:
    send_raw(sock, *encode(header, keras_to_plain, **values))


def send_raw(sock: socket.socket, head: bytes, buffers: list[bytes]) -> None:
    """One framed message: an encoded header and raw buffers (a file's bytes, say)."""
    parts = [_HEAD.pack(len(head), len(buffers)), head]
    for buffer in buffers:
        parts.append(_LENGTH.pack(len(buffer)))
        parts.append(buffer)
    sock.sendall(b"".join(parts))


# -- decoding (the judge never trusts what it reads) --------------------------------------


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> tuple[dict, list[bytes]]:
    """One message: its header (a JSON object) and its raw buffers, sizes bounded."""
    header, buffers, _ = receive_counted(sock)
    return header, buffers


def receive_counted(sock: socket.socket) -> tuple[dict, list[bytes], int]:
    """`receive`, and how many bytes the message took."""
    head_size, count = _HEAD.unpack(_recv_exact(sock, _HEAD.size))
    if head_size > MAX_HEADER:
        raise TooLarge(
            f"a value of {head_size // 2**20} MiB without its arrays (strings, lists, "
            f"dicts), over the {MAX_HEADER // 2**20} MiB limit"
        )
    if count > MAX_ITEMS:
        raise TooLarge(f"{count} arrays in one value, over the {MAX_ITEMS} limit")
    try:
        header = json.loads(_recv_exact(sock, head_size))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"garbled message: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("a message must be a JSON object")
    total, buffers = head_size, []
    for _ in range(count):
        (size,) = _LENGTH.unpack(_recv_exact(sock, _LENGTH.size))
        total += size
        if total > MAX_MESSAGE:
            raise TooLarge(f"a value larger than {MAX_MESSAGE // 2**20} MiB")
        buffers.append(_recv_exact(sock, size))
    return header, buffers, total


class _Decoder:
    def __init__(self, buffers: list[bytes], keras_from_plain: Any) -> None:
        self.buffers = buffers
        self.keras_from_plain = keras_from_plain

    def array(self, tag: dict, index: Any) -> np.ndarray:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise WireError("array refers to a missing buffer")
        try:
            dtype = np.dtype(tag.get("dtype"))
        except TypeError:
            raise WireError("array with an invalid dtype") from None
        shape = tag.get("shape")
        if (
            dtype.kind not in _NUMERIC_KINDS
            or dtype.hasobject
            or not isinstance(shape, list)
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise WireError("array with an invalid dtype or shape")
        data = self.buffers[index]
        if math.prod(shape) * dtype.itemsize != len(data):
            raise WireError("array size does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def value(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH + 2:
            raise TooLarge(f"a value nests lists, tuples or dicts more than {MAX_DEPTH} deep")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is list:
            return [self.value(item, depth + 1) for item in value]
        if type(value) is not dict or len(value) == 0:
            raise WireError("unknown value")
        if "__nd__" in value:
            return self.array(value, value["__nd__"])
        if "__np__" in value:
            return self.array(value, value["__np__"])[()]
        if "__tuple__" in value and type(value["__tuple__"]) is list:
            return tuple(self.value(item, depth + 1) for item in value["__tuple__"])
        if "__dict__" in value and type(value["__dict__"]) is list:
            out = {}
            for pair in value["__dict__"]:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed dict entry")
                key = self.value(pair[0], depth + 1)
                try:
                    out[key] = self.value(pair[1], depth + 1)
                except TypeError:  # an unhashable key (a list)
                    raise WireError("dict key is not hashable") from None
            return out
        if "__float__" in value and value["__float__"] in ("nan", "inf", "-inf"):
            return float(value["__float__"])
        if "__opaque__" in value and type(value["__opaque__"]) is str:
            return Opaque(value["__opaque__"][:200])
        if "__keras__" in value:
            plain = self.value(value["__keras__"], depth + 1)
            if self.keras_from_plain is None:
                return Opaque("keras.Model")
            return self.keras_from_plain(plain)
        raise WireError("unknown tag")


def decode(value: Any, buffers: list[bytes], keras_from_plain: Any = None) -> Any:
    return _Decoder(buffers, keras_from_plain).value(value)


def arrays_in(value: Any) -> list[np.ndarray]:
    """The arrays inside a value, depth first: both sides walk a call's arguments the
    same way, so "the 3rd array" means the same array in the judge and the subject."""
    found: list[np.ndarray] = []

    def walk(item: Any) -> None:
        kind = type(item)
        if kind is np.ndarray:
            found.append(item)
        elif kind is tuple or kind is list:
            for inner in item:
                walk(inner)
        elif kind is dict:
            for inner in item.values():
                walk(inner)

    walk(value)
    return found


def find_opaque(value: Any, path: str = "") -> tuple[str, Opaque] | None:
    """The first non-plain object inside a decoded value, with where it sits."""
    if isinstance(value, Opaque):
        return path, value
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_opaque(item, f"{path}[{index}]")
            if found:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_opaque(item, f"{path}[{key!r}]")
            if found:
                return found
    return None
