"""The checksum of a catalogue version's content, recorded at load and recomputed by every reader.

A count alone misses a programme changed or swapped under a reader; the checksum covers every property of every
programme in load order, as the graph stores it (so the reader hashes the maps it gets back, without rebuilding them).
"""
from __future__ import annotations

import hashlib
import json
from typing import Mapping


class Checksum:
    """sha256 over programme property maps, fed one at a time so a reader never holds them all."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, properties: Mapping) -> None:
        self._hash.update(json.dumps(properties, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
        self._hash.update(b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
