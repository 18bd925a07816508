"""The `beuwi` command: check and load catalogues, search, and serve the engine."""
from __future__ import annotations

import json
import sys
from contextlib import closing, contextmanager
from pathlib import Path

import click

from beuwi import config
from beuwi.admin.roles import ROLES
from beuwi.csv_catalogue import CatalogueFileError, ParsedCatalogue, parse_catalogue
from beuwi.domain import Profile, Programme, SubjectList
from beuwi.graph import EMBEDDED, open_store
from beuwi.graph.store import GraphError

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None,
    help="Where the embedded graph keeps its files (default: BEUWI_DATA_DIR or ./var).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
host_option = click.option("--host", default="127.0.0.1", show_default=True)


def parse_seed(_ctx, _param, path: str | None):
    """The seed file, read and checked before anything starts."""
    if not path:
        return None
    from beuwi.serving import Seed

    return Seed(Path(path).name, loadable(path, settings()["MAX_UPLOAD_BYTES"]))


seed_option = click.option("--seed", type=click.Path(exists=True, dir_okay=False), callback=parse_seed,
                           help="Load and activate this CSV when no catalogue is active yet.")


def from_settings(key: str):
    """A click default read when the command runs, so BEUWI_<key> applies and a bad value is a usage error."""
    return lambda: settings()[key]


def gunicorn_options(workers: int | None = None):
    """--workers (a fixed default, else BEUWI_WORKERS) and --threads (BEUWI_THREADS)."""

    def decorate(command):
        command = click.option("--threads", default=from_settings("THREADS"), type=int, help="Threads per worker.",
                               show_default=f"BEUWI_THREADS or {config.DEFAULTS['THREADS']}")(command)
        return click.option("--workers", default=workers or from_settings("WORKERS"), type=int,
                            show_default=workers or f"BEUWI_WORKERS or {config.DEFAULTS['WORKERS']}",
                            help="Gunicorn worker processes.")(command)

    return decorate


def settings(data_dir: str | None = None) -> dict:
    try:
        values = config.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if values["EMBEDDED_GRAPH"] not in EMBEDDED:
        raise click.UsageError(f"BEUWI_EMBEDDED_GRAPH={values['EMBEDDED_GRAPH']!r}: use one of {', '.join(EMBEDDED)}")
    if data_dir:
        values["DATA_DIR"] = data_dir
    return values


def read_catalogue(path: str, max_bytes: int) -> ParsedCatalogue:
    """Parse a CSV or .xlsx file, exiting with status 2 and the reason when the whole file is rejected."""
    try:
        return parse_catalogue(Path(path).read_bytes(), max_bytes=max_bytes, filename=Path(path).name)
    except CatalogueFileError as exc:
        click.echo(f"{path}: rejected: {exc}", err=True)
        sys.exit(2)


def loadable(path: str, max_bytes: int) -> bytes:
    """The file's bytes once it reads as a catalogue with programmes; else exit 2 with the reason, nothing loaded."""
    parsed = read_catalogue(path, max_bytes)
    if not parsed.programmes:
        print_errors(parsed.errors)
        click.echo(f"{path}: no valid programme rows, nothing loaded", err=True)
        sys.exit(2)
    return Path(path).read_bytes()


def graph_failure(exc: GraphError) -> None:
    click.echo(f"graph: {exc}", err=True)
    sys.exit(3)


@contextmanager
def graph_failures():
    """A server that cannot start its graph (e.g. the embedded one dies while loading) exits 3 with the reason."""
    try:
        yield
    except GraphError as exc:
        graph_failure(exc)


def print_errors(errors) -> None:
    for e in errors:
        click.echo(f"row {e.row}, {e.column or 'row'}: {e.message} (value: {e.value!r})")


