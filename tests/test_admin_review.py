"""Reviewing an upload before students see it, on each backend: the diff against the active version or another
upload, the preview search (the engine's answer for that version, read from each graph), the row errors as JSON."""
import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from beuwi.admin import row_errors
from beuwi.admin.review import versions
from beuwi.csv_catalogue import RowError, errors_csv
from beuwi.search import create_app as create_engine

from .test_admin_api import SAMPLE, auth, backend, client, post_file, stores, who  # noqa: F401 (fixtures)
from .test_search_api import falkordb_only, serves

CSEC = ["English A (CSEC:II)", "Chemistry (CSEC:II)", "Biology (CSEC:I)", "Physics (CSEC:II)", "Spanish (CSEC:III)"]
PROFILES = [
    [],
    [*CSEC, "Mathematics (CSEC:I)", "Physics (CAPE:II)", "Pure Mathematics (CAPE:II)", "Caribbean Studies (CAPE:I)"],
    [*CSEC, "Mathematics (CSEC:III)", "Computer Science (CAPE:II)", "Pure Mathematics (CAPE:III)", "Economics (CAPE)"],
    ["English A (CSEC)", "Mathematics (CSEC)", "Associate Degree (GPA:3.0)", "Biology (CSEC)", "Geography (CSEC)"],
]


