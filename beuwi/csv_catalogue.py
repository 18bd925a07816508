"""Catalogue CSV format v1: one programme per row, parsed with pandas into domain programmes and row errors."""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from beuwi.domain import Programme, Requirements, SubjectError, SubjectList, parse_combination, requirement_ref
from beuwi.domain.text import excerpt

COLUMNS = (
    "code", "programme", "faculty", "department", "degree", "campus", "full_time", "part_time", "evening",
    "duration", "url", "description", "careers", "csec_passes", "cape_passes", "mandatory", "combinations",
)
REQUIRED = ("programme", "faculty")
TEXT = ("department", "degree", "campus", "duration", "description")
FLAGS = {**dict.fromkeys(("yes", "y", "true", "1"), True), **dict.fromkeys(("no", "n", "false", "0", ""), False)}
CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
MB = 1024 * 1024
# Limits that keep a hostile file's cost near a normal one's: a cell's text is checked for its length before anything
# parses or matches it, and an error shows at most this much of a value or a message.
MAX_CELL_CHARS = 4000
MAX_SHOWN_CHARS = 500
# Control characters other than tab and line breaks (which a quoted cell may hold): removed from every cell, so what
# is stored and shown is plain text. NUL rejects the whole file before this.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    column: str  # "" when the problem is the whole row
    value: str
    message: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ParsedCatalogue:
    programmes: list[Programme]
    errors: list[RowError]  # the first `keep_errors` of them, in file order
    error_count: int  # all of them


class CatalogueFileError(ValueError):
    """The whole file is rejected; the message says why."""


def parse_catalogue(data: bytes, *, subjects: SubjectList | None = None, max_bytes: int = 10 * MB,
                    keep_errors: int | None = None) -> ParsedCatalogue:
    """Load every good row and report every problem of every bad row, so one round of fixes is enough. With
    `keep_errors`, only the first that many errors are kept (a file of a million bad cells costs no more memory than
    one of a thousand); every error is still counted."""
    subjects = subjects or SubjectList.default()
    rows = _rows(data, max_bytes)
    taken = {cells["code"] for _, cells in rows if cells["code"]}  # slugs never take a code used anywhere
    programmes, errors, first_name, first_code, count = [], [], {}, {}, 0
    counting = subjects.without_suggestions()  # for errors past those kept: counted, never shown, so no close names
    for number, cells in rows:
        row = _Row(number, cells, counting if keep_errors is not None and len(errors) >= keep_errors else subjects)
        programme = row.programme()
        name, faculty, code = row.cells["programme"], row.cells["faculty"], row.cells["code"]
        if name and faculty:
            earlier = first_name.setdefault((_normal(name), _normal(faculty)), number)
            if earlier != number:
                row.error("programme", name, f"duplicate of row {earlier}: the same programme in the same faculty")
        if code:
            earlier = first_code.setdefault(code, number)
            if earlier != number:
                row.error("code", code, f"the code {code!r} is already used in row {earlier}")
        if row.errors:
            count += len(row.errors)
            if keep_errors is None or len(errors) < keep_errors:
                errors.extend(sorted(row.errors, key=lambda e: COLUMNS.index(e.column) if e.column else -1))
            continue
        if not code:
            programme = dataclasses.replace(programme, id=_unique_slug(name, faculty, taken))
        taken.add(programme.id)
        programmes.append(programme)
    return ParsedCatalogue(programmes, errors[:keep_errors], count)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet run a cell as a formula