@click.group()
def main() -> None:
    """BeUWI: which university programmes do my CSEC and CAPE passes open?"""


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--quiet", "-q", is_flag=True, help="Only the row errors and the totals, not each programme as read.")
@json_option
def check(file: str, quiet: bool, as_json: bool) -> None:
    """Show how each programme of a catalogue CSV reads (its schemes, their requirements and conditions) and the row
    errors; exit 1 when there are any, 2 when the file is rejected."""
    parsed = read_catalogue(file, settings()["MAX_UPLOAD_BYTES"])
    if as_json:
        found = {"programmes": len(parsed.programmes), "errors": [e.as_dict() for e in parsed.errors]}
        if not quiet:
            found["parsed"] = [{"id": p.id, "name": p.name, "faculty": p.faculty, "campus": p.campus,
                                "schemes": [s.as_text() for s in p.schemes]} for p in parsed.programmes]
        click.echo(json.dumps(found, indent=2))
    else:
        for programme in () if quiet else parsed.programmes:
            print_programme(programme)
        print_errors(parsed.errors)
        schemes = sum(1 for p in parsed.programmes if len(p.schemes) > 1)
        click.echo(f"{file}: {len(parsed.programmes)} programmes ok ({schemes} with alternative schemes), "
                   f"{len(parsed.errors)} row errors")
    sys.exit(1 if parsed.errors else 0)


def print_programme(programme: Programme) -> None:
    """A programme as read: one line, then one line per scheme (labelled when it has a label)."""
    where = " · ".join(part for part in (programme.name, programme.faculty, programme.campus) if part)
    click.echo(f"{programme.id}  {where}")
    for scheme in programme.schemes:
        label = f"scheme {scheme.label}: " if scheme.label else ""
        click.echo(f"  {label}{scheme}")


@main.command()
@click.option("--format", "kind", type=click.Choice(("csv", "xlsx")), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write it to this file [default: standard output; an .xlsx needs -o unless piped].")
def template(kind: str, output: str | None) -> None:
    """A catalogue to start from: every column, one example programme per kind of requirement, and the column notes
    (in the .xlsx: a `notes` sheet and a comment on each header cell)."""
    from beuwi import template as templates

    data = templates.render(kind)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"{output}: the catalogue template ({kind}, {len(templates.EXAMPLES)} example rows)", err=True)
    elif kind == "xlsx" and sys.stdout.isatty():
        raise click.UsageError("an .xlsx workbook is binary: write it with -o FILE.xlsx or pipe it to a file")
    else:
        sys.stdout.buffer.write(data)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@data_dir_option
@click.option("--activate", is_flag=True, help="Make the new version the one the engine serves.")
@json_option
def load(file: str, data_dir: str | None, activate: bool, as_json: bool) -> None:
    """Upload a catalogue file as the admin dashboard does, through the admin app's upload service and stores (so
    the dashboard lists it, uploaded by `cli`): a new inactive version, rows with errors skipped."""
    from beuwi.admin import uploads
    from beuwi.admin.stores import StoreError
    from beuwi.serving import admin_stores

    values = settings(data_dir)
    data = loadable(file, values["MAX_UPLOAD_BYTES"])
    refused = None
    with graph_failures(), admin_stores(values, "beuwi load") as stores:
        record, errors = uploads.upload(stores, data, Path(file).name, "cli", values["MAX_UPLOAD_BYTES"])
        if activate:
            try:
                record = uploads.activate(stores, record.id, "cli")
            except (uploads.UploadConflict, StoreError, GraphError) as exc:
                refused = f"upload {record.id} stays inactive: {exc}"
    if as_json:
        summary = {"catalogue": record.id, "upload": record.id, "uploaded_by": record.uploaded_by,
                   "programmes": record.programmes, "active": record.active, "error_count": record.errors,
                   "errors": [e.as_dict() for e in errors], **({"not_activated": refused} if refused else {})}
        click.echo(json.dumps(summary, indent=2))
    else:
        print_errors(errors)
        state = "active" if record.active else "inactive (activate it in the admin dashboard or with --activate)"
        click.echo(f"uploaded {record.filename} as upload {record.id} by cli: {record.programmes} programmes, "
                   f"{record.errors} rows skipped, {state}")
    if refused:
        click.echo(f"not activated: {refused}", err=True)
        sys.exit(2)


