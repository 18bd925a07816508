"""Catalogue CSV format v2: one row per programme, or per scheme of entry of a programme with alternative routes,
parsed with pandas into domain programmes and row errors. A v1 file is a v2 file without the newer columns. An .xlsx
workbook's sheet (beuwi.workbook) is read into the same table of text cells, so one set of row rules reads both."""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from beuwi import workbook
from beuwi.domain import Programme, Requirements, Scheme, SubjectError, SubjectList, parse_combination, requirement_ref
from beuwi.domain.programme import uncounted_subject
from beuwi.domain.text import excerpt

COLUMNS = (
    "code", "programme", "faculty", "department", "degree", "campus", "full_time", "part_time", "evening",
    "duration", "url", "description", "careers", "scheme", "csec_passes", "cape_passes", "cape_units", "mandatory",
    "combinations", "not_counted", "conditions",
)
# A programme's rows (one per scheme) may differ only in these.
SCHEME_COLUMNS = ("scheme", "csec_passes", "cape_passes", "cape_units", "mandatory", "combinations", "not_counted",
                  "conditions")
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
                    keep_errors: int | None = None, filename: str = "") -> ParsedCatalogue:
    """Load every good programme and report every problem of every bad row, so one round of fixes is enough. With
    `keep_errors`, only the first that many errors are kept (a file of a million bad cells costs no more memory than
    one of a thousand); every error is still counted. The file is CSV, or an .xlsx workbook by its content (or its
    `filename`, which only sharpens the message when such a file cannot be read)."""
    subjects = subjects or SubjectList.default()
    rows = _rows(data, max_bytes, filename)
    counting = subjects.without_suggestions()  # for errors past those kept: counted, never shown, so no close names
    catalogue = _Catalogue(keep_errors)
    for number, cells, problems in rows:
        catalogue.add(_Row(number, cells, counting if catalogue.full else subjects, problems))
    return catalogue.parsed()


@dataclass
class _Entry:
    """A programme's rows so far: the first gives its fields, each gives one scheme."""

    rows: list
    bad: bool = False


class _Catalogue:
    """Rows grouped into programmes: by code, or by name and faculty when there is no code."""

    def __init__(self, keep_errors: int | None):
        self.keep, self.errors, self.count = keep_errors, [], 0
        self.entries: dict[tuple, _Entry] = {}
        self.first_name: dict[tuple[str, str], tuple[int, str]] = {}

    @property
    def full(self) -> bool:
        return self.keep is not None and len(self.errors) >= self.keep

    def add(self, row: "_Row") -> None:
        row.read()
        name, faculty, code = row.cells["programme"], row.cells["faculty"], row.cells["code"]
        key = ("code", code) if code else ("name", _normal(name), _normal(faculty))
        if name and faculty:
            earlier, earlier_code = self.first_name.setdefault((_normal(name), _normal(faculty)), (row.number, code))
            if earlier != row.number and earlier_code != code:
                row.error("programme", name, f"duplicate of row {earlier}: the same programme in the same faculty")
        entry = self.entries.get(key)
        if entry is None and (code or (name and faculty)):  # a row without either belongs to no programme
            entry = self.entries[key] = _Entry([row])
        elif entry is not None and self._joins(entry.rows, row, key):
            entry.rows.append(row)
        else:
            entry = None  # a duplicate, refused on its own: the programme it repeats loads
        if row.errors:
            self._report(row.errors)
            if entry is not None:
                entry.bad = True

    def _joins(self, rows: list, row: "_Row", key: tuple) -> bool:
        """Whether a later row of a programme is another scheme of it (with its errors, if any), not a duplicate. Its
        label must be new and its other columns the same as the first row's."""
        first, label = rows[0], row.cells["scheme"]
        same = next((r for r in rows if _normal(r.cells["scheme"]) == _normal(label)), None)
        unlabelled = next((r for r in rows if not r.cells["scheme"]), None)
        if same is not None and not label:
            if key[0] == "code":
                row.error("code", row.cells["code"], f"the code {row.cells['code']!r} is already used in row {same.number}")
            else:
                row.error("programme", row.cells["programme"],
                          f"duplicate of row {same.number}: the same programme in the same faculty")
            return False
        if same is not None:
            row.error("scheme", label, f"scheme {label!r} of this programme is already given in row {same.number}")
            return False
        if unlabelled is not None or not label:
            other = (unlabelled or first).number
            row.error("scheme", label, f"rows {other} and {row.number} give the same programme; give each of its "
                                       "rows a different scheme label (A, B, ...) to make them alternative routes")
        for column in COLUMNS:
            if column in SCHEME_COLUMNS or _normal(row.cells[column]) == _normal(first.cells[column]):
                continue
            row.error(column, row.cells[column], f"differs from row {first.number} ({first.cells[column]!r}) for the "
                                                 "same programme: its rows may differ only in their requirements")
        return True

    def _report(self, errors: list) -> None:
        self.count += len(errors)
        if self.keep is None or len(self.errors) < self.keep:
            self.errors.extend(sorted(errors, key=lambda e: COLUMNS.index(e.column) if e.column else -1))

    def parsed(self) -> ParsedCatalogue:
        taken = {key[1] for key in self.entries if key[0] == "code"}  # slugs never take a code used anywhere
        programmes, late = [], []
        for key, entry in self.entries.items():
            if entry.bad:
                bad = ", ".join(str(r.number) for r in entry.rows if r.errors)
                late.extend(RowError(r.number, "scheme", r.cells["scheme"],
                                     f"not loaded: row {bad} of the same programme has errors") for r in entry.rows
                            if not r.errors)
                continue
            programme = entry.rows[0].fields
            if key[0] == "name":
                programme = dataclasses.replace(programme, id=_unique_slug(programme.name, programme.faculty, taken))
            taken.add(programme.id)
            programmes.append(dataclasses.replace(programme, schemes=tuple(r.scheme for r in entry.rows)))
        if late:
            self._report(late)
            self.errors.sort(key=lambda e: e.row)
        return ParsedCatalogue(programmes, self.errors[:self.keep], self.count)


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


