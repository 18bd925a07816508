"""Catalogue CSV format v1: the public contract administrators write to."""
import codecs
import csv
import io
import time
from pathlib import Path

import pytest
from hypothesis import given, settings

from beuwi.csv_catalogue import COLUMNS, CatalogueFileError, RowError, errors_csv, parse_catalogue
from beuwi.domain import Scheme, SubjectError, SubjectList

from .strategies import catalogues

README = Path(__file__).resolve().parent.parent / "README.md"
HEADER = "code,programme,faculty,csec_passes,cape_passes,mandatory,combinations,evening"


def parse(text: str, **options):
    return parse_catalogue(text.encode("utf-8"), **options)


def errors(text: str):
    return [(e.row, e.column, e.value) for e in parse(text).errors]


def only_error(text: str) -> RowError:
    result = parse(text)
    assert result.programmes == []
    [error] = result.errors
    return error


def test_a_full_row_becomes_a_programme():
    text = (
        "Code,Programme,Faculty,Department,Degree,Campus,Full_Time,Part_Time,Evening,Duration,URL,Description,"
        "Careers,CSEC_Passes,CAPE_Passes,Mandatory,Combinations\n"
        "SCI-CS,Computer Science,Science and Technology,Computing,BSc,Mona,yes,N,TRUE,3 years,"
        "https://example.edu/cs,\"Programs, proofs.\",Developer; Analyst ;,5,2,"
        "English A (CSEC); mathematics (csec),1 of Pure Mathematics (CAPE:III) | Computer Science (CAPE); "
        "2 of Biology (CSEC) | Chemistry (CSEC) | Physics (CSEC)\n"
    )
    result = parse(text)
    assert result.errors == []
    [p] = result.programmes
    assert (p.id, p.name, p.faculty, p.department, p.degree, p.campus) == (
        "SCI-CS", "Computer Science", "Science and Technology", "Computing", "BSc", "Mona")
    assert (p.full_time, p.part_time, p.evening) == (True, False, True)
    assert (p.duration, p.url, p.description) == ("3 years", "https://example.edu/cs", "Programs, proofs.")
    assert p.careers == ("Developer", "Analyst")
    [scheme] = p.schemes
    assert scheme.as_text() == {
        "label": "", "csec_passes": 5, "cape_passes": 2, "cape_units": 0,
        "mandatory": ["English A (CSEC)", "Mathematics (CSEC)"],
        "combinations": ["1 of Pure Mathematics (CAPE:III) | Computer Science (CAPE)",
                         "2 of Biology (CSEC) | Chemistry (CSEC) | Physics (CSEC)"],
        "not_counted": [], "conditions": [],
    }


def test_only_programme_and_faculty_are_required_and_blanks_default():
    [p] = parse("programme,faculty\nLaw,Law\n").programmes
    assert (p.id, p.full_time, p.part_time, p.evening, p.careers, p.url) == ("law", False, False, False, (), "")
    assert p.schemes == (Scheme(),)


def test_headers_are_case_insensitive_and_trimmed_and_unknown_columns_ignored():
    [p] = parse(" PROGRAMME , Faculty,notes,CSEC_passes\n  Law  ,  Law ,anything, 4 \n").programmes
    assert (p.name, p.faculty, p.schemes[0].requirements.csec_passes) == ("Law", "Law", 4)


def test_a_column_named_twice_uses_the_first():
    [p] = parse("programme,faculty,Faculty\nLaw,Law,Other\n").programmes
    assert p.faculty == "Law"


def test_rows_in_file_order_and_records_with_newlines_count_as_one_row():
    text = 'programme,faculty,description,csec_passes\nB,F,"two\nlines",1\nA,F,,x\nC,F,,2\n'
    result = parse(text)
    assert [p.name for p in result.programmes] == ["B", "C"]
    assert result.programmes[0].description == "two\nlines"
    assert [(e.row, e.column) for e in result.errors] == [(3, "csec_passes")]


