"""Catalogue CSV format v1: one programme per row, parsed with pandas into domain programmes and row errors."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import asdict, dataclass

import pandas as pd

from beuwi.domain import Programme, Requirements, SubjectError, SubjectList, parse_combination, requirement_ref

COLUMNS = (
    "code", "programme", "faculty", "department", "degree", "campus", "full_time", "part_time", "evening",
    "duration", "url", "description", "careers", "csec_passes", "cape_passes", "mandatory", "combinations",
)
REQUIRED = ("programme", "faculty")
TEXT = ("department", "degree", "campus", "duration", "description")
FLAGS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False, "": False}
CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ParsedCatalogue:
    programmes: list[Programme]
    errors: list[RowError]


class CatalogueFileError(ValueError):
    """The whole file is rejected; the message says why."""


def parse_catalogue(data: bytes, *, subjects: SubjectList | None = None, max_bytes: int = 10 * 1024 * 1024) -> ParsedCatalogue:
    subjects = subjects or SubjectList.default()
    frame = _frame(data, max_bytes)
    programmes, errors, seen, ids = [], [], {}, set()
    for index, cells in enumerate(frame.to_dict("records")):
        if not any(cells.values()):
            continue
        row = _Row(index + 2, cells, subjects)
        programme = row.programme()
        key = (_normal(cells["programme"]), _normal(cells["faculty"]))
        if cells["programme"] and cells["faculty"] and key in seen:
            row.error("programme", cells["programme"], f"duplicate of row {seen[key]}: same programme in the same faculty")
        if cells.get("code") and cells["code"] in ids:
            row.error("code", cells["code"], "this code is already used by an earlier row")
        if row.errors:
            errors.extend(row.errors)
            continue
        seen[key] = row.number
        programme = _with_unique_id(programme, ids)
        ids.add(programme.id)
        programmes.append(programme)
    return ParsedCatalogue(programmes, errors)


def errors_csv(errors: list[RowError]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "value", "message"])
    writer.writerows([e.row, e.column, e.value, e.message] for e in errors)
    return out.getvalue().encode("utf-8")


def _frame(data: bytes, max_bytes: int) -> pd.DataFrame:
    if len(data) > max_bytes:
        raise CatalogueFileError(f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB")
    if not data.strip():
        raise CatalogueFileError("the file is empty")
    if b"\x00" in data:
        raise CatalogueFileError("this is not a CSV file (it contains binary data)")
    text = _decode(data)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise CatalogueFileError(f"this is not a readable CSV file: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or "none"
        raise CatalogueFileError(f"missing required column(s): {', '.join(missing)} (columns found: {found})")
    frame = frame.loc[:, ~frame.columns.duplicated()]
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[list(COLUMNS)].apply(lambda col: col.str.strip())
    if not frame.map(bool).any(axis=None):
        raise CatalogueFileError("the file has a header but no programme rows")
    return frame


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CatalogueFileError("the file is neither UTF-8 nor Windows-1252 text") from exc


class _Row:
    """One data row, collecting every problem it has before deciding whether it loads."""

    def __init__(self, number: int, cells: dict, subjects: SubjectList):
        self.number, self.cells, self.subjects, self.errors = number, cells, subjects, []

    def error(self, column: str, value: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, value, message))

    def programme(self) -> Programme:
        c = self.cells
        for column in REQUIRED:
            if not c[column]:
                self.error(column, "", f"the {column} name is missing")
        if c["code"] and not CODE.match(c["code"]):
            self.error("code", c["code"], "a code may use letters, digits, '-', '_' and '.', at most 64 characters")
        if c["url"] and not re.match(r"^https?://\S+$", c["url"], re.IGNORECASE):
            self.error("url", c["url"], "the url must start with http:// or https://")
        mandatory = self._each("mandatory", lambda text: requirement_ref(self.subjects, text))
        if len({r.subject for r in mandatory}) != len(mandatory):
            self.error("mandatory", c["mandatory"], "a subject is listed twice")
        requirements = Requirements(
            self._count("csec_passes"), self._count("cape_passes"), tuple(mandatory),
            tuple(self._each("combinations", lambda text: parse_combination(self.subjects, text))),
        )
        return Programme(
            id=c["code"] or _slug(c["programme"]), name=c["programme"], faculty=c["faculty"], url=c["url"],
            careers=tuple(_split(c["careers"])), requirements=requirements,
            **{name: c[name] for name in TEXT}, **{name: self._flag(name) for name in ("full_time", "part_time", "evening")},
        )

    def _each(self, column: str, parse) -> list:
        parsed = []
        for text in _split(self.cells[column]):
            try:
                parsed.append(parse(text))
            except SubjectError as exc:
                self.error(column, text, str(exc))
        return parsed

    def _count(self, column: str) -> int:
        text = self.cells[column]
        if not text:
            return 0
        if not re.fullmatch(r"-?\d+", text):
            self.error(column, text, "must be a whole number")
            return 0
        if int(text) < 0:
            self.error(column, text, "cannot be negative")
            return 0
        return int(text)

    def _flag(self, column: str) -> bool:
        text = self.cells[column]
        if text.lower() not in FLAGS:
            self.error(column, text, "use yes or no (also y/n, true/false, 1/0)")
            return False
        return FLAGS[text.lower()]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "programme"


def _with_unique_id(programme: Programme, taken: set[str]) -> Programme:
    """Codes are unique already; a slug that is taken gets the faculty, then a number."""
    if programme.id not in taken:
        return programme
    base = f"{programme.id}-{_slug(programme.faculty)}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return Programme(**{**programme.__dict__, "id": candidate})