def changed_copy() -> bytes:
    """The sample with Geomatics gone, Applied Statistics new, Civil Engineering asking 3 CAPE passes and Computer
    Science a grade II in CSEC Mathematics."""
    rows = list(csv.DictReader(io.StringIO(SAMPLE.decode("utf-8-sig"))))
    kept = [r for r in rows if r["code"] != "ENG-BSC-GEOM"]
    for row in kept:
        if row["code"] == "ENG-BSC-CIVIL":
            row["cape_passes"] = "3"
        if row["code"] == "SCI-BSC-CS":
            row["mandatory"] = "English A (CSEC); Mathematics (CSEC:II)"
    new = {**next(r for r in rows if r["code"] == "SCI-BSC-STAT"), "code": "SCI-BSC-APST",
           "programme": "Applied Statistics"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([*kept, new])
    return out.getvalue().encode("utf-8")


def uploaded(client, auth, data=SAMPLE) -> str:
    return post_file(client, data, auth).get_json()["id"]


def test_the_diff_against_nothing_active_the_active_version_and_another_upload(client, auth):
    first = uploaded(client, auth)
    alone = client.get(f"/api/uploads/{first}/diff", headers=auth).get_json()
    assert (alone["upload"], alone["against"], len(alone["added"]), alone["removed"], alone["changed"],
            alone["unchanged"]) == (first, None, 102, [], [], 0)
    assert {"id", "name", "faculty", "schemes", "conditions"} <= set(alone["added"][0])

    client.post(f"/api/uploads/{first}/activate", headers=auth)
    second = uploaded(client, auth, changed_copy())
    found = client.get(f"/api/uploads/{second}/diff", headers=auth).get_json()
    assert (found["upload"], found["against"], found["unchanged"]) == (second, first, 99)
    assert [p["id"] for p in found["added"]] == ["SCI-BSC-APST"]
    assert [p["id"] for p in found["removed"]] == ["ENG-BSC-GEOM"]
    assert sorted(found["changed"], key=lambda c: c["id"]) == [
        {"id": "ENG-BSC-CIVIL", "name": "Civil Engineering",
         "fields": [{"field": "cape_passes", "scheme": "", "before": 2, "after": 3}]},
        {"id": "SCI-BSC-CS", "name": "Computer Science",
         "fields": [{"field": "mandatory", "scheme": "", "before": "Mathematics (CSEC)",
                     "after": "Mathematics (CSEC:II)"}]}]
    assert client.get(f"/api/uploads/{second}/diff?against={first}", headers=auth).get_json() == found
    back = client.get(f"/api/uploads/{first}/diff?against={second}", headers=auth).get_json()
    assert (back["added"], back["removed"]) == (found["removed"], found["added"])
    same = client.get(f"/api/uploads/{first}/diff", headers=auth).get_json()
    assert (same["against"], same["unchanged"], same["changed"]) == (first, 102, [])


@falkordb_only
def test_unknown_deleted_and_failed_uploads_are_named(client, auth):
    first, second = uploaded(client, auth), uploaded(client, auth)
    assert client.delete(f"/api/uploads/{second}", headers=auth).status_code == 200
    failed = post_file(client, b"code,programme\nX,Y\n", auth).get_json()
    for path in ("diff", "search"):
        call = client.get if path == "diff" else client.post
        missing = call(f"/api/uploads/nope/{path}", headers=auth, json={"subjects": []})
        assert (missing.status_code, missing.get_json()) == (404, {"error": "no upload 'nope'"})
        gone = call(f"/api/uploads/{second}/{path}", headers=auth, json={"subjects": []})
        assert (gone.status_code, gone.get_json()) == (404, {"error": f"no upload {second!r}"})
        refused = call(f"/api/uploads/{failed['id']}/{path}", headers=auth, json={"subjects": []})
        assert refused.status_code == 409 and failed["message"] in refused.get_json()["error"]
    against = client.get(f"/api/uploads/{first}/diff?against={second}", headers=auth)
    assert (against.status_code, against.get_json()) == (404, {"error": f"no upload {second!r} to compare against"})
    against = client.get(f"/api/uploads/{first}/diff?against={failed['id']}", headers=auth)
    assert against.status_code == 409 and failed["message"] in against.get_json()["error"]
    for path in (f"/api/uploads/{first}/diff", f"/api/uploads/{first}/errors.json", "/api/openapi.json"):
        assert client.get(path).status_code == 401
    assert client.post(f"/api/uploads/{first}/search", json={"subjects": []}).status_code == 401


def test_a_preview_is_the_engines_answer_once_active_and_the_engine_serves_only_the_active(client, stores, auth):
    first, second = uploaded(client, auth), uploaded(client, auth, changed_copy())
    engine = create_engine({"TESTING": True, "GRAPH_STORE": stores.graph, "ACTIVE_CHECK_SECONDS": 0}).test_client()
    previews = {upload: [answer(client.post(f"/api/uploads/{upload}/search", headers=auth, json={"subjects": p}))
                         for p in PROFILES] for upload in (first, second)}
    assert engine.post("/api/search", json={"subjects": []}).status_code == 503  # nothing active: nothing served
    eligible = {upload: [[p["id"] for p in a["eligible"]] for a in previews[upload]] for upload in previews}
    assert eligible[first] != eligible[second]  # the changed copy answers otherwise (Civil Engineering)
    for upload, other in ((first, second), (second, first)):
        client.post(f"/api/uploads/{upload}/activate", headers=auth)
        serves(engine, upload)
        assert [answer(engine.post("/api/search", json={"subjects": p})) for p in PROFILES] == previews[upload]
        shown = {p["id"] for p in engine.get("/api/programmes").get_json()["programmes"]}
        assert ("SCI-BSC-APST" in shown, "ENG-BSC-GEOM" in shown) == (upload == second, upload == first)
        assert engine.post(f"/api/uploads/{other}/search", json={"subjects": []}).status_code == 404


def answer(response) -> dict:
    assert response.status_code == 200 and response.cache_control.no_store
    body = response.get_json()
    assert body.pop("took_ms") >= 0
    return body


@falkordb_only
def test_bad_subjects_and_bodies_get_the_engines_400(client, stores, auth):
    upload = uploaded(client, auth)
    client.post(f"/api/uploads/{upload}/activate", headers=auth)
    engine = create_engine({"TESTING": True, "GRAPH_STORE": stores.graph, "ACTIVE_CHECK_SECONDS": 0}).test_client()
    for body in ({"subjects": ["Chemestry (CSEC)", 3, "Maths"]}, {"subjects": "Maths"}, [], {"subjects": ["x"] * 61}):
        preview = client.post(f"/api/uploads/{upload}/search", headers=auth, json=body)
        served = engine.post("/api/search", json=body)
        assert (preview.status_code, preview.get_json()) == (400, served.get_json()), body
    broken = client.post(f"/api/uploads/{upload}/search", headers=auth, data="{", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"].startswith("the body is not valid JSON")


@falkordb_only
def test_a_version_is_read_once_and_dropped_when_its_upload_is_deleted(client, stores, auth, monkeypatch):
    upload = uploaded(client, auth)
    reads, read = [], stores.graph.programmes
    monkeypatch.setattr(stores.graph, "programmes", lambda version: reads.append(version) or read(version))
    for _ in range(2):
        assert client.post(f"/api/uploads/{upload}/search", headers=auth, json={"subjects": []}).status_code == 200
    assert client.get(f"/api/uploads/{upload}/diff", headers=auth).status_code == 200
    assert reads == [upload]
    with client.application.app_context():
        assert upload in versions()
        client.delete(f"/api/uploads/{upload}", headers=auth)
        assert client.get(f"/api/uploads/{upload}/diff", headers=auth).status_code == 404
        assert upload not in versions()


FORMULA, QUOTED = '=HYPERLINK("http://x") (CSEC)', "'2 of Biology (CSEC) | Chemistry (CSEC)"


@falkordb_only
def test_row_errors_as_json_with_the_cells_as_uploaded(client, auth):
    rows = list(csv.DictReader(io.StringIO(SAMPLE.decode("utf-8-sig"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([rows[0], {**rows[0], "code": "X-1", "programme": "X 1", "mandatory": FORMULA},
                      {**rows[0], "code": "X-2", "programme": "X 2", "combinations": QUOTED}])
    upload = post_file(client, out.getvalue().encode(), auth).get_json()
    assert upload["errors"] >= 1
    found = client.get(f"/api/uploads/{upload['id']}/errors.json", headers=auth)
    assert found.status_code == 200 and found.cache_control.no_store
    body = found.get_json()
    assert (body["upload"], body["count"], body["kept"]) == (upload["id"], upload["errors"], upload["errors_kept"])
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [
        (3, "mandatory", FORMULA), (4, "combinations", QUOTED)]
    spreadsheet = list(csv.reader(io.StringIO(
        client.get(f"/api/uploads/{upload['id']}/errors", headers=auth).data.decode("utf-8-sig"))))
    assert [row[2] for row in spreadsheet[1:]] == ["'" + FORMULA, "'" + QUOTED]
    negotiated = client.get(f"/api/uploads/{upload['id']}/errors", headers={**auth, "Accept": "application/json"})
    assert negotiated.get_json() == body
    assert client.get("/api/uploads/nope/errors.json", headers=auth).status_code == 404


CELLS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ("=1+1", "'", "''x", "+", "-2", "@a", "\t=x", "\r\n", '"', "a,b"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.builds(RowError, st.integers(2, 10**6), st.sampled_from(("", "mandatory", "code")), CELLS, CELLS),
                max_size=5))
def test_the_errors_file_reads_back_as_the_errors_it_was_written_from(errors):
    assert row_errors.read(errors_csv(errors)) == errors