def test_every_problem_in_a_row_is_reported_in_column_order_and_the_row_skipped():
    text = HEADER + "\n" + "\n".join([
        "A,Good,Science,5,2,Mathematics (CSEC),,no",
        "B,Bad,Science,-1,x,Chemestry (CSEC),3 of Biology (CAPE) | Physics (CAPE),maybe",
        "C,Also good,Science,,,,1 of Biology (CAPE) | Physics (CAPE),",
    ]) + "\n"
    result = parse(text)
    assert [p.id for p in result.programmes] == ["A", "C"]
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "evening", "maybe"),
        (3, "csec_passes", "-1"),
        (3, "cape_passes", "x"),
        (3, "mandatory", "Chemestry (CSEC)"),
        (3, "combinations", "3 of Biology (CAPE) | Physics (CAPE)"),
    ]
    evening, csec, cape, mandatory, combination = (e.message for e in result.errors)
    assert "evening must be yes or no" in evening
    assert csec == "csec_passes cannot be negative" and cape == "cape_passes must be a whole number"
    assert "unknown CSEC subject 'Chemestry'; did you mean Chemistry (CSEC)" in mandatory
    assert "needs 3 but lists only 2" in combination


def test_each_bad_item_of_a_list_cell_is_its_own_error():
    assert errors("programme,faculty,mandatory\nX,Y,Biolgy (CSEC); English A (CSEC); Phisics (CAPE)\n") == [
        (2, "mandatory", "Biolgy (CSEC)"), (2, "mandatory", "Phisics (CAPE)")]


@pytest.mark.parametrize("cell, fragment", [
    ("2 Physics (CAPE) | Biology (CAPE)", "is not a combination"),
    ("two of Physics (CAPE) | Biology (CAPE)", "is not a combination"),
    ("0 of Physics (CAPE) | Biology (CAPE)", "at least 1"),
    ("-1 of Physics (CAPE) | Biology (CAPE)", "at least 1"),
    ("3 of Physics (CAPE) | Biology (CAPE)", "needs 3 but lists only 2"),
    ("1 of Physics (CAPE) | Physics (CAPE)", "same subject twice"),
    ("1 of Physics (CAPE) | Chemistry (CAPE:VI)", "must be a pass grade"),
    ("1 of Physics | Chemistry (CAPE)", "is not a subject reference"),
    ("1 of Physiks (CAPE) | Chemistry (CAPE)", "did you mean Physics (CAPE)"),
])
def test_malformed_combinations(cell, fragment):
    error = only_error(f"programme,faculty,combinations\nX,Y,{cell}\n")
    assert (error.row, error.column, error.value) == (2, "combinations", cell)
    assert fragment in error.message


@pytest.mark.parametrize("cell, fragment", [
    ("Chemestry (CAPE)", "did you mean Chemistry (CAPE)"),
    ("Chemistry (GCE)", "unknown level 'GCE'"),
    ("Chemistry (CAPE:IX)", "grade 'IX' does not exist at CAPE"),
    ("Chemistry (CSEC:IV)", "must be a pass grade"),
    ("Chemistry", "did you mean Chemistry (CSEC) or Chemistry (CAPE)"),
])
def test_bad_mandatory_subjects(cell, fragment):
    error = only_error(f"programme,faculty,mandatory\nX,Y,{cell}\n")
    assert (error.row, error.column, error.value) == (2, "mandatory", cell)
    assert fragment in error.message


def test_a_mandatory_subject_listed_twice_is_an_error_whatever_the_grade():
    error = only_error("programme,faculty,mandatory\nX,Y,Biology (CAPE); English A (CSEC); biology (CAPE:II)\n")
    assert (error.row, error.column, error.value) == (2, "mandatory", "biology (CAPE:II)")
    assert error.message == "Biology (CAPE) is listed twice"


@pytest.mark.parametrize("cell, expected", [
    (c, True) for c in ("yes", "YES", "y", "Y", "true", "True", "1")] + [
    (c, False) for c in ("no", "No", "n", "N", "false", "FALSE", "0", "")])
def test_yes_no_columns(cell, expected):
    [p] = parse(f"programme,faculty,full_time,part_time,evening\nX,Y,{cell},{cell},{cell}\n").programmes
    assert (p.full_time, p.part_time, p.evening) == (expected,) * 3


@pytest.mark.parametrize("cell", ["maybe", "yess", "2", "-"])
def test_other_yes_no_values_are_errors(cell):
    assert errors(f"programme,faculty,full_time,part_time\nX,Y,{cell},yes\n") == [(2, "full_time", cell)]


@pytest.mark.parametrize("cell, message", [
    ("-1", "cape_passes cannot be negative"),
    ("x", "cape_passes must be a whole number"),
    ("2.5", "cape_passes must be a whole number"),
    ("-", "cape_passes must be a whole number"),
    ("1e2", "cape_passes must be a whole number"),
])
def test_bad_counts(cell, message):
    error = only_error(f"programme,faculty,cape_passes\nX,Y,{cell}\n")
    assert (error.row, error.column, error.value, error.message) == (2, "cape_passes", cell, message)


