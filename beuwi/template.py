"""The catalogue template administrators start from, as CSV and as an .xlsx workbook: every column, one example
programme per kind of requirement, and the column notes. The notes say what README's "Catalogue CSV format v2" table
says (tests/test_template.py holds them to it); the examples are a valid catalogue that `beuwi check` reads clean.
"""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font

from beuwi.csv_catalogue import COLUMNS, REQUIRED

FREE_TEXT = "free text (duration e.g. 3 years)"
FLAG = "yes/no, true/false, 1/0, y/n; blank means no"
NOTES = {
    "code": "stable programme id (letters, digits, -, _, .; at most 64); without it the id is a slug of the name",
    "programme": "programme name, e.g. Computer Science",
    "faculty": "faculty name; results are grouped by it",
    "department": FREE_TEXT, "degree": FREE_TEXT, "campus": FREE_TEXT,
    "full_time": FLAG, "part_time": FLAG, "evening": FLAG,
    "duration": FREE_TEXT,
    "url": "an http(s):// link to the programme page",
    "description": FREE_TEXT,
    "careers": ";-separated, e.g. Software developer; Data analyst",
    "scheme": "a label (A, B, Associate degree, ...): rows with the same code (or, without codes, the same programme "
              "and faculty) and different labels are alternative routes into one programme, which is open to a "
              "student who meets any of them",
    "csec_passes": "how many CSEC passes / whole CAPE subjects the scheme needs (integers, default 0)",
    "cape_passes": "how many CSEC passes / whole CAPE subjects the scheme needs (integers, default 0)",
    "cape_units": "how many CAPE units it needs over all subjects (a whole two-unit subject counts 2)",
    "mandatory": ";-separated subject references that must all be met",
    "combinations": ";-separated groups N of A | B | C: at least N of the options must be met",
    "not_counted": ";-separated subjects (Caribbean Studies (CAPE); Communication Studies (CAPE)) that do not count "
                   "toward csec_passes, cape_passes or cape_units of this scheme; they may still meet its mandatory "
                   "subjects and combinations",
    "conditions": ";-separated conditions no exam shows (Interview; Portfolio; Minimum age 17): shown to the "
                  "student, never checked",
}
REFERENCES = (  # how a subject reference is written: README's second table
    ("Chemistry (CSEC), Chemistry (CSEC:II)", "a CSEC pass (grades I-VI, I-III pass), at grade II or better"),
    ("Chemistry (CAPE), Chemistry (CAPE:II)", "the whole CAPE subject: both units, or the one unit of a one-unit "
     "subject (Caribbean Studies, Communication Studies, Integrated Mathematics); its grade is the worse of its "
     "units' (I-VII, I-V pass)"),
    ("Pure Mathematics (CAPE U1), Pure Mathematics (CAPE U2:III)", "one CAPE unit of a two-unit subject"),
    ("Chemistry (GCE O:B), Chemistry (GCE A:C)", "a GCE O-Level (grades A-E, U; A-C pass) or A-Level (A*-E pass, U)"),
    ("Associate Degree (GPA:2.5)", "an associate degree with a GPA of at least 2.5 (0.0-4.3)"),
)
COUNTS = ("csec_passes", "cape_passes", "cape_units")  # numbers in the workbook, as a typed-in count would be
_SCIENCE = "Science and Technology"
_NOT_COUNTED = "Caribbean Studies (CAPE); Communication Studies (CAPE)"
# One programme per kind of requirement; a programme's rows repeat its fields and differ in their scheme columns.
EXAMPLES = (
    dict(code="EX-BSC-CS", programme="Computer Science", faculty=_SCIENCE, department="Computing", degree="BSc",
         campus="Mona", full_time="yes", part_time="yes", duration="3 years",
         url="https://www.example.edu/computer-science", careers="Software developer; Data analyst",
         description="Example: mandatory subjects with a minimum grade (CSEC:II) and a combination (1 of A | B). "
                     "Each column's note: the notes sheet of template.xlsx, or README, Catalogue CSV format v2.",
         csec_passes="5", cape_passes="2", mandatory="English A (CSEC:III); Mathematics (CSEC:II)",
         combinations="1 of Pure Mathematics (CAPE) | Computer Science (CAPE:III)"),
    dict(code="EX-BSC-EE", programme="Electrical Engineering", faculty="Engineering", degree="BSc",
         campus="St. Augustine", full_time="yes", duration="4 years",
         description="Example: CAPE units counted over all subjects (cape_units) and single CAPE units (U1, U2).",
         csec_passes="5", cape_units="6", mandatory="Pure Mathematics (CAPE U1); Physics (CAPE U2:III)"),
    dict(code="EX-BSC-CHEM", programme="Chemistry", faculty=_SCIENCE, degree="BSc", campus="Cave Hill",
         full_time="yes", part_time="yes", evening="yes", duration="3 years",
         description="Example: GCE O-Level and A-Level passes, which also meet their CSEC and CAPE equivalents.",
         csec_passes="5", cape_passes="2", mandatory="Mathematics (GCE O:B); Chemistry (GCE A:C)"),
    *(dict(code="EX-MBBS", programme="Medicine and Surgery", faculty="Medical Sciences", degree="MBBS",
           campus="Mona", full_time="yes", duration="5 years",
           description="Example: two schemes (A, B), alternative routes with their own requirements and conditions; "
                       "Caribbean Studies and Communication Studies do not count toward the passes (not_counted).",
           careers="Physician", csec_passes="5", cape_passes="3", not_counted=_NOT_COUNTED, **scheme)
      for scheme in (
          dict(scheme="A", mandatory="Chemistry (CAPE); Biology (CAPE)",
               combinations="1 of Physics (CAPE) | Pure Mathematics (CAPE)", conditions="Interview"),
          dict(scheme="B", mandatory="Chemistry (CAPE); Biology (CAPE); Physics (CSEC:II)",
               combinations="2 of History (CAPE) | Sociology (CAPE) | Economics (CAPE)",
               conditions="Interview; Minimum age 17"))),
    *(dict(code="EX-BSC-MGMT", programme="Management Studies", faculty="Social Sciences", degree="BSc",
           campus="Mona", full_time="yes", evening="yes", duration="3 years",
           description="Example: an associate degree with a minimum GPA as a scheme of its own.", **scheme)
      for scheme in (
          dict(scheme="CAPE", csec_passes="5", cape_passes="2", mandatory="English A (CSEC); Mathematics (CSEC)"),
          dict(scheme="Associate degree", mandatory="Associate Degree (GPA:2.5)"))),
)
FORMATS = ("csv", "xlsx")


