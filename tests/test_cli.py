"""The `beuwi` command as a user runs it: real files, a real embedded graph, a real gunicorn."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from beuwi.admin.local import SqliteMetadataStore
from beuwi.cli import main
from beuwi.graph import open_store
from beuwi.ports import free_port

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
SAMPLE = UPLOADS / "sample-catalogue.csv"
BROKEN = UPLOADS / "broken"


@pytest.fixture
def runner(falkordb_server, monkeypatch, tmp_path):
    """Commands talk to the session's FalkorDB, each test in a graph of its own, and keep the admin's files and
    metadata (local backend) in a data dir of its own."""
    monkeypatch.setenv("BEUWI_GRAPH_URI", falkordb_server)
    monkeypatch.setenv("BEUWI_GRAPH_NAME", f"cli-{time.monotonic_ns()}")
    monkeypatch.setenv("BEUWI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BEUWI_BACKEND", "local")
    return CliRunner()


def admin_records(data_dir) -> list[tuple]:
    """(id, filename, uploaded_by, status, programmes, active) of every upload the admin app lists (local backend),
    and the audit log's (who, action, upload_id), oldest first."""
    metadata = SqliteMetadataStore(Path(data_dir) / "admin.sqlite3")
    records = [(u.id, u.filename, u.uploaded_by, u.status, u.programmes, u.active) for u in metadata.list()]
    return records, [(e.who, e.action, e.upload_id) for e in reversed(metadata.audit_log())]


def check(*args):
    """`beuwi check`, which reads a file and needs no graph."""
    return CliRunner().invoke(main, ["check", *map(str, args)])


def test_check_prints_row_errors_and_exits_1():
    result = check(BROKEN / "row-errors.csv")
    assert result.exit_code == 1
    assert "row 3" in result.output or "row 2" in result.output
    assert "did you mean" in result.output


def test_check_passes_the_sample():
    result = check(SAMPLE)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith("0 row errors")


def test_check_rejects_a_file_that_is_not_csv():
    result = check(BROKEN / "not-csv.csv")
    assert result.exit_code == 2
    assert "rejected" in result.output