@pytest.mark.parametrize("cell", ["ftp://example.edu", "example.edu/law", "https://", "https://exa mple.edu"])
def test_urls_must_be_http(cell):
    error = only_error(f"programme,faculty,url\nX,Y,{cell}\n")
    assert (error.column, error.value) == ("url", cell) and "http://" in error.message


def test_http_and_https_urls_load():
    ps = parse("programme,faculty,url\nA,F,http://example.edu/a\nB,F,HTTPS://example.edu/b\n").programmes
    assert [p.url for p in ps] == ["http://example.edu/a", "HTTPS://example.edu/b"]


def test_missing_names():
    assert [(e.row, e.column, e.value, e.message) for e in parse("programme,faculty\n,Law\nNursing,\n").errors] == [
        (2, "programme", "", "the programme is missing"), (3, "faculty", "", "the faculty is missing")]


def test_duplicate_programmes_same_normalised_name_and_faculty_the_later_row_is_the_error():
    text = "programme,faculty\nLaw,Law\nLaw,Humanities\n  LAW ,law\nComputer   Science,Sci\ncomputer science , SCI\n"
    result = parse(text)
    assert [(e.row, e.column, e.value) for e in result.errors] == [(4, "programme", "LAW"),
                                                                  (6, "programme", "computer science")]
    assert "duplicate of row 2" in result.errors[0].message and "duplicate of row 5" in result.errors[1].message
    assert [p.id for p in result.programmes] == ["law", "law-humanities", "computer-science"]


def test_a_duplicate_of_a_rejected_row_is_still_reported_so_one_round_of_fixes_is_enough():
    result = parse("programme,faculty,csec_passes\nLaw,Law,x\nLaw,Law,5\n")
    assert [(e.row, e.column) for e in result.errors] == [(2, "csec_passes"), (3, "programme")]


def test_codes_must_be_unique_and_well_formed():
    text = "code,programme,faculty\nLAW,Law,Law\nLAW,Criminology,Law\nbad code!,Music,Arts\n" + \
        f"{'A' * 65},Dance,Arts\n{'B' * 64},Art,Arts\nx_1.2-b,Film,Arts\n"
    result = parse(text)
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "code", "LAW"), (4, "code", "bad code!"), (5, "code", "A" * 65)]
    assert "already used in row 2" in result.errors[0].message
    assert "letters, digits, '-', '_' and '.' (at most 64 characters)" in result.errors[1].message
    assert [p.id for p in result.programmes] == ["LAW", "B" * 64, "x_1.2-b"]


def test_ids_are_slugs_made_unique_by_faculty_then_number():
    text = "programme,faculty\nÉtudes Françaises,Humanities\nEtudes francaises,Arts & Crafts\nLaw,A\nLaw,B\n"
    ids = [p.id for p in parse(text).programmes]
    assert ids == ["etudes-francaises", "etudes-francaises-arts-crafts", "law", "law-b"]


def test_slugs_take_a_number_when_name_and_faculty_slugs_are_both_taken():
    text = "code,programme,faculty\nlaw-b,X,F\n,Law,A\n,Law,B\n,Law!,B\n,law?,b!\n,日本,F\n"
    assert [p.id for p in parse(text).programmes] == ["law-b", "law", "law-b-2", "law-b-3", "law-b-4", "programme"]


