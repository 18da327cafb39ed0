"""FHIR resources out of a JSON file in constant memory, whatever its size.

A file holds a searchset Bundle, several Bundles (one after the other or in an array), bare
resources, or one resource per line (NDJSON). The parser (ijson, its C backend) reads the file
in chunks; only one resource at a time is built in memory, never the Bundle around it: the
``entry`` array of a Bundle is walked entry by entry, each ``resource`` handed over as soon as
it is complete. Malformed JSON, a file not in UTF-8 or nesting deeper than :data:`MAX_DEPTH`
raise :class:`FhirJsonError` with a French message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

#: Deeper nesting than any Annuaire Santé resource has (about 8): refused, not parsed.
MAX_DEPTH = 64
_BOM = b"\xef\xbb\xbf"
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")

Events = Iterator[tuple[str, Any]]
Kinds = frozenset[str] | None


class FhirJsonError(ValueError):
    """The JSON cannot be read; the message is French."""


class _Counting:
    """A binary reader that counts what it hands over, and drops a leading BOM."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.count, self.first = raw, 0, True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if self.first and data:
            self.first = False
            if data.startswith(_BOM):
                self.count += len(_BOM)
                data = data[len(_BOM) :]
        self.count += len(data)
        return data


def _build(events: Events, event: str, value: Any, depth: int) -> Any:
    """The whole JSON value that starts with (event, value). A loop of its own rather than
    ijson's ObjectBuilder: this is where an import spends its parsing time."""
    if event == "start_map":
        root: Any = {}
    elif event == "start_array":
        root = []
    else:
        return value
    stack = [root]
    key = None  # the key of the value that follows, in the map on top of the stack
    for event, value in events:
        if event == "map_key":
            key = value
            continue
        top = stack[-1]
        if event == "start_map" or event == "start_array":
            child: Any = {} if event == "start_map" else []
            if type(top) is dict:
                top[key] = child
            else:
                top.append(child)
            stack.append(child)
            if depth + len(stack) > MAX_DEPTH:
                raise FhirJsonError("JSON trop profondément imbriqué.")
        elif event == "end_map" or event == "end_array":
            stack.pop()
            if not stack:
                return root
        elif type(top) is dict:
            top[key] = value
        else:
            top.append(value)
    raise FhirJsonError("JSON illisible : fin de fichier inattendue.")


def _skip(events: Events, event: str, depth: int) -> None:
    """Past the value that starts with ``event`` (bounded in depth like any other)."""
    if event not in _OPEN:
        return
    level = 1
    for event, _ in events:
        if event in _OPEN:
            level += 1
            if depth + level > MAX_DEPTH:
                raise FhirJsonError("JSON trop profondément imbriqué.")
        elif event in _CLOSE:
            level -= 1
            if level == 0:
                return


def _entries(events: Events, depth: int, kinds: Kinds) -> Iterator[dict[str, Any]]:
    """The resources of a Bundle's ``entry`` array (the start_array already read)."""
    for event, _ in events:
        if event == "end_array":
            return
        if event != "start_map":  # an entry that is not an object holds no resource
            _skip(events, event, depth + 1)
            continue
        for event, value in events:
            if event == "end_map":
                break
            # map_key: the value follows
            inner, inner_value = next(events)
            if value == "resource":
                yield from _value(events, inner, inner_value, depth + 2, kinds)
            else:
                _skip(events, inner, depth + 2)


def _value(
    events: Events, event: str, value: Any, depth: int, kinds: Kinds
) -> Iterator[dict[str, Any]]:
    """The resources in the value that starts with (event, value): itself if it is one, the
    entries of a Bundle, the items of an array. A resource whose type is not in ``kinds``
    (when given) is passed over without being built, once its ``resourceType`` is read."""
    if depth > MAX_DEPTH:
        raise FhirJsonError("JSON trop profondément imbriqué.")
    if event == "start_array":
        for event, value in events:
            if event == "end_array":
                return
            yield from _value(events, event, value, depth + 1, kinds)
        return
    if event != "start_map":
        return  # a bare number or string: no resource
    head: dict[str, Any] = {}
    for event, key in events:
        if event == "end_map":
            break
        inner, inner_value = next(events)
        if key == "entry" and inner == "start_array":
            yield from _entries(events, depth + 1, kinds)
            continue
        head[key] = _build(events, inner, inner_value, depth + 1)
        wanted = kinds is None or inner_value in kinds or inner_value == "Bundle"
        if key == "resourceType" and isinstance(inner_value, str) and not wanted:
            _skip(events, "start_map", depth)  # the rest of this resource
            return
    if head.get("resourceType") != "Bundle" and isinstance(head.get("resourceType"), str):
        yield head


def resources(raw: BinaryIO, kinds: Kinds = None) -> tuple[Iterator[dict[str, Any]], _Counting]:
    """The resources of the file, one at a time (only those of ``kinds`` if given), and the
    reader (``count``: bytes read)."""
    reader = _Counting(raw)

    def walk() -> Iterator[dict[str, Any]]:
        events = iter(ijson.basic_parse(reader, multiple_values=True, use_float=True))
        try:
            for event, value in events:
                yield from _value(events, event, value, 0, kinds)
        except ijson.JSONError as exc:
            text = str(exc)
            if "UTF8" in text or "utf-8" in text.lower():
                raise FhirJsonError("Fichier FHIR illisible : il n'est pas en UTF-8.") from None
            first = text.strip().splitlines()[0] if text.strip() else "fin de fichier inattendue"
            raise FhirJsonError(f"JSON illisible ({first}).") from None
        except (StopIteration, RuntimeError):
            raise FhirJsonError("JSON illisible : fin de fichier inattendue.") from None
        except UnicodeDecodeError:
            raise FhirJsonError("Fichier FHIR illisible : il n'est pas en UTF-8.") from None

    return walk(), reader
