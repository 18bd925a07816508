"""What an answer or an error file echoes of text someone sent: never more than a fixed length."""
from __future__ import annotations


def excerpt(text: str, limit: int) -> str:
    """The text, or its start with `…` marking the cut, in at most `limit` characters."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