def test_slugs_never_take_a_code_used_later_in_the_file():
    ids = [p.id for p in parse("code,programme,faculty\n,Law,Law\nlaw,Legal Studies,Law\n").programmes]
    assert ids == ["law-law", "law"]


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers():
    text = "\n \nprogramme,faculty,csec_passes\nA,F,1\n\n,,\n  , ,  \nB,F,-2\n"
    result = parse(text)
    assert [p.name for p in result.programmes] == ["A"]
    assert [(e.row, e.column, e.value) for e in result.errors] == [(8, "csec_passes", "-2")]


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"  \r\n\n\t", "the file is empty"),
    (b"\xef\xbb\xbf\n", "the file is empty"),
    (b"programme,faculty\n", "the file has a header but no programme rows"),
    (b"programme,faculty\n,\n\n , \n", "the file has a header but no programme rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "this is not a CSV file (it contains binary data)"),
    (b"programme,faculty\nLaw,Law\x00\n", "this is not a CSV file (it contains binary data)"),
    (b"programme,faculty\nLaw\x81,Law\x8d\n", "the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8"),
    (b"Programme,Department\nLaw,Law\n",
     "missing required column(s): faculty (columns found: programme, department)"),
    (b"code,notes\nL,x\n", "missing required column(s): programme, faculty (columns found: code, notes)"),
    (b"programme;faculty\nLaw;Law\n", "missing required column(s): programme, faculty "
     "(columns found: programme;faculty); save the file with commas between columns"),
    (b"programme,faculty\nLaw,Law\nArt,Arts,x\n", "this is not a readable CSV file: row 3 has 3 cells but the header "
     "has 2 (put quotes around any cell that contains a comma)"),
    (b"\n\nprogramme,faculty\nLaw,Law,x\n", "row 4 has 3 cells but the header has 2"),
    (b'programme,faculty\n"Law,Law\n', "this is not a readable CSV file (EOF inside string"),
])
def test_whole_file_rejections_have_one_clear_message(data, message):
    with pytest.raises(CatalogueFileError) as raised:
        parse_catalogue(data)
    assert message in str(raised.value)


def test_size_limit_is_checked_first_and_names_the_limit_in_mb():
    limit = 1024 * 1024
    good = b"programme,faculty\n" + b"Law,Law\n"
    padded = good + b" " * (limit - len(good))
    assert len(parse_catalogue(padded, max_bytes=limit).programmes) == 1
    with pytest.raises(CatalogueFileError, match=r"^the file is 1 MB; the limit is 1 MB$"):
        parse_catalogue(padded + b"\x00", max_bytes=limit)
    with pytest.raises(CatalogueFileError, match=r"the limit is 10 MB$"):
        parse_catalogue(b"x" * (10 * limit + 1))


def test_windows_1252_and_utf8_with_or_without_bom():
    text = "programme,faculty,description\nFrançais,Humanités,“Haïti” – Martinique\n"
    for data in (text.encode("cp1252"), text.encode("utf-8"), text.encode("utf-8-sig")):
        [p] = parse_catalogue(data).programmes
        assert (p.name, p.faculty, p.description) == ("Français", "Humanités", "“Haïti” – Martinique")


def test_errors_csv_round_trips_awkward_values():
    result = parse(HEADER + '\nB,Bad,Science,-1,,"Chemestry (CSEC); ""Quoted, comma"" (CSEC)",,"ye\ns"\n')
    assert len(result.errors) == 4
    data = errors_csv(result.errors)
    assert data.startswith(codecs.BOM_UTF8 + b"row,column,value,message\r\n")  # the BOM: Excel then reads UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    expected = [{k: str(v) for k, v in e.as_dict().items()} for e in result.errors]
    assert [row["value"] for row in expected].count("-1") == 1
    for row in expected:
        if row["value"] == "-1":
            row["value"] = "'-1"  # a spreadsheet would take it for a formula: kept as text
    assert rows == expected


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil.example","open")', "+1", "-2+3", "@SUM(A1)", "\tx",
                                   "\r=1", "'=x"])
def test_errors_csv_keeps_what_looks_like_a_formula_as_text(value):
    data = errors_csv([RowError(2, "programme", value, "-" + value)])
    [row] = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert (row["value"], row["message"]) == ("'" + value, "'-" + value)


def test_errors_csv_of_no_errors_is_just_the_header():
    assert errors_csv([]) == codecs.BOM_UTF8 + b"row,column,value,message\r\n"


def test_row_error_as_dict():
    error = RowError(3, "mandatory", "Chemestry (CSEC)", "unknown")
    assert error.as_dict() == {"row": 3, "column": "mandatory", "value": "Chemestry (CSEC)", "message": "unknown"}


def test_columns_are_the_documented_ones():
    readme = README.read_text()
    assert [column for column in COLUMNS if f"`{column}`" not in readme] == []
    assert set(COLUMNS) == {"code", "programme", "faculty", "department", "degree", "campus", "full_time", "part_time",
                            "evening", "duration", "url", "description", "careers", "csec_passes", "cape_passes",
                            "mandatory", "combinations", "scheme", "cape_units", "not_counted", "conditions"}


