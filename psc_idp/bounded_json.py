"""JSON parsing with a bounded nesting depth.

The standard parser recurses once per level: a few thousand ``[`` exhaust the interpreter's
stack (``RecursionError``, not ``ValueError``, so no caller expects it). The depth is measured
first, without recursion, and anything deeper than any real document is refused."""

from __future__ import annotations

import json
import re
from typing import Any

#: Far above any token, request object or device call (they nest three or four levels).
MAX_DEPTH = 32

# String literals (escapes included) are skipped, so a "[" inside a string does not count.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def depth(text: str | bytes) -> int:
    """The deepest nesting of arrays and objects in ``text`` (0 for a scalar)."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8", "replace")
    level = deepest = 0
    for match in _TOKENS.finditer(text):
        char = match.group()
        if char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    return deepest


def too_deep(text: str | bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``text`` nests deeper than ``max_depth``. Counting brackets first (in C) settles
    nearly every real document without scanning it: fewer openings than the limit cannot nest
    beyond it. This runs on every token of the UserInfo and introspection hot paths."""
    if isinstance(text, str):
        openings = text.count("[") + text.count("{")
    else:
        openings = text.count(b"[") + text.count(b"{")
    return openings > max_depth and depth(text) > max_depth


def loads(text: str | bytes, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads``, raising ``ValueError`` for a document nested deeper than ``max_depth``."""
    if too_deep(text, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text, **kwargs)
