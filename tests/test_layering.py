"""Dependencies point downward only: UI and means → login → directory; protocol → login.

Read from the source (ast), so a lazy import inside a function counts as much as one at the
top of a module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "psc_idp"

#: Package → the packages it must never import.
FORBIDDEN = {
    "psc_idp.protocol": (
        "psc_idp.wallet",
        "psc_idp.means",
        "psc_idp.api_as",
        "psc_idp.devtools",
        "psc_idp.admin",
    ),
    # The request journal stands on the protocol and reads it after the fact; no UI, no means.
    "psc_idp.devtools.journal": (
        "psc_idp.wallet",
        "psc_idp.means",
        "psc_idp.login",
        "psc_idp.admin",
    ),
    # The development tools stand on the protocol; it asks them only through its hooks.
    "psc_idp.devtools.scenarios": ("psc_idp.wallet", "psc_idp.means", "psc_idp.admin"),
    # The APIs' authorization servers stand on the protocol, beside the UI and the means.
    "psc_idp.api_as": ("psc_idp.wallet", "psc_idp.means", "psc_idp.login", "psc_idp.admin"),
    "psc_idp.login": ("psc_idp.protocol", "psc_idp.wallet", "psc_idp.means", "psc_idp.admin"),
    "psc_idp.means": ("psc_idp.protocol", "psc_idp.wallet", "psc_idp.admin"),
    "psc_idp.directory": (
        "psc_idp.protocol",
        "psc_idp.wallet",
        "psc_idp.means",
        "psc_idp.login",
        "psc_idp.admin",
    ),
    # The debugger is a relying party: it reads the registered clients and the scope catalogue,
    # and speaks to the protocol over HTTP only; no login, no means, no wallet page.
    "psc_idp.devtools.debugger": (
        "psc_idp.wallet",
        "psc_idp.means",
        "psc_idp.login.flow",
        "psc_idp.admin",
    ),
    # The admin console is the top layer: it drives the others, none imports it; nor does it
    # reach into the wallet's pages.
    "psc_idp.wallet": ("psc_idp.admin",),
    "psc_idp.admin": ("psc_idp.wallet",),
}
#: Functions that render a page: the UI's business, not the protocol's.
RENDERING = {"render_template", "render_template_string"}
CHANNEL_WORD = re.compile(r"\b(MOBILE|CARD)\b")


def _modules(package: str) -> list[Path]:
    folder = PACKAGE.joinpath(*package.split(".")[1:])
    return sorted(folder.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_upward(package):
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _modules(package)
        for name in sorted(_imports(path))
        if any(_within(name, banned) for banned in FORBIDDEN[package])
    ]
    assert wrong == []


#: The debugger shows the scenarios (read only): it never adds, removes nor applies one.
DEBUGGER_READS = "psc_idp.devtools.scenarios.reading"


def test_the_debugger_only_reads_the_scenarios():
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _modules("psc_idp.devtools.debugger")
        for name in sorted(_imports(path))
        if _within(name, "psc_idp.devtools.scenarios")
        and not _within(name, DEBUGGER_READS)
        and name != "psc_idp.devtools.scenarios"  # the package named by ``from … import``
    ]
    assert wrong == []
    assert not _within("psc_idp.devtools.scenarios.store.add", DEBUGGER_READS)


def test_the_protocol_renders_no_page():
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} uses {name}"
        for path in _modules("psc_idp.protocol")
        for name in sorted(_imports(path))
        if name.rpartition(".")[2] in RENDERING
    ]
    assert wrong == []


def test_no_channel_literal_in_the_protocol():
    """The protocol knows CIBA channels only as the means registered them: not even a comment
    names one (what a grep would show)."""
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in _modules("psc_idp.protocol")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CHANNEL_WORD.search(line)
    ]
    assert wrong == []


def test_the_checks_can_fail(tmp_path):
    """A module importing the UI is reported, and so is a channel named in the protocol."""
    module = tmp_path / "bad.py"
    module.write_text("from psc_idp.wallet.pages import error_page\n")
    assert "psc_idp.wallet.pages" in _imports(module)
    assert CHANNEL_WORD.search('channel = "MOBILE"')
    assert not CHANNEL_WORD.search("CARDINAL mobile")