@main.command()
@click.option("--subject", "-s", "subjects", multiple=True, metavar="'NAME (LEVEL[:GRADE])'",
              help="A subject passed, e.g. 'Chemistry (CAPE:II)'; repeat for each.")
@click.option("--in-graph", is_flag=True,
              help="Only list eligible programme ids, found by the graph's eligibility query in one round trip "
                   "instead of reading the catalogue into memory.")
@data_dir_option
@json_option
def search(subjects: tuple[str, ...], in_graph: bool, data_dir: str | None, as_json: bool) -> None:
    """Search the active catalogue, as the engine would."""
    from beuwi.search.active import Snapshot
    from beuwi.search.answers import search as answer
    from beuwi.search.profile import InvalidProfile, parse_subjects

    values = settings(data_dir)
    try:
        refs = parse_subjects(list(subjects), SubjectList.default(), values["MAX_PROFILE_SUBJECTS"])
    except InvalidProfile as exc:
        for bad in exc.subjects:
            click.echo(f"{bad['error']}", err=True)
        sys.exit(2)
    try:
        with closing(open_store(values)) as store:
            version = store.active_version()
            if version is None:
                click.echo("no catalogue is active: load one with `beuwi load FILE --activate`", err=True)
                sys.exit(3)
            if in_graph:
                eligible = store.eligible_ids(version, Profile.from_refs(refs))
            else:
                result = answer(Snapshot.build(version, store.programmes(version)), refs)
    except GraphError as exc:
        graph_failure(exc)
    if in_graph:
        click.echo(json.dumps({"catalogue": version, "eligible": eligible}, indent=2) if as_json
                   else "\n".join([f"Catalogue {version}: eligible for {len(eligible)} programmes", *eligible]))
    elif as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        print_result(result)


def print_result(result: dict) -> None:
    counts = {f["faculty"]: f["eligible"] for f in result["faculties"]}
    click.echo(f"Catalogue {result['catalogue']}: eligible for {len(result['eligible'])} programmes")
    faculty = None
    for p in result["eligible"]:
        if p["faculty"] != faculty:
            faculty = p["faculty"]
            click.echo(f"\n{faculty} ({counts[faculty]})")
        route = f"  (scheme {p['scheme']})" if p["scheme"] else ""
        conditions = f"  subject to {', '.join(c.lower() for c in p['conditions'])}" if p["conditions"] else ""
        click.echo(f"  {p['degree']} {p['name']}".rstrip() + f"  [{p['id']}]{route}{conditions}")
    if result["near_misses"]:
        click.echo("\nNearly there:")
        for p in result["near_misses"]:
            click.echo(f"  {p['name']} ({p['faculty']}): {'; '.join(m['text'] for m in p['missing'])}")
    if result["suggestions"]:
        click.echo("\nWhat would open more programmes:")
        for s in result["suggestions"]:
            action = f"replace {s['replaces']} with" if s["replaces"] else "add"
            click.echo(f"  {action} {s['subject']} to open {s['unlocks']} more")


@main.group()
def serve() -> None:
    """Run a BeUWI service."""


@serve.command("search")
@data_dir_option
@host_option
@click.option("--port", default=8000, show_default=True, type=int)
@gunicorn_options()
@seed_option
def serve_search(data_dir, host, port, workers, threads, seed) -> None:
    """Run the programme engine under gunicorn, starting the embedded graph when none is configured."""
    from beuwi.serving import serve_engine

    with graph_failures():
        serve_engine(settings(data_dir), host=host, port=port, workers=workers, threads=threads, seed=seed)