def shown(output: str, programme: str) -> list[str]:
    """The lines `beuwi check` prints for one programme: its own, then one per scheme."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{programme}  "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return lines[start:end]


def test_check_shows_each_scheme_with_its_label_units_uncounted_subjects_and_conditions():
    result = check(SAMPLE)
    assert result.exit_code == 0, result.output
    assert shown(result.output, "MED-MBBS-CH") == [
        "MED-MBBS-CH  Medicine and Surgery (Cave Hill) · Medical Sciences · Cave Hill",
        "  scheme A: 5 CSEC passes · 3 CAPE passes · mandatory English A (CSEC); Mathematics (CSEC); "
        "Chemistry (CAPE); Biology (CAPE) · 1 of Physics (CAPE) | Pure Mathematics (CAPE) · not counted "
        "Caribbean Studies (CAPE); Communication Studies (CAPE) · conditions Interview",
        "  scheme B: 5 CSEC passes · 3 CAPE passes · mandatory English A (CSEC); Mathematics (CSEC); "
        "Chemistry (CAPE); Biology (CAPE); Physics (CSEC) · 1 of History (CAPE) | Sociology (CAPE) | "
        "Economics (CAPE) · not counted Caribbean Studies (CAPE); Communication Studies (CAPE) · "
        "conditions Interview",
    ]
    civil = shown(result.output, "ENG-BSC-CIVIL")
    assert len(civil) == 2 and civil[1].startswith("  5 CSEC passes · 2 CAPE passes · 4 CAPE units · mandatory ")
    assert civil[1].endswith(" · not counted Caribbean Studies (CAPE); Communication Studies (CAPE)")
    law = shown(result.output, "LAW-LLB-STA")
    assert [line.split(":")[0] for line in law[1:]] == ["  scheme CAPE", "  scheme Associate Degree"]
    assert law[2].endswith("mandatory English A (CSEC); Associate Degree (GPA:3.5)")
    assert shown(result.output, "ENG-BSC-ARCH")[1].endswith(" · conditions Portfolio; Interview")
    gce = shown(result.output, "SCI-CERT-IT")[2]
    assert gce.startswith("  scheme GCE O-Level: 4 CSEC passes · mandatory English Language (GCE O:C) · 1 of ")
    assert result.output.splitlines()[-1] == (
        f"{SAMPLE}: 102 programmes ok (8 with alternative schemes), 0 row errors")


def test_check_json_gives_each_programme_with_its_schemes():
    result = check(SAMPLE, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["programmes"] == len(found["parsed"]) == 102 and found["errors"] == []
    by_id = {p["id"]: p for p in found["parsed"]}
    assert [s["label"] for s in by_id["MED-MBBS-CH"]["schemes"]] == ["A", "B"]
    assert by_id["MED-MBBS-CH"]["schemes"][1]["mandatory"][-1] == "Physics (CSEC)"
    assert by_id["MED-MBBS-CH"]["schemes"][1]["conditions"] == ["Interview"]
    civil = by_id["ENG-BSC-CIVIL"]["schemes"]
    assert [(s["label"], s["cape_units"], s["not_counted"]) for s in civil] == [
        ("", 4, ["Caribbean Studies (CAPE)", "Communication Studies (CAPE)"])]


def test_check_names_each_v2_mistake_on_its_row_and_column_and_shows_the_rows_that_load():
    result = check(BROKEN / "v2-errors.csv")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert [line.split(":")[0] for line in errors] == [
        "row 3, mandatory", "row 4, mandatory", "row 5, mandatory", "row 6, mandatory", "row 7, mandatory",
        "row 8, mandatory", "row 9, cape_units", "row 10, scheme", "row 11, campus", "row 12, not_counted",
        "row 17, code"]
    assert "'1 of Accounting (CAPE) | Economics (CAPE)'" in errors[2]
    assert "(value: 'Caribbean Studies (CAPE U2)')" in errors[1]
    assert shown(result.output, "SOC-BSC-BANK")[1:] == [
        "  scheme CAPE: 5 CSEC passes · 2 CAPE passes · mandatory English A (CSEC); Mathematics (CSEC) · "
        "1 of Accounting (CAPE) | Economics (CAPE)",
        "  scheme Associate Degree: 5 CSEC passes · mandatory English A (CSEC); Mathematics (CSEC); "
        "Associate Degree (GPA:2.5)",
    ]
    assert shown(result.output, "SCI-BSC-STAT")[1].endswith(
        " · 6 CAPE units · mandatory English A (CSEC); Mathematics (CSEC); Pure Mathematics (CAPE U1) · 1 of Pure "
        "Mathematics (CAPE U2) | Applied Mathematics (CAPE) · not counted Caribbean Studies (CAPE); Communication "
        "Studies (CAPE)")
    assert "MED-MBBS-CH  " not in result.output  # one of its scheme rows has an error: none of it loads
    assert result.output.splitlines()[-1].endswith(": 4 programmes ok (1 with alternative schemes), 11 row errors")


def test_check_quiet_prints_only_the_row_errors_and_the_totals():
    result = check(BROKEN / "v2-errors.csv", "--quiet")
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 12 and "SOC-BSC-BANK  " not in result.output
    quiet_json = json.loads(check(BROKEN / "v2-errors.csv", "-q", "--json").output)
    assert set(quiet_json) == {"programmes", "errors"} and len(quiet_json["errors"]) == 11


def test_load_activate_and_search(runner, tmp_path):
    loaded = runner.invoke(main, ["load", str(SAMPLE), "--activate", "--json"])
    assert loaded.exit_code == 0, loaded.output
    summary = json.loads(loaded.output)
    assert (summary["programmes"], summary["errors"], summary["error_count"], summary["active"]) == (102, [], 0, True)
    assert summary["upload"] == summary["catalogue"] and summary["uploaded_by"] == "cli"
    # One way in: the admin app's upload service, so the dashboard lists it as any upload, uploaded by cli.
    records, audit = admin_records(tmp_path)
    assert records == [(summary["upload"], SAMPLE.name, "cli", "parsed", 102, True)]
    assert audit == [("cli", "upload", summary["upload"]), ("cli", "activate", summary["upload"])]

    found = runner.invoke(main, ["search", "--json", "-s", "Mathematics (CSEC)", "-s", "English A (CSEC)"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["catalogue"] == summary["catalogue"]

    text = runner.invoke(main, ["search", "-s", "Mathematics (CSEC)", "-s", "English A (CSEC)"])
    assert f"Catalogue {summary['catalogue']}: eligible for" in text.output


def test_search_in_graph_agrees_with_the_engine(runner):
    runner.invoke(main, ["load", str(SAMPLE), "--activate"])
    args = ["search", "--json"]
    for subject in ["Mathematics (CSEC:I)", "English A (CSEC)", "Biology (CSEC)", "Chemistry (CSEC)",
                    "Spanish (CSEC)", "Chemistry (CAPE:II)", "Biology (CAPE:III)", "Caribbean Studies (CAPE)"]:
        args += ["-s", subject]
    engine = json.loads(runner.invoke(main, args).output)
    graph = json.loads(runner.invoke(main, [*args, "--in-graph"]).output)
    assert graph["catalogue"] == engine["catalogue"]
    assert len(graph["eligible"]) > 10
    assert sorted(graph["eligible"]) == sorted(p["id"] for p in engine["eligible"])


def test_load_with_row_errors_still_loads_the_good_rows(runner, tmp_path):
    result = runner.invoke(main, ["load", str(BROKEN / "row-errors.csv"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["programmes"], summary["error_count"], summary["active"]) == (3, 7, False)
    assert [(e["row"], e["column"]) for e in summary["errors"]][:2] == [(3, "mandatory"), (4, "combinations")]
    assert admin_records(tmp_path)[0] == [(summary["upload"], "row-errors.csv", "cli", "parsed", 3, False)]
    text = runner.invoke(main, ["load", str(BROKEN / "row-errors.csv")])
    assert text.exit_code == 0 and text.output.splitlines()[-1].startswith("uploaded row-errors.csv as upload ")
    assert text.output.splitlines()[-1].endswith(" by cli: 3 programmes, 7 rows skipped, inactive (activate it in "
                                                 "the admin dashboard or with --activate)")


@pytest.mark.parametrize("file", ["not-csv.csv", "missing-column.csv"])
def test_load_of_a_file_that_cannot_serve_loads_nothing(runner, tmp_path, file):
    result = runner.invoke(main, ["load", str(BROKEN / file)])
    assert result.exit_code == 2 and "rejected" in result.output
    assert admin_records(tmp_path) == ([], [])


def test_load_and_seed_without_the_admins_stores_say_they_need_them_and_load_nothing(falkordb_server, tmp_path):
    """BEUWI_BACKEND=firebase without credentials or emulators: the admin's stores cannot be reached."""
    graph = {"BEUWI_GRAPH_URI": falkordb_server, "BEUWI_GRAPH_NAME": f"cli-{time.monotonic_ns()}"}
    env = {k: v for k, v in own_env().items() if k not in NO_FIREBASE}
    env.update(graph, BEUWI_BACKEND="firebase", BEUWI_DATA_DIR=str(tmp_path))
    for command in (["load", str(SAMPLE), "--activate"],
                    ["serve", "search", "--seed", str(SAMPLE), "--port", str(free_port())]):
        result = subprocess.run([sys.executable, "-m", "beuwi.cli", *command], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        said = " ".join(result.stderr.split())
        assert "needs the admin's stores: BEUWI_BACKEND=firebase" in said and "GOOGLE_APPLICATION_CREDENTIALS" in said
        assert "Traceback" not in result.stderr
    store = open_store({"GRAPH_URI": falkordb_server, "GRAPH_NAME": graph["BEUWI_GRAPH_NAME"]})
    try:
        assert store.versions() == [] and store.unfinished_versions() == []
    finally:
        store.close()


def test_search_names_unknown_subjects(runner):
    result = runner.invoke(main, ["search", "-s", "Chemestry (CSEC)"])
    assert result.exit_code == 2
    assert "Chemistry (CSEC)" in result.output


def test_search_without_an_active_catalogue_says_how_to_load_one(runner):
    result = runner.invoke(main, ["search", "-s", "Mathematics (CSEC)"])
    assert result.exit_code == 3
    assert "beuwi load" in result.output


NO_FIREBASE = ("GOOGLE_APPLICATION_CREDENTIALS", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST",
               "FIREBASE_AUTH_EMULATOR_HOST")


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


EMBEDDED = ["falkordb", "neo4j"]
RECORD = {"falkordb": "graph", "neo4j": "neo4j"}  # where each embedded server records itself under the data dir
START_SECONDS = 180  # a JVM opening Neo4j's store takes 12-20 s, more on a loaded 2-core machine


def own_env(embedded: str = "falkordb") -> dict:
    """The environment without the tests' BEUWI_* settings, on this embedded graph."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}
    return {**env, "BEUWI_EMBEDDED_GRAPH": embedded}


def start(command, tmp_path, port, embedded="falkordb"):
    """A `beuwi serve` process on the data dir, once its health endpoint answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "beuwi.cli", "serve", *command, "--port", str(port), "--data-dir", str(tmp_path)],
        env=own_env(embedded), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            get_json(f"http://127.0.0.1:{port}/api/health")
            return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"beuwi serve {command[0]} did not start:\n{process.stdout.read()}")
            time.sleep(0.2)


