"""Tunables: frozen dataclasses whose fields default in code, each settable from the environment
as <PREFIX><FIELD> (COMMERCE_ANOMALY_VOLUME_BAND=0.3), parsed as the field's declared type."""

from __future__ import annotations

import os
from dataclasses import fields
from typing import TypeVar

T = TypeVar("T")
PARSERS = {"int": int, "float": float}


def tunables_from_env(cls: type[T], prefix: str) -> T:
    values = {}
    for field in fields(cls):
        if (raw := os.environ.get(prefix + field.name.upper())) is not None:
            declared = field.type if isinstance(field.type, str) else field.type.__name__
            values[field.name] = PARSERS[declared](raw)
    return cls(**values)
