"""Pipe-separated Annuaire Santé files: a header line, then one row per person × activity.

A :class:`Layout` names each column and says where its value goes (civil identity, exercice,
activity, other ids) or that it is a label to ignore. Rows become :class:`Person` groups,
adjacent rows of one national id forming one group; a bad row becomes a :class:`RejectedItem`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter

from psc_idp.directory.importers import checks
from psc_idp.directory.importers.records import (
    ACTIVITY_COLUMNS,
    ACTIVITY_LENGTHS,
    EXERCICE_LENGTHS,
    Person,
    Rejected,
    RejectedItem,
    check_civil,
    check_lengths,
)
from psc_idp.directory.models import EXERCICE_FIELDS, GIVEN_NAMES_SEPARATOR

NATIONAL_ID = ("nid", "")
ID_TYPE = ("id_type", "")  # Type d'identifiant PP, checked against the national id
LOCAL_ID = ("local_id", "")  # Identifiant PP, likewise
IGNORED = ("ignore", "")
OTHER_IDS = ("other_ids", "")


@dataclass(frozen=True)
class Layout:
    format: str  # "libreacces", "psc-extract"
    variant: str  # e.g. "56 colonnes"
    columns: tuple[tuple[str, tuple[str, str]], ...]  # (header, (kind, field))

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(header for header, _ in self.columns)


def normalise_header(name: str) -> str:
    text = unicodedata.normalize("NFC", name).strip().lower().replace("’", "'")
    return " ".join(text.split())


def split_cells(line: str, expected: int) -> list[str]:
    cells = line.split("|")
    if len(cells) == expected + 1 and cells[-1].strip() == "":
        cells.pop()  # the trailing "|" of the published files
    if len(cells) != expected:
        found = len(cells) - (1 if cells[-1].strip() == "" else 0)
        raise Rejected(f"nombre de colonnes incorrect : {found} au lieu de {expected}")
    return cells


class RowReader:
    """Turns decoded rows of one layout into groups and rejects."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.width = len(layout.columns)
        where = {target: index for index, (_, target) in enumerate(layout.columns)}
        self.nid = where[NATIONAL_ID]
        self.civil = [
            (field, index)
            for index, (_, (kind, field)) in enumerate(layout.columns)
            if kind == "civil"
        ]
        # itemgetter builds the tuples in C; index -1 is the "" appended to each row.
        self.exercice = itemgetter(*(where.get(("exercice", n), -1) for n in EXERCICE_FIELDS))
        self.activity = itemgetter(*(where.get(("activity", n), -1) for n in ACTIVITY_COLUMNS))
        self.other_ids = where.get(OTHER_IDS, -1)
        self.id_type, self.local_id = where.get(ID_TYPE, -1), where.get(LOCAL_ID, -1)

    def row(
        self, position: int, line: str, current: Person | None, verify: bool = True
    ) -> tuple[Person, tuple[str, ...], tuple[str, ...], list[tuple[str, str, int]]]:
        """Read one row of a group (every row of a group has the same national id as
        written): the person (``current`` once the group's first good row made it), its
        exercice, its activity and its other ids. Raises :class:`Rejected`.

        ``verify=False`` leaves out the checks that only accept or refuse (characters,
        identifier types, codes, lengths, Luhn key): for a row already found good by the
        same checks."""
        if verify:
            checks.clean(line)
        cells = list(map(str.strip, split_cells(line, self.width)))
        cells.append("")  # index -1: a column this layout lacks
        exercice, activity = self.exercice(cells), self.activity(cells)
        if verify:
            checks.id_type(cells[self.id_type], cells[self.local_id], cells[self.nid])
            _check_codes(exercice, activity)
        others = checks.other_ids(cells[self.other_ids]) if self.other_ids >= 0 else []
        if current is not None:
            return current, exercice, activity, others  # civil data: the first row's
        civil: dict = {field: cells[index] for field, index in self.civil}
        if verify:
            checks.closed_code("civility", civil.get("civility"))
            checks.closed_code("sex", civil.get("sex"))
        national_id = checks.national_id(cells[self.nid], verify)
        person = Person(national_id, position, self._civil(civil, exercice, verify))
        return person, exercice, activity, others

    @staticmethod
    def _civil(raw: dict, exercice: tuple[str, ...], verify: bool) -> dict:
        # The open-data file has no civil names: the names of practice stand for them.
        names = raw.get("given_names", exercice[4])
        given = GIVEN_NAMES_SEPARATOR.join(n for n in names.split(GIVEN_NAMES_SEPARATOR) if n)
        civil = {
            "civility": raw.get("civility", ""),
            "family_name": raw.get("family_name", exercice[3]),
            "given_names": given,
            "birth_date": checks.birth_date(raw.get("birth_date", "")),
            "sex": raw.get("sex", ""),
            "birth_place": raw.get("birth_place") or None,
            "birth_commune_code": raw.get("birth_commune_code") or None,
            "birth_country_code": raw.get("birth_country_code") or None,
            "email": raw.get("email", ""),
            "phone": raw.get("phone", ""),
        }
        if verify:
            check_civil(civil)
        return civil

    def resolve(
        self, group: RawGroup, verdicts: dict[int, str] | None = None
    ) -> tuple[Person | None, list[RejectedItem]]:
        """Parse the rows of ``group``: the person they describe, and the rows rejected.
        ``verdicts``: the group was checked already, these rows (position: reason) were
        refused and the others found good."""
        current: Person | None = None
        rejected: list[RejectedItem] = []
        verify = verdicts is None
        for position, line in group.lines:
            try:
                if verdicts is not None and position in verdicts:
                    raise Rejected(verdicts[position])
                person, exercice, activity, others = self.row(position, line, current, verify)
            except Rejected as exc:
                rejected.append(RejectedItem(position, _guess_id(line), str(exc)))
                continue
            current = person
            current.add(exercice, activity)
            for other_id in others:
                if other_id not in current.other_ids:
                    current.other_ids.append(other_id)
        return current, rejected

    def groups(self, lines: Iterable[tuple[int, str | None]]) -> Iterator[RawGroup | RejectedItem]:
        """Adjacent rows of one national id (as written) become one group, left unparsed: an
        unchanged person is recognised by the hash of its rows alone. ``None`` is a line that
        did not decode."""
        current: RawGroup | None = None
        for position, line in lines:
            cells = line.split("|", 3) if line is not None else []
            if len(cells) < 4:
                reason = "encodage invalide (UTF-8 attendu)" if line is None else None
                reason = (
                    reason or f"nombre de colonnes incorrect : {len(cells)} au lieu de {self.width}"
                )
                yield RejectedItem(position, _guess_id(line), reason)
                continue
            national_id = cells[2].strip()
            if current is not None and current.national_id == national_id:
                current.lines.append((position, line))
                continue
            if current is not None:
                yield current
            current = RawGroup(national_id, position, [(position, line)], self)
        if current is not None:
            yield current