def _rows(data: bytes, max_bytes: int, filename: str) -> list[tuple[int, dict[str, str], dict[str, str]]]:
    """The non-blank data rows as (spreadsheet row number, cells of every format column, the reader's problems by
    column), or a file-level error."""
    if len(data) > max_bytes:
        raise CatalogueFileError(f"the file is {len(data) / MB:.3g} MB; the limit is {max_bytes / MB:.3g} MB")
    if workbook.is_workbook(data, filename):
        try:
            sheet = workbook.read_sheet(data, max_bytes=max_bytes, filename=filename)
        except workbook.WorkbookError as exc:
            raise CatalogueFileError(str(exc)) from exc
        if not sheet.rows:
            raise CatalogueFileError("the sheet is empty")
        numbers, cells = zip(*sheet.rows)
        width = max(map(len, cells))
        return _table(pd.DataFrame([row + [""] * (width - len(row)) for row in cells], index=numbers, dtype=str),
                      sheet.problems)
    return _table(_csv_table(data), {})


def _csv_table(data: bytes) -> pd.DataFrame:
    """The CSV's cells as text, indexed by the row numbers a spreadsheet shows."""
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
    return frame.set_axis(frame.index + skipped + 1)


def _table(frame: pd.DataFrame, problems: dict[tuple[int, int], str]) -> list[tuple[int, dict[str, str], dict]]:
    """The rows of a table of text cells (a CSV's or a sheet's, indexed by row number) under its header row."""
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
        (number, {c: values[position[c]] if c in position else "" for c in COLUMNS},
         {c: problems[number, i] for c, i in position.items() if (number, i) in problems})
        for number, values in zip(frame.index[1:], frame.values[1:].tolist())
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

    def __init__(self, number: int, cells: dict[str, str], subjects: SubjectList, problems: dict[str, str]):
        self.number, self.subjects, self.errors = number, subjects, []
        self.unread = {**{column: f"a cell is at most {MAX_CELL_CHARS:,} characters; this one has {len(text):,}"
                          for column, text in cells.items() if len(text) > MAX_CELL_CHARS}, **problems}
        for column, message in self.unread.items():
            self.error(column, cells[column], message)
        self.cells = {**cells, **dict.fromkeys(self.unread, "")}  # nothing reads further into them

    def error(self, column: str, value: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, excerpt(value, MAX_SHOWN_CHARS), excerpt(message, MAX_SHOWN_CHARS)))

    def read(self) -> None:
        """Read the programme's fields and the scheme this row gives, collecting every problem."""
        c = self.cells
        for column in REQUIRED:
            if not c[column] and column not in self.unread:
                self.error(column, "", f"the {column} is missing")
        if c["code"] and not CODE.match(c["code"]):
            self.error("code", c["code"], "a code may use letters, digits, '-', '_' and '.' (at most 64 characters)")
        if c["url"] and not URL.match(c["url"]):
            self.error("url", c["url"], "the url must start with http:// or https://")
        requirements = Requirements(
            self._count("csec_passes"), self._count("cape_passes"), self._mandatory(),
            tuple(c for _, c in self._each("combinations", lambda text: parse_combination(self.subjects, text))),
            self._count("cape_units"), self._not_counted(),
        )
        self.scheme = Scheme(requirements, c["scheme"], tuple(_split(c["conditions"])))
        self.fields = Programme(
            id=c["code"], name=c["programme"], faculty=c["faculty"], url=c["url"], careers=tuple(_split(c["careers"])),
            **{name: c[name] for name in TEXT}, **{name: self._flag(name) for name in ("full_time", "part_time", "evening")},
        )

    def _not_counted(self) -> tuple:
        found = []
        for text, subject in self._each("not_counted", lambda text: uncounted_subject(self.subjects, text)):
            if subject in found:
                self.error("not_counted", text, f"{subject} is listed twice")
            else:
                found.append(subject)
        return tuple(found)

    def _mandatory(self) -> tuple:
        refs, seen = [], set()
        for text, ref in self._each("mandatory", lambda text: requirement_ref(self.subjects, text)):
            if ref.part in seen:
                self.error("mandatory", text, f"{ref.ungraded} is listed twice")
            seen.add(ref.part)
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
