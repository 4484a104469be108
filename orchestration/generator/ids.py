"""Identifier formats. Back-office ids are readable serials; tracker ids are opaque 16-hex-digit strings,
unique because they are a bijection of (kind, store, serial)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .text import fixed_width, hex16, opaque_ids, serial_ids

EVENT, SESSION, DEVICE, CART, BATCH, BOT_DEVICE = range(1, 7)
BROWSE_CART_SERIAL = 1 << 50  # carts of sessions without an order are numbered from here


def tracker_id_bytes(kind: int, store_index: int, serial: np.ndarray) -> np.ndarray:
    return hex16(opaque_ids(kind, store_index, serial))


def tracker_ids(prefix: str, kind: int, store_index: int, serial: np.ndarray) -> pa.StringArray:
    serial = np.asarray(serial)
    return fixed_width(len(serial), prefix.encode(), tracker_id_bytes(kind, store_index, serial))


def backoffice_ids(entity: str, store_id: str, serial: np.ndarray, width: int = 8) -> pa.StringArray:
    """`<entity>-<store>-<zero-padded serial + 1>`, e.g. ord-us-00000001."""
    return serial_ids(f"{entity}-{store_id}-", np.asarray(serial) + 1, width)
