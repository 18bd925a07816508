"""An upload's row errors as JSON, read back from the errors file it keeps (`errors_csv`): the `'` that file puts
before every cell starting like a formula or with a quote is taken off again, so the values are the cells as
uploaded. One file serves both: the spreadsheet download and this answer cannot disagree."""
from __future__ import annotations

import csv
import io

from beuwi.csv_catalogue import RowError

from . import uploads


def read(data: bytes) -> list[RowError]:
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(rows, None)  # the header
    return [RowError(int(row), column, _unescaped(value), _unescaped(message)) for row, column, value, message in rows]


def _unescaped(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def answer(stores: uploads.Stores, upload_id: str) -> dict:
    """`{"upload", "errors": [{"row", "column", "value", "message"}], "count", "kept"}`: `count` row errors were
    found, the first `kept` of them are listed."""
    record = stores.meta.get(upload_id)
    errors = read(uploads.read_file(stores, upload_id, uploads.errors_name(upload_id)))
    return {"upload": upload_id, "errors": [e.as_dict() for e in errors], "count": record.errors,
            "kept": record.errors_kept}