@dataclass(slots=True)
class RawGroup:
    """The rows of one person as read, parsed only if the person changed.

    A reading process (``pipeline``) may send a group with its digest and the verdict of the
    checks on each of its rows already computed; the reader itself is not sent, the
    receiving side attaches its own."""

    national_id: str  # as written in the file
    position: int
    lines: list[tuple[int, str]]
    reader: RowReader | None
    known_digest: str | None = None
    verdicts: dict[int, str] | None = None  # position: reason, of the rows refused

    @property
    def rows(self) -> int:
        return len(self.lines)

    def absorb(self, other: RawGroup) -> None:
        self.lines.extend(other.lines)
        # Both were of the first rows alone (the civil checks apply to the first good row).
        self.known_digest = self.verdicts = None

    def digest(self) -> str:
        if self.known_digest is None:
            text = "\n".join(line for _, line in self.lines)
            self.known_digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self.known_digest

    def check(self) -> None:
        """Run every check on the rows now, keep only the verdicts (for :meth:`resolve`)."""
        assert self.reader is not None
        _, rejected = self.reader.resolve(self)
        self.verdicts = {item.position: item.reason for item in rejected}

    def resolve(self) -> tuple[Person | None, list[RejectedItem]]:
        assert self.reader is not None
        return self.reader.resolve(self, self.verdicts)

    def __getstate__(self) -> tuple:
        return (self.national_id, self.position, self.lines, self.known_digest, self.verdicts)

    def __setstate__(self, state: tuple) -> None:
        self.national_id, self.position, self.lines, self.known_digest, self.verdicts = state
        self.reader = None


def _check_codes(exercice: tuple[str, ...], activity: tuple[str, ...]) -> None:
    checks.exercice_codes(exercice)
    checks.activity_codes(activity)
    check_lengths(exercice, EXERCICE_LENGTHS, EXERCICE_FIELDS)
    check_lengths(activity, ACTIVITY_LENGTHS, ACTIVITY_COLUMNS)


def _guess_id(line: str | None) -> str:
    # The rejects file names the row's national id when one can be read (3rd column).
    if not line:
        return ""
    cells = line.split("|", 3)
    return cells[2].strip()[:64] if len(cells) > 2 else ""
