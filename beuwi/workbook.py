"""An uploaded .xlsx workbook's sheet as the text a spreadsheet shows, read with openpyxl without trusting the file.

An upload is at most a few MB, but a zip can claim, or hold, far more once unpacked, and a sheet can place a cell in
its millionth row or column: the zip's declared and actual sizes are capped before openpyxl reads any part, rows and
columns are bounded while reading, and defusedxml (installed with the package) keeps DTDs and entities out of the
XML. Cells read as their saved values: a formula as the value Excel saved for it (a formula without one, or an error
value, is a problem of that cell), a whole number as `5` not `5.0`, a date as ISO text; cells merged down a column
each show the merged value.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

from beuwi.domain.text import excerpt

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = b"PK\x03\x04"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .xls, and any password-protected Office file
SHEET = "programmes"  # the sheet read when there is one; else the first
UNZIPPED_FACTOR = 10  # what a workbook may unpack to, in upload limits
MAX_PARTS = 10_000  # files in the zip (a workbook has a few dozen)
MAX_ROWS = 100_000  # rows with a value
MAX_COLUMNS = 100  # columns read; cells right of column CV are ignored, like unknown columns
LAST_ROW = 1_048_576  # Excel's
MB = 1024 * 1024
SAVE_AGAIN = "save it as .xlsx or CSV"
# A formula cell's element, with or without a namespace prefix: a sheet without one needs no second reading.
FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
MERGE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z0-9:$]{2,32})[\"']")


class WorkbookError(ValueError):
    """The file cannot be read as a workbook; the message says why and what to do."""


@dataclass(frozen=True)
class Sheet:
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, its cells) of each row with a value
    problems: dict[tuple[int, int], str]  # (row number, column index from 0): why that cell has no value to read


def is_xlsx_name(filename: str) -> bool:
    return filename.lower().endswith(".xlsx")


def media_type(filename: str) -> str:
    """The type to store and serve a catalogue file with, as its name says."""
    return MEDIA_TYPE if is_xlsx_name(filename) else "text/csv"


def is_workbook(data: bytes, filename: str = "") -> bool:
    """Whether to read the file as a workbook (and never as CSV): an Office file by its content, or one named so."""
    return data.startswith((ZIP, OLE2)) or filename.lower().endswith((".xlsx", ".xls", ".xlsm"))


def read_sheet(data: bytes, *, max_bytes: int, filename: str = "") -> Sheet:
    """The `programmes` sheet (else the first) of an .xlsx file of at most max_bytes, or WorkbookError."""
    if data.startswith(OLE2):
        raise WorkbookError(f"this is a password-protected or legacy Excel (.xls) workbook: {SAVE_AGAIN} "
                            "(without a password)")
    if not data.startswith(ZIP):
        raise WorkbookError(f"the file is named {filename!r} but is not an Excel .xlsx workbook: {SAVE_AGAIN}")
    formulas, merges = _check_zip(data, UNZIPPED_FACTOR * max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of the parts it does not read (data validation, ...)
            return _sheet(data, formulas, merges)
    except WorkbookError:
        raise
    except Exception as exc:  # a hostile or damaged file can fail anywhere inside openpyxl
        raise WorkbookError(f"this is not a readable .xlsx workbook ({excerpt(str(exc) or type(exc).__name__, 200)})"
                            f": {SAVE_AGAIN}") from exc


def _check_zip(data: bytes, max_unzipped: int) -> tuple[bool, dict[str, set[bytes]]]:
    """Refuse a zip that is not an Office file, or that claims or unpacks to more than max_unzipped bytes; say
    whether any sheet holds a formula, and each sheet part's merged ranges (`A2:A4`)."""
    too_big = (f"the workbook unpacks to more than {max_unzipped / MB:.3g} MB ({UNZIPPED_FACTOR} times the upload "
               "limit): remove what the catalogue does not need (pictures, other sheets) or save it as CSV")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise WorkbookError(f"the workbook holds {len(parts):,} files; an .xlsx file holds a few dozen")
            if "[Content_Types].xml" not in {p.filename for p in parts}:
                raise WorkbookError(f"this is a zip file but not an Excel .xlsx workbook: {SAVE_AGAIN}")
            if sum(p.file_size for p in parts) > max_unzipped:
                raise WorkbookError(too_big)
            left, formulas, merges = max_unzipped, False, {}  # what the parts really unpack to, not what they say
            for part in parts:
                sheet, tail, merged = part.filename.startswith("xl/worksheets/"), b"", set()
                with archive.open(part) as stream:
                    while chunk := stream.read(1 << 16):
                        left -= len(chunk)
                        if left < 0:
                            raise WorkbookError(too_big)
                        if sheet:
                            formulas = formulas or bool(FORMULA_TAG.search(tail + chunk))
                            merged.update(MERGE_TAG.findall(tail + chunk))
                            if len(merged) > MAX_ROWS:
                                raise WorkbookError(f"the sheet merges more than {MAX_ROWS:,} cells")
                        tail = chunk[-256:]
                if sheet:
                    merges[part.filename] = merged
            return formulas, merges
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, EOFError, OSError,
            zlib.error) as exc:
        raise WorkbookError(f"this is not a readable .xlsx workbook (the file is damaged or encrypted: "
                            f"{excerpt(str(exc), 200)}): {SAVE_AGAIN}") from exc


