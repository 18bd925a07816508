"""Search answers already sent, kept per worker as JSON bytes.

At results time many students enter the same popular subject sets, and an answer depends only on the catalogue
version and the subjects, so a repeated search costs a dictionary lookup instead of a match and a serialisation.
The cache holds one catalogue version at a time (a newer one empties it) and at most `max_bytes` of answers,
dropping the least recently used first.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Hashable


class AnswerCache:
    def __init__(self, max_bytes: int):
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: str | None = None
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, version: str, key: Hashable) -> bytes | None:
        with self._lock:
            if version != self._version:
                return None
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, version: str, key: Hashable, answer: bytes) -> None:
        if len(answer) > self._max_bytes:
            return
        with self._lock:
            if version != self._version:
                self._answers.clear()
                self._bytes, self._version = 0, version
            if key in self._answers:
                return
            self._answers[key] = answer
            self._bytes += len(answer)
            while self._bytes > self._max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._answers)