@serve.command("admin")
@data_dir_option
@host_option
@click.option("--port", default=8001, show_default=True, type=int)
@gunicorn_options(workers=1)  # low-traffic: one worker unless asked (more are safe: activations take a lease)
def serve_admin(data_dir, host, port, workers, threads) -> None:
    """Run the admin API under gunicorn, starting the embedded graph when none is configured."""
    from beuwi.serving import serve_admin as run_admin

    with graph_failures():
        run_admin(settings(data_dir), host=host, port=port, workers=workers, threads=threads)


@serve.command("site")
@host_option
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--engine", default="http://127.0.0.1:8000", show_default=True, help="The engine's base URL.")
@click.option("--admin", default="http://127.0.0.1:8001", show_default=True, help="The admin app's base URL.")
def serve_site(host, port, engine, admin) -> None:
    """Serve the static web clients in frontend/ with a config.js naming the two APIs."""
    from beuwi.serving import serve_site as run_site

    run_site(settings(), host=host, port=port, engine=engine, admin=admin)


@main.group()
def admin() -> None:
    """Manage who may use the admin app and in which role: named tokens (local backend) or Firebase users' role."""


@admin.group()
def token() -> None:
    """Named bearer tokens of the local backend, one per person, kept hashed in <data dir>/admin.sqlite3."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the token may do.")
@click.option("--days", type=click.IntRange(1), help="Expire after this many days [default: never].")
@data_dir_option
def token_create(name: str, role: str, days: int | None, data_dir) -> None:
    """Make a token for NAME and print it, this once only (only its SHA-256 is kept)."""
    with token_errors():
        secret = token_store(data_dir).create(name, role, days)
    click.echo(f"Token for {name} ({role}); it is shown only this once:", err=True)
    click.echo(secret)


@token.command("list")
@json_option
@data_dir_option
def token_list(as_json: bool, data_dir) -> None:
    """Every token's name, role, dates and status (never the token)."""
    from beuwi.admin.tokens import now

    with token_errors():
        listed = [t.as_dict(now()) for t in token_store(data_dir).list()]
    if as_json:
        click.echo(json.dumps({"tokens": listed}, indent=2))
        return
    columns = ("name", "role", "status", "created", "expires", "revoked_at")
    rows = [columns] + [tuple(t[c] or "-" for c in columns) for t in listed]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@token.command("revoke")
@click.argument("name")
@data_dir_option
def token_revoke(name: str, data_dir) -> None:
    """Revoke NAME's token: the admin app refuses it from the next request on."""
    with token_errors():
        at = token_store(data_dir).revoke(name)
    click.echo(f"{name}'s token is revoked ({at})")


def token_store(data_dir: str | None):
    from beuwi.admin.tokens import TokenStore

    return TokenStore.from_settings(settings(data_dir))