def stop(process):
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


@pytest.mark.parametrize("embedded", EMBEDDED)
def test_serve_search_runs_gunicorn_on_the_embedded_graph_and_stops_it(tmp_path, embedded):
    port = free_port()
    process = start(["search", "--workers", "1", "--seed", str(SAMPLE)], tmp_path, port, embedded)
    try:
        base = f"http://127.0.0.1:{port}/api"
        health = get_json(f"{base}/health")
        assert health["status"] == "ok" and health["catalogue"]
        found = get_json(f"{base}/search?subject=Mathematics%20(CSEC)&subject=English%20A%20(CSEC)")
        assert found["catalogue"] == health["catalogue"]

        # A second command on the same data dir reuses the running embedded server, and the engine picks up what
        # it activates there.
        record = json.loads((tmp_path / RECORD[embedded] / "server.json").read_text())
        second = subprocess.run([sys.executable, "-m", "beuwi.cli", "load", str(SAMPLE), "--json", "--activate",
                                 "--data-dir", str(tmp_path)], env=own_env(embedded), capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 0, second.stderr
        assert "starting" not in second.stderr  # no second server
        assert json.loads((tmp_path / RECORD[embedded] / "server.json").read_text()) == record
        os.kill(record["pid"], 0)
        newer = json.loads(second.stdout)["catalogue"]
        deadline = time.monotonic() + 20
        while get_json(f"{base}/health")["catalogue"] != newer:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # Both went in through the admin app's upload service: the dashboard lists the seed and the CLI's load.
        assert admin_records(tmp_path)[0] == [(newer, SAMPLE.name, "cli", "parsed", 102, True),
                                              (health["catalogue"], SAMPLE.name, "seed", "parsed", 102, False)]
    finally:
        output = stop(process)
    assert "BeUWI programme engine" in output
    assert ("bolt://" if embedded == "neo4j" else "falkordb://") in output  # the banner names the graph served
    assert not (tmp_path / RECORD[embedded] / "server.json").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(record["pid"], 0)


@pytest.mark.parametrize("embedded", EMBEDDED)
def test_an_upload_activated_in_the_admin_app_reaches_the_engine(tmp_path, embedded):
    engine_port, admin_port = free_port(), free_port()
    engine = start(["search", "--workers", "1"], tmp_path, engine_port, embedded)
    admin = start(["admin"], tmp_path, admin_port, embedded)
    try:
        token = (tmp_path / "admin-token").read_text()
        body, boundary = multipart("file", "sample.csv", SAMPLE.read_bytes())
        request = urllib.request.Request(
            f"http://127.0.0.1:{admin_port}/api/uploads", data=body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            upload = json.load(response)
        activate = urllib.request.Request(f"http://127.0.0.1:{admin_port}/api/uploads/{upload['id']}/activate",
                                          method="POST", headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(activate, timeout=30).close()
        deadline = time.monotonic() + 10
        while get_json(f"http://127.0.0.1:{engine_port}/api/health")["catalogue"] != upload["id"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert len(get_json(f"http://127.0.0.1:{engine_port}/api/programmes")["programmes"]) == 102
    finally:
        admin_output = stop(admin)
        stop(engine)
    assert f"Admin token (stored in {tmp_path / 'admin-token'})" in admin_output


def test_every_engine_worker_moves_to_a_new_version_by_itself(tmp_path):
    """Nothing asks the engine between an activation and the check, so each worker must have refreshed on its own:
    the first answer a worker gives afterwards already comes from the new version."""
    port = free_port()
    engine = start(["search", "--workers", "2", "--seed", str(SAMPLE)], tmp_path, port)
    try:
        url = f"http://127.0.0.1:{port}/api/search?subject=Mathematics%20(CSEC)"
        with ThreadPoolExecutor(8) as pool:  # concurrent, so both workers answer and hold a snapshot
            old = set(pool.map(lambda _: get_json(url)["catalogue"], range(40)))
        assert len(old) == 1
        loaded = subprocess.run([sys.executable, "-m", "beuwi.cli", "load", str(SAMPLE), "--activate", "--json",
                                 "--data-dir", str(tmp_path)], env=own_env(), capture_output=True, text=True,
                                timeout=120)
        assert loaded.returncode == 0, loaded.stderr
        new = json.loads(loaded.stdout)["catalogue"]
        time.sleep(4)  # BEUWI_ACTIVE_CHECK_SECONDS (1 s) and reading 102 programmes, with room to spare
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(lambda _: get_json(url)["catalogue"], range(40))) == {new}
    finally:
        stop(engine)


def multipart(field, filename, data):
    boundary = "beuwi-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


@pytest.mark.parametrize("embedded", EMBEDDED)
def test_dev_runs_the_engine_the_admin_app_and_the_site_and_stops_them(tmp_path, embedded):
    engine_port, admin_port, site_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "beuwi.cli", "dev", "--port", str(engine_port), "--admin-port", str(admin_port),
         "--site-port", str(site_port),
         "--data-dir", str(tmp_path), "--seed", str(SAMPLE)],
        env=own_env(embedded), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                engine = get_json(f"http://127.0.0.1:{engine_port}/api/health")
                admin = get_json(f"http://127.0.0.1:{admin_port}/api/health")
                with urllib.request.urlopen(f"http://127.0.0.1:{site_port}/config.js", timeout=5) as response:
                    config = response.read().decode()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
                time.sleep(0.2)
        assert engine["catalogue"] and admin == {"status": "ok"}
        # The seed went in as an admin upload, so the dashboard lists it as the active one.
        token = (tmp_path / "admin-token").read_text()
        listing = urllib.request.Request(f"http://127.0.0.1:{admin_port}/api/uploads",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(listing, timeout=10) as response:
            uploads = json.load(response)["uploads"]
        assert [(u["id"], u["filename"], u["active"], u["uploaded_by"]) for u in uploads] == [
            (engine["catalogue"], SAMPLE.name, True, "seed")]
        assert f'"engine": "http://127.0.0.1:{engine_port}"' in config
        assert f'"admin": "http://127.0.0.1:{admin_port}"' in config
    finally:
        output = stop(process)
    assert "BeUWI programme engine" in output and "BeUWI admin API" in output and "Admin token" in output
    assert "BeUWI web clients" in output
    assert not (tmp_path / RECORD[embedded] / "server.json").exists()