@settings(max_examples=60, deadline=None)
@given(catalogues(max_size=6, max_mandatory=5, max_combinations=4, max_options=6, max_need=4))
def test_requirements_written_as_text_parse_back_equal(programmes):
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["scheme", "csec_passes", "cape_passes", "cape_units", "mandatory", "combinations", "not_counted",
               "conditions"]
    writer.writerow(["code", "programme", "faculty", *columns])
    for p in programmes:
        for scheme in p.schemes:
            text = scheme.as_text()
            writer.writerow([p.id, p.name, p.faculty, text["label"], text["csec_passes"], text["cape_passes"],
                             text["cape_units"], *("; ".join(text[c]) for c in columns[4:])])
    result = parse(out.getvalue())
    assert result.errors == []
    assert [(p.id, p.name, p.faculty, p.schemes) for p in result.programmes] == [
        (p.id, p.name, p.faculty, p.schemes) for p in programmes]


def test_a_space_before_a_quoted_cell_keeps_the_quotes_working():
    parsed = parse_catalogue(b'programme, faculty, description\nBiology, Science, "Cells, genes and ecosystems"\n')
    assert parsed.errors == []
    assert [(p.name, p.faculty, p.description) for p in parsed.programmes] == [
        ("Biology", "Science", "Cells, genes and ecosystems")]


def test_control_characters_are_removed_from_every_cell_but_tabs_and_line_breaks_stay():
    text = 'programme,faculty,description\nLa\x01w\x7f,\x1b[31mLaw\x85,"one\ttwo\nthree\x0b"\n'
    [p] = parse(text).programmes
    assert (p.name, p.faculty, p.description) == ("Law", "[31mLaw", "one\ttwo\nthree")


def test_a_cell_over_4000_characters_is_one_error_and_nothing_reads_into_it():
    long = "Q (CSEC);" * 1_150_000  # once 1.15 million unknown subjects, each with close names looked for
    result = parse(f"programme,faculty,mandatory,careers\nHostile,F,{long},x\n{'N' * 4001},F,,\nOk,F,,{'c' * 4000}\n")
    assert [p.name for p in result.programmes] == ["Ok"]
    mandatory, name = result.errors
    assert (mandatory.row, mandatory.column, name.row, name.column) == (2, "mandatory", 3, "programme")
    assert mandatory.message == "a cell is at most 4,000 characters; this one has 10,350,000"
    assert mandatory.value == long[:499] + "…" and name.value == "N" * 499 + "…"


def test_kept_errors_are_the_first_ones_and_every_error_is_counted():
    rows = [f"P{n},F,Chemestry (CSEC); Biolgy (CSEC)" for n in range(30)] + ["Law,Law,English A (CSEC)"]
    text = "programme,faculty,mandatory\n" + "\n".join(rows) + "\n"
    kept = parse(text, keep_errors=5)
    assert [p.name for p in kept.programmes] == ["Law"] and kept.error_count == 60
    assert [(e.row, e.value) for e in kept.errors] == [(2, "Chemestry (CSEC)"), (2, "Biolgy (CSEC)"),
                                                       (3, "Chemestry (CSEC)"), (3, "Biolgy (CSEC)"),
                                                       (4, "Chemestry (CSEC)")]
    assert "did you mean Chemistry (CSEC)" in kept.errors[-1].message
    every = parse(text)
    assert (len(every.errors), every.error_count) == (60, 60) and every.errors[:5] == kept.errors


def test_errors_past_those_kept_cost_no_search_for_close_names():
    """A 10 MB file of short unknown subjects spread over rows under the cell limit: 37 s of CPU before."""
    row = "P,F," + "Q (CSEC);" * 400
    data = ("programme,faculty,mandatory\n" + "\n".join(row.replace("P", f"P{n}", 1) for n in range(2800))).encode()
    started = time.process_time()
    result = parse_catalogue(data, keep_errors=1000)
    seconds = time.process_time() - started
    assert (len(result.errors), result.error_count) == (1000, 1_120_000)
    assert seconds < 20, seconds  # about 6 s on this project's machine


def test_subject_lists_without_suggestions_resolve_the_same_names():
    plain = SubjectList.default().without_suggestions()
    assert plain.ref("chemistry (cape:ii)") == SubjectList.default().ref("chemistry (cape:ii)")
    with pytest.raises(SubjectError) as unknown:
        plain.ref("Chemestry (CSEC)")
    assert unknown.value.suggestions == () and "unknown CSEC subject 'Chemestry'" in str(unknown.value)
    with pytest.raises(SubjectError) as suggested:
        SubjectList.default().ref("Chemestry (CSEC)")
    assert suggested.value.suggestions[0] == "Chemistry (CSEC)"


