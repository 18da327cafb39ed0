"""Small checks shared by the realm file's sections; each reports into ``Problems``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from psc_idp.realm.problems import Path, Problems, suggestion


def is_mapping(problems: Problems, value: Any, path: Path) -> bool:
    if isinstance(value, dict):
        return True
    problems.add(path, "doit être un dictionnaire (clé: valeur).")
    return False


def is_list(problems: Problems, value: Any, path: Path) -> bool:
    if isinstance(value, list):
        return True
    problems.add(path, "doit être une liste.")
    return False


def known_keys(problems: Problems, mapping: dict[Any, Any], path: Path, allowed: Iterable[str]):
    """Unknown (often misspelt) keys are errors: an ignored key breaks something later."""
    allowed = list(allowed)
    for key in mapping:
        if key not in allowed:
            problems.add((*path, str(key)), f"clé inconnue{suggestion(key, allowed)}")


def one_of(problems: Problems, value: Any, path: Path, allowed: Iterable[str]) -> bool:
    allowed = list(allowed)
    if value in allowed:
        return True
    hint = suggestion(value, allowed) or f" (valeurs possibles : {', '.join(allowed)})"
    problems.add(path, f"valeur « {value} » inconnue{hint}")
    return False


def strings(problems: Problems, value: Any, path: Path) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    problems.add(path, "doit être une liste de chaînes.")
    return None


def optional_strings(
    problems: Problems, mapping: dict[Any, Any], path: Path, keys: Iterable[str]
) -> None:
    """Each of ``keys`` that ``mapping`` gives (not null) is a list of strings."""
    for key in keys:
        if mapping.get(key) is not None:
            strings(problems, mapping[key], (*path, key))


def unique_name(
    problems: Problems,
    value: Any,
    path: Path,
    pattern: re.Pattern[str],
    seen: dict[str, int],
    rule: str,
) -> None:
    """A section's naming key (an API's audience, a provider's alias): matching ``pattern``
    (``rule`` says how, in French) and not given twice in the section (``seen``: name → index,
    updated). ``path`` ends with (section, index, key)."""
    section, index = path[-3], path[-2]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.add(path, f"obligatoire : {rule}")
    elif value in seen:
        problems.add(path, f"« {value} » déjà défini en {section}[{seen[value]}].")
    else:
        seen[value] = int(index)


def boolean(problems: Problems, value: Any, path: Path) -> None:
    if not isinstance(value, bool):
        problems.add(path, "doit valoir true ou false.")


def text(problems: Problems, value: Any, path: Path) -> None:
    if not isinstance(value, str):
        problems.add(path, "doit être une chaîne (mettez-la entre guillemets).")


def no_control_characters(
    problems: Problems, value: Any, path: Path, seen: set[int] | None = None
) -> None:
    """A NUL (or another control character but tab and newlines) in any key or value: no
    column stores it (PostgreSQL refuses a NUL outright), and none is ever meant. YAML
    aliases share one object: each is looked at once."""
    seen = set() if seen is None else seen
    if isinstance(value, dict | list):
        if id(value) in seen:
            return
        seen.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            no_control_characters(problems, key, (*path, str(key)), seen)
            no_control_characters(problems, item, (*path, str(key)), seen)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            no_control_characters(problems, item, (*path, index), seen)
    elif isinstance(value, str) and any(_is_control(c) for c in value):
        problems.add(path, "contient un caractère de contrôle (NUL…) : retirez-le.")


def _is_control(character: str) -> bool:
    return (ord(character) < 32 and character not in "\t\n\r") or character == "\x7f"
