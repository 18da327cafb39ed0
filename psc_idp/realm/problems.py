"""What a realm file check reports: every problem at once, each at its place in the file.

A place is a path such as ``("clients", 2, "post_logout_redirect_uri")``, printed as
``clients[2].post_logout_redirect_uri``; the line comes from the YAML loader's node marks when
the text was read from a file (JSON is YAML enough for that, most of the time)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

Path = tuple[str | int, ...]


def place_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(racine)"


#: libyaml's safe loader where PyYAML was built with it (its wheels are): a tenth of the pure
#: Python loader's time, which read the demo realm in most of a second at every start.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def suggestion(value: object, known: Iterable[str]) -> str:
    """`` — vouliez-vous dire « x » ?`` when ``value`` is close to a known name, else ``""``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" — vouliez-vous dire « {close[0]} » ?" if close else ""


def line_marks(text: str) -> tuple[dict[Path, int], list[Path]]:
    """The 1-based line of each key and list item of a YAML (or JSON) text, and the keys
    given twice in one mapping (both loaders keep the last one silently). Empty if the text
    cannot be composed (the parse error is then reported elsewhere)."""
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return {}, []
    marks: dict[Path, int] = {}
    duplicates: list[Path] = []
    walked: set[int] = set()

    def walk(node: yaml.Node, path: Path) -> None:
        # An alias shares its anchor's node: walk it once ("billion laughs" stays linear).
        if id(node) in walked:
            return
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                child = (*path, key.value)
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    duplicates.append(child)
                    marks[child] = key.start_mark.line + 1  # the repeated one
                seen.add(key.value)
                marks.setdefault(child, key.start_mark.line + 1)
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                marks.setdefault((*path, index), item.start_mark.line + 1)
                walk(item, (*path, index))

    if root is not None:
        walk(root, ())
    return marks, duplicates


@dataclass
class Problems:
    """Collects the problems of one file; ``marks`` give their lines."""

    source: str = ""
    marks: dict[Path, int] = field(default_factory=dict)
    items: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, path: Path, message: str) -> None:
        self.items.append((path, message))

    def count_under(self, path: Path) -> int:
        return sum(1 for where, _ in self.items if where[: len(path)] == path)

    def line_of(self, path: Path) -> int | None:
        # The nearest marked ancestor: a missing key is reported at its entry's line.
        for end in range(len(path), 0, -1):
            if path[:end] in self.marks:
                return self.marks[path[:end]]
        return None

    def as_list(self) -> list[dict[str, object]]:
        """For scripts (``realm import --json``): place, line (or null) and message."""
        return [
            {"place": place_text(path), "line": self.line_of(path), "message": message}
            for path, message in self.items
        ]

    def lines(self) -> list[str]:
        shown = []
        for path, message in self.items:
            line = self.line_of(path)
            where = place_text(path) + (f" (ligne {line})" if line else "")
            shown.append(f"{where} : {message}")
        return shown


class RealmInvalid(ValueError):
    """The realm file has problems; nothing was applied."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        count = len(problems.items)
        head = (
            f"fichier de realm {problems.source} invalide" if problems.source else "realm invalide"
        )
        plural = "s" if count > 1 else ""
        body = "\n".join(f"  - {line}" for line in problems.lines())
        super().__init__(f"{head} ({count} erreur{plural}, rien n'a été importé) :\n{body}")
