"""Vectorised string building: ids, timestamps, decimals and JSON fragments as Arrow string arrays.

Fixed-width strings are assembled as byte matrices in numpy and handed to Arrow without copying;
variable-width ones come from small lookup tables (`take`) or Arrow's element-wise joins."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .clock import NA, date_bytes, iso_bytes

_HEX4 = np.frombuffer(b"".join(f"{i:04x}".encode() for i in range(1 << 16)), dtype=np.uint32)
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def fixed_width(n: int, *parts: bytes | np.ndarray, valid: np.ndarray | None = None) -> pa.StringArray:
    """Concatenate constant byte strings and (n, w) byte matrices row by row into n strings."""
    matrices = [
        np.broadcast_to(np.frombuffer(p, dtype=np.uint8), (n, len(p))) if isinstance(p, bytes) else p for p in parts
    ]
    data = np.ascontiguousarray(np.concatenate(matrices, axis=1))
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(data.shape[1])
    bitmap = None
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data), bitmap)


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijection on 64-bit integers, so distinct inputs give distinct ids that
    look random."""
    x = np.asarray(values).astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9) & _MASK64
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB) & _MASK64
    return x ^ (x >> np.uint64(31))


def hex16(values: np.ndarray) -> np.ndarray:
    """16 lowercase hex digits per value, as an (n, 16) byte matrix (four 16-bit table lookups)."""
    words = np.asarray(values, dtype=np.uint64).astype(">u8").view(">u2").reshape(-1, 4)
    return _HEX4[words].view(np.uint8).reshape(-1, 16)


def opaque_ids(kind: int, store: int, serial: np.ndarray) -> np.ndarray:
    """Scrambled 64-bit ids, unique per (kind, store, serial) with serial < 2**54."""
    raw = (np.uint64(kind) << np.uint64(59)) | (np.uint64(store) << np.uint64(54))
    return mix64(raw | np.asarray(serial, dtype=np.uint64))


def serial_ids(prefix: str, serial: np.ndarray, width: int) -> pa.StringArray:
    """Readable ids like `ord-us-00001234`."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(serial, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def int_strings(values: np.ndarray) -> pa.StringArray:
    values = np.asarray(values, dtype=np.int64)
    return pc.cast(pa.array(values, mask=values == NA), pa.string())


def decimal_strings(units: np.ndarray, scale: int) -> pa.StringArray:
    """Integers counted in 10**-scale render as plain decimals with exactly `scale` digits: 1250 -> 12.50."""
    units = np.asarray(units, dtype=np.int64)
    missing = units == NA
    magnitude = np.abs(np.where(missing, 0, units))
    whole, frac = np.divmod(magnitude, 10**scale)
    sign = pa.array(np.where(units < 0, "-", ""))
    frac_text = pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), scale, "0")
    text = pc.binary_join_element_wise(sign, pc.cast(pa.array(whole), pa.string()), ".", frac_text, "")
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text) if missing.any() else text


def iso_strings(ms: np.ndarray) -> pa.StringArray:
    ms = np.asarray(ms, dtype=np.int64)
    valid = ms != NA
    return fixed_width(len(ms), iso_bytes(np.where(valid, ms, 0)), valid=valid)


def date_strings(days: np.ndarray) -> pa.StringArray:
    days = np.asarray(days, dtype=np.int64)
    valid = days != NA  # an open end of a validity period
    return fixed_width(len(days), date_bytes(np.where(valid, days, 0)), valid=valid)


def bool_strings(values: np.ndarray) -> pa.StringArray:
    return pa.array(["false", "true"]).take(pa.array(np.asarray(values, dtype=np.int8)))


def joined_bytes(lines: pa.StringArray) -> pa.Buffer:
    """The bytes of all strings of an array back to back (Arrow keeps them contiguous)."""
    if not len(lines):
        return pa.py_buffer(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return lines.buffers()[2][int(offsets[0]) : int(offsets[-1])]


def take_strings(table: list[str] | pa.Array, codes: np.ndarray) -> pa.DictionaryArray:
    """Strings by index, kept as a dictionary array (cheap to hold and to concatenate); a negative
    code gives null."""
    table = table if isinstance(table, pa.Array) else pa.array(table, pa.string())
    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0, type=pa.int32()), table)