def rows() -> list[list[str]]:
    """The header and the example rows, as text."""
    return [list(COLUMNS), *([example.get(column, "") for column in COLUMNS] for example in EXAMPLES)]


def as_csv() -> bytes:
    """UTF-8 with a BOM, as Excel's "CSV UTF-8" is (and as the errors file is)."""
    out = io.StringIO()
    csv.writer(out).writerows(rows())
    return out.getvalue().encode("utf-8-sig")


def as_xlsx() -> bytes:
    """Sheet `programmes` (the header, each cell with its note as a comment, and the examples) and sheet `notes`
    (each column's note and an example value, then how subject references are written)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "programmes"
    header, *examples = rows()
    sheet.append(header)
    for values in examples:
        sheet.append([int(v) if c in COUNTS and v else v for c, v in zip(header, values)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.comment = Comment(_note(cell.value), "BeUWI", width=320, height=140)
        sheet.column_dimensions[cell.column_letter].width = max(12, len(cell.value) + 4)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("notes")
    notes.append(["column", "required", "meaning", "example"])
    for column in COLUMNS:
        notes.append([column, "yes" if column in REQUIRED else "no", NOTES[column],
                      next((e[column] for e in EXAMPLES if e.get(column)), "")])
    notes.append([])
    notes.append(["reference", "means"])
    for reference in REFERENCES:
        notes.append(list(reference))
    for row in (1, len(COLUMNS) + 3):
        for cell in notes[row]:
            cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (28, 10, 90, 50)):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(kind: str) -> bytes:
    return {"csv": as_csv, "xlsx": as_xlsx}[kind]()


def _note(column: str) -> str:
    return f"{column}{' (required)' if column in REQUIRED else ''}: {NOTES[column]}"