@contextmanager
def token_errors():
    """A refused change or an unreadable token store exits 2 with the reason."""
    from beuwi.admin.stores import StoreError
    from beuwi.admin.tokens import TokenError

    try:
        yield
    except (TokenError, StoreError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@admin.command()
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
def grant(email: str, role: str) -> None:
    """Give a Firebase user a role (replacing any other); it applies from their next sign-in."""
    set_firebase_role(email, role)
    click.echo(f"{email} now has the {role} role (from their next sign-in; their sessions were signed out)")


@admin.command()
@click.argument("email")
def revoke(email: str) -> None:
    """Take a Firebase user's role away; their sessions are signed out at once."""
    set_firebase_role(email, None)
    click.echo(f"{email} no longer has an admin role (their sessions were signed out)")


def set_firebase_role(email: str, role: str | None) -> None:
    from beuwi.admin.auth import set_role
    from beuwi.admin.firebase import init_firebase

    try:
        set_role(init_firebase(settings()), email, role)
    except LookupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@admin.command("purge")
@click.option("--older-than", type=click.FloatRange(0), default=from_settings("LOADING_GRACE_SECONDS"),
              show_default=f"BEUWI_LOADING_GRACE_SECONDS or {config.DEFAULTS['LOADING_GRACE_SECONDS']:g}",
              help="Seconds a version must have been loading (a load under way is younger).")
@data_dir_option
def admin_purge(older_than: float, data_dir: str | None) -> None:
    """Remove the catalogue versions a crash left unfinished (a killed upload or load, a killed delete): nodes, id,
    files and any record. The admin app does it by itself after BEUWI_LOADING_GRACE_SECONDS."""
    from beuwi.admin import repair
    from beuwi.admin.lease import Held
    from beuwi.serving import admin_stores

    with graph_failures(), admin_stores(settings(data_dir), "beuwi admin purge") as stores:
        try:
            purged = repair.purge(stores, older_than, "cli")
        except Held:
            click.echo("another activation, schedule or delete is in progress; try again", err=True)
            sys.exit(2)
    for version in purged:
        click.echo(f"purged catalogue {version.id}: {version.status} since {version.created}, "
                   f"{version.programmes} programmes from {version.source or 'an unnamed file'}")
    click.echo(f"{len(purged)} unfinished catalogue versions purged")


@main.command()
@data_dir_option
@host_option
@click.option("--port", default=8000, show_default=True, type=int, help="The engine's port.")
@click.option("--admin-port", default=8001, show_default=True, type=int, help="The admin app's port.")
@click.option("--site-port", default=8080, show_default=True, type=int, help="The web clients' port.")
@seed_option
def dev(data_dir, host, port, admin_port, site_port, seed) -> None:
    """Run the engine, the admin app and the web clients together on one graph (what `make run` starts)."""
    from beuwi.serving import serve_all

    with graph_failures():
        serve_all(settings(data_dir), host=host, port=port, admin_port=admin_port, site_port=site_port, seed=seed)


@main.command()
@click.option("--quick", is_flag=True, help="Stop at 10,000 programmes, shorter runs (about 5 minutes on 2 cores).")
@click.option("--smoke", is_flag=True, hidden=True, help="Only the sample workloads (v1 and v2), 1 s runs (the tests' check).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), help="Write the results as JSON here.")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False), help="Write the Markdown table here.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), help="Write latency vs catalogue size (PNG).")
@click.option("--connections", default=8, show_default=True, type=click.IntRange(1), help="wrk connections.")
@click.option("--wrk-threads", default=2, show_default=True, type=click.IntRange(1), help="wrk threads.")
@click.option("--duration", type=click.FloatRange(1), help="Seconds of load per workload [quick 3, full 10].")
@gunicorn_options()
@click.option("--max-p99-ms", default=500.0, show_default=True, type=float,
              help="Exit 1 when any workload's end-to-end p99 is this or more (or any request failed).")
def bench(quick, smoke, json_file, markdown_file, plot_file, connections, wrk_threads, duration, workers, threads,
          max_p99_ms) -> None:
    """Benchmark the engine over HTTP with wrk against the original query, on generated catalogues.

    Starts its own embedded FalkorDB (or uses BEUWI_GRAPH_URI, in a graph of its own), an embedded Neo4j with APOC for
    the 2019 query, and the engine.
    """
    from beuwi.bench import report
    from beuwi.bench.run import BenchError, Options, run
    from beuwi.bench.wrk import WrkError

    options = Options(mode="smoke" if smoke else "quick" if quick else "full", connections=connections,
                      duration=duration, workers=workers, threads=threads, wrk_threads=wrk_threads)
    try:
        data = run(settings(), options)
    except (BenchError, WrkError) as exc:
        click.echo(f"beuwi bench: {exc}", err=True)
        sys.exit(2)
    except GraphError as exc:
        graph_failure(exc)
    table = report.markdown(data)
    for path, write in ((json_file, lambda p: Path(p).write_text(json.dumps(data, indent=2) + "\n")),
                        (markdown_file, lambda p: Path(p).write_text(table)),
                        (plot_file, lambda p: report.plot(data, p))):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write(path)
    click.echo(table)
    failures = report.over_limit(data, max_p99_ms)
    if failures:
        click.echo("beuwi bench: FAILED\n  " + "\n  ".join(failures), err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