def _sheet(data: bytes, formulas: bool, merges: dict[str, set[bytes]]) -> Sheet:
    rows: dict[int, list[str]] = {}
    problems: dict[tuple[int, int], str] = {}
    with _opened(data, data_only=True) as sheet:
        part = getattr(sheet, "_worksheet_path", "")  # the sheet's part in the zip, as openpyxl found it
        for number, column, cell in _cells(sheet):
            _put(rows.setdefault(number, []), column, _text(cell.value))
            if cell.data_type == "e":
                problems[number, column] = f"cell {_ref(number, column)} shows the error {cell.value}: correct it"
    if formulas:  # read again for the formulas themselves, to find any without a saved value
        with _opened(data, data_only=False) as sheet:
            for number, column, cell in _cells(sheet):
                row = rows.get(number, [])
                if cell.data_type == "f" and (column >= len(row) or not row[column]):
                    formula = str(getattr(cell.value, "text", cell.value))
                    _put(rows.setdefault(number, row), column, formula)
                    problems[number, column] = (f"cell {_ref(number, column)} holds a formula with no saved value "
                                                f"({excerpt(formula, 100)}): open the file in Excel and save it "
                                                "again, or paste the values")
    _fill_merged(rows, problems, merges.get(part.lstrip("/"), ()))
    if len(rows) > MAX_ROWS:
        raise WorkbookError(f"the sheet has more than {MAX_ROWS:,} rows")
    return Sheet(sorted(rows.items()), problems)


def _fill_merged(rows: dict[int, list[str]], problems: dict, ranges) -> None:
    """Each row of cells merged down a column shows the range's value, so it reads it too (a programme's scheme
    rows often share merged code and name cells). Cells merged across columns are a problem: which column the
    value is for cannot be told."""
    filled = 0
    for text in ranges:
        try:
            first_column, first_row, last_column, last_row = range_boundaries(text.decode("ascii"))
        except (ValueError, TypeError):
            continue
        last_column = min(last_column, MAX_COLUMNS)
        filled += max(0, last_row - first_row + 1) * max(0, last_column - first_column + 1)
        if filled > MAX_ROWS:
            raise WorkbookError(f"the sheet merges more than {MAX_ROWS:,} cells")
        top = rows.get(first_row, [])
        value = top[first_column - 1] if first_column - 1 < len(top) else ""
        if not value:
            continue
        for number in range(first_row, last_row + 1):
            for column in range(first_column - 1, last_column):
                if (number, column) != (first_row, first_column - 1):
                    _put(rows.setdefault(number, []), column, value)
                    if last_column > first_column:
                        problems[number, column] = (f"cell {_ref(number, column)} is merged with "
                                                    f"{_ref(first_row, first_column - 1)} across columns: unmerge "
                                                    "them and give each column its own value")


@contextmanager
def _opened(data: bytes, data_only: bool):
    """The `programmes` sheet, else the first, of a workbook opened for streaming."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False)
    try:
        if not book.worksheets:
            raise WorkbookError(f"the workbook has no sheet to read: {SAVE_AGAIN}")
        yield next((s for s in book.worksheets if s.title.strip().casefold() == SHEET), book.worksheets[0])
    finally:
        book.close()


def _cells(sheet):
    """(row number, column index, cell) of each cell with a value in the first MAX_COLUMNS columns."""
    sheet.reset_dimensions()  # the size a file declares may be a lie; iterate what it holds
    seen, gap = 0, None
    for number, cells in enumerate(sheet.iter_rows(max_row=LAST_ROW, max_col=MAX_COLUMNS), start=1):
        if cells is gap:  # openpyxl fills the rows a sheet skips with one empty row: a million cost no more
            continue
        held = [(column, cell) for column, cell in enumerate(cells) if cell.value is not None]
        if not held:
            gap = cells
            continue
        seen += 1
        if seen > MAX_ROWS:
            raise WorkbookError(f"the sheet has more than {MAX_ROWS:,} rows")
        for column, cell in held:
            yield number, column, cell


def _put(row: list[str], column: int, text: str) -> None:
    row.extend([""] * (column + 1 - len(row)))
    row[column] = text


def _ref(number: int, column: int) -> str:
    return f"{get_column_letter(column + 1)}{number}"


def _text(value) -> str:
    """A cell's value as the text it stands for: 5.0 is "5", a date is "2027-09-01", TRUE is "TRUE"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")  # Excel shows 15 digits
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