def errors_csv(errors: list[RowError]) -> bytes:
    """The row errors for a spreadsheet: UTF-8 with a BOM, so Excel shows accents right, and every cell that starts
    like a formula (or with the quote that escapes one) prefixed with `'`, so an uploaded value such as
    `=HYPERLINK(...)` is shown as text, never run, on the admin's machine. The dashboard strips that quote again."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "value", "message"])
    writer.writerows([e.row, e.column, _as_text(e.value), _as_text(e.message)] for e in errors)
    return out.getvalue().encode("utf-8-sig")


def _as_text(cell: str) -> str:
    return "'" + cell if cell.startswith((*FORMULA_STARTS, "'")) else cell


def _rows(data: bytes, max_bytes: int) -> list[tuple[int, dict[str, str]]]:
    """The non-blank data rows as (spreadsheet row number, cells of every format column), or a file-level error."""
    if len(data) > max_bytes:
        raise CatalogueFileError(f"the file is {len(data) / MB:.3g} MB; the limit is {max_bytes / MB:.3g} MB")
    if b"\x00" in data:
        raise CatalogueFileError("this is not a CSV file (it contains binary data)")
    text = _decode(data)
    if not text.strip():
        raise CatalogueFileError("the file is empty")
    lead = text[: len(text) - len(text.lstrip())]  # pandas cannot skip blank lines before the header itself
    skipped = lead.count("\n") + lead.count("\r") - lead.count("\r\n")
    try:
        frame = pd.read_csv(io.StringIO(text[len(lead):]), header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CatalogueFileError(_parser_message(str(exc), skipped)) from exc
    frame = frame.fillna("").apply(lambda column: column.str.replace(CONTROL, "", regex=True).str.strip())
    frame = frame[frame.astype(bool).any(axis=1)]
    header = [name.lower() for name in frame.iloc[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "none"
        other_separator = len(header) == 1 and re.search(r"[;\t]", header[0])
        hint = "; save the file with commas between columns" if other_separator else ""
        raise CatalogueFileError(f"missing required column(s): {', '.join(missing)} (columns found: {found}){hint}")
    if len(frame) == 1:
        raise CatalogueFileError("the file has a header but no programme rows")
    position = {c: header.index(c) for c in COLUMNS if c in header}
    return [
        (index + skipped + 1, {c: values[position[c]] if c in position else "" for c in COLUMNS})
        for index, values in zip(frame.index[1:], frame.values[1:].tolist())
    ]


def _parser_message(detail: str, skipped: int) -> str:
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if match:
        expected, line, saw = (int(n) for n in match.groups())
        return (f"this is not a readable CSV file: row {line + skipped} has {saw} cells but the header has {expected}"
                " (put quotes around any cell that contains a comma)")
    return f"this is not a readable CSV file ({detail.removeprefix('Error tokenizing data. C error: ').strip()})"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CatalogueFileError("the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8") from exc


class _Row:
    """One data row, collecting every problem it has before deciding whether it loads."""

    def __init__(self, number: int, cells: dict[str, str], subjects: SubjectList):
        self.number, self.subjects, self.errors = number, subjects, []
        self.too_long = [column for column, text in cells.items() if len(text) > MAX_CELL_CHARS]
        for column in self.too_long:
            self.error(column, cells[column], f"a cell is at most {MAX_CELL_CHARS:,} characters; this one has "
                                              f"{len(cells[column]):,}")
        self.cells = {**cells, **dict.fromkeys(self.too_long, "")}  # nothing reads further into them

    def error(self, column: str, value: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, excerpt(value, MAX_SHOWN_CHARS), excerpt(message, MAX_SHOWN_CHARS)))

    def programme(self) -> Programme:
        c = self.cells
        for column in REQUIRED:
            if not c[column] and column not in self.too_long:
                self.error(column, "", f"the {column} is missing")
        if c["code"] and not CODE.match(c["code"]):
            self.error("code", c["code"], "a code may use letters, digits, '-', '_' and '.' (at most 64 characters)")
        if c["url"] and not URL.match(c["url"]):
            self.error("url", c["url"], "the url must start with http:// or https://")
        requirements = Requirements(
            self._count("csec_passes"), self._count("cape_passes"), self._mandatory(),
            tuple(c for _, c in self._each("combinations", lambda text: parse_combination(self.subjects, text))),
        )
        return Programme(
            id=c["code"], name=c["programme"], faculty=c["faculty"], url=c["url"], careers=tuple(_split(c["careers"])),
            requirements=requirements, **{name: c[name] for name in TEXT},
            **{name: self._flag(name) for name in ("full_time", "part_time", "evening")},
        )

    def _mandatory(self) -> tuple:
        refs, seen = [], set()
        for text, ref in self._each("mandatory", lambda text: requirement_ref(self.subjects, text)):
            if ref.subject in seen:
                self.error("mandatory", text, f"{ref.subject} is listed twice")
            seen.add(ref.subject)
            refs.append(ref)
        return tuple(refs)

    def _each(self, column: str, parse) -> list[tuple[str, object]]:
        """(text, parsed) for each `;`-separated item that parses; the others become errors."""
        parsed = []
        for text in _split(self.cells[column]):
            try:
                parsed.append((text, parse(text)))
            except SubjectError as exc:
                self.error(column, text, str(exc))
        return parsed

    def _count(self, column: str) -> int:
        text = self.cells[column]
        if not re.fullmatch(r"(-?[0-9]+)?", text):
            self.error(column, text, f"{column} must be a whole number")
            return 0
        if int(text or 0) < 0:
            self.error(column, text, f"{column} cannot be negative")
            return 0
        return int(text or 0)

    def _flag(self, column: str) -> bool:
        text = self.cells[column]
        if text.lower() not in FLAGS:
            self.error(column, text, f"{column} must be yes or no (also y/n, true/false, 1/0)")
            return False
        return FLAGS[text.lower()]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "programme"


def _unique_slug(name: str, faculty: str, taken: set[str]) -> str:
    """The name's slug; if taken, with the faculty's slug added, then a number."""
    candidate = _slug(name)
    if candidate in taken:
        candidate = base = f"{candidate}-{_slug(faculty)}"
        n = 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
    return candidate