SCHEMES = "code,programme,faculty,campus,scheme,cape_passes,cape_units,mandatory,not_counted,conditions\n"


def test_rows_of_one_code_with_different_labels_are_the_schemes_of_one_programme():
    result = parse(SCHEMES + "MED,Medicine,Medical Sciences,Cave Hill,A,3,,Chemistry (CAPE),,Interview\n"
                             "MED,Medicine,Medical Sciences,Cave Hill,B,,6,Chemistry (CAPE U1),Caribbean Studies (CAPE),\n")
    assert result.errors == []
    [p] = result.programmes
    assert [s.as_text() for s in p.schemes] == [
        {"label": "A", "csec_passes": 0, "cape_passes": 3, "cape_units": 0, "mandatory": ["Chemistry (CAPE)"],
         "combinations": [], "not_counted": [], "conditions": ["Interview"]},
        {"label": "B", "csec_passes": 0, "cape_passes": 0, "cape_units": 6, "mandatory": ["Chemistry (CAPE U1)"],
         "combinations": [], "not_counted": ["Caribbean Studies (CAPE)"], "conditions": []}]


def test_without_codes_the_same_programme_and_faculty_group_the_schemes():
    [p] = parse(SCHEMES + ",Law,Law,Mona,A,2,,,,\n,law , LAW,Mona,B,,,Associate Degree (GPA:3.5),,\n").programmes
    assert (p.id, [s.label for s in p.schemes]) == ("law", ["A", "B"])


def test_a_repeated_scheme_label_is_refused_and_the_first_row_loads():
    result = parse(SCHEMES + "M,Medicine,Med,Mona,A,3,,,,\nM,Medicine,Med,Mona,a,2,,,,\n")
    assert [(e.row, e.column) for e in result.errors] == [(3, "scheme")]
    assert "already given in row 2" in result.errors[0].message
    assert [len(p.schemes) for p in result.programmes] == [1]


def test_scheme_rows_that_disagree_on_a_programme_column_are_errors_and_the_programme_waits():
    result = parse(SCHEMES + "M,Medicine,Med,Cave Hill,A,3,,,,\nM,Medicine,Med,Mona,B,2,,,,\nX,Other,Med,Mona,,,,,,\n")
    assert [(e.row, e.column, e.value) for e in result.errors] == [(2, "scheme", "A"), (3, "campus", "Mona")]
    assert "differs from row 2 ('Cave Hill')" in result.errors[1].message
    assert "not loaded: row 3" in result.errors[0].message
    assert [p.id for p in result.programmes] == ["X"]


def test_a_labelled_row_after_an_unlabelled_one_asks_for_labels():
    result = parse(SCHEMES + "M,Medicine,Med,Mona,,3,,,,\nM,Medicine,Med,Mona,B,2,,,,\n")
    assert [(e.row, e.column) for e in result.errors] == [(2, "scheme"), (3, "scheme")]
    assert "different scheme label" in result.errors[1].message


@pytest.mark.parametrize("cell, column, fragment, suggestion", [
    ("Accounting or Economics (CAPE)", "mandatory", "names 2 subjects as one", "1 of Accounting (CAPE) | Economics (CAPE)"),
    ("Pure Mathematics (CAPE U3)", "mandatory", "use U1 or U2", None),
    ("Caribbean Studies (CAPE U2)", "mandatory", "one-unit subject", "Caribbean Studies (CAPE)"),
    ("Associate Degree (GPA:4.5)", "mandatory", "not a GPA from 0.0 to 4.3", None),
    ("Chemistry (GCE A:U)", "mandatory", "must be a pass grade (GCE A A*-E)", None),
    ("Chemistry (GCE O:F)", "mandatory", "does not exist at GCE O", None),
    ("Caribbean Studies (CAPE:II)", "not_counted", "whole subjects", "Caribbean Studies (CAPE)"),
])
def test_v2_references_that_cannot_be_read_are_row_errors_with_a_fix(cell, column, fragment, suggestion):
    values = {"mandatory": "", "not_counted": "", column: cell}
    result = parse(SCHEMES + f"M,Medicine,Med,Mona,,,,{values['mandatory']},{values['not_counted']},\n")
    [e] = result.errors
    assert (e.row, e.column, e.value) == (2, column, cell) and fragment in e.message
    if suggestion:
        assert suggestion in e.message
