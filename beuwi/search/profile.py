"""Reading the subjects a student typed into subject references, reporting every bad one at once."""
from __future__ import annotations

from typing import Sequence

from beuwi.domain import SubjectError, SubjectList, SubjectRef
from beuwi.domain.subjects import MAX_REF_CHARS
from beuwi.domain.text import excerpt

ECHO_CHARS = MAX_REF_CHARS + 1  # a whole reference, or the start of a longer text and the mark of its cut


class InvalidProfile(ValueError):
    """The request's subjects cannot be searched; `subjects` says what is wrong with each bad one."""

    def __init__(self, message: str, subjects: Sequence[dict] = ()):
        super().__init__(message)
        self.subjects = list(subjects)


def parse_subjects(texts: Sequence[object], subjects: SubjectList, limit: int) -> list[SubjectRef]:
    """Resolve each text with the canonical list; InvalidProfile names the bad ones (by position) with suggestions."""
    if len(texts) > limit:
        raise InvalidProfile(f"too many subjects: {len(texts)} given, at most {limit} allowed")
    refs, bad = [], []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            # Echoed only when it is a number, true, false or null: a list or an object may be of any size and depth.
            echo = text if isinstance(text, (int, float, bool)) else None
            bad.append({"index": index, "input": echo, "error": "a subject must be a string like 'Chemistry (CSEC)'",
                        "suggestions": []})
            continue
        try:
            refs.append(subjects.ref(text))
        except SubjectError as exc:
            bad.append({"index": index, "input": excerpt(text, ECHO_CHARS), "error": str(exc), "suggestions": list(exc.suggestions)})
    if bad:
        names = ", ".join(repr(b["input"]) for b in bad)
        raise InvalidProfile(f"unknown or malformed subjects: {names}", bad)
    return refs
