"""The files in docker/ cannot be built here (no Docker engine), so they are checked against the code instead: every
command they run exists in the CLI, every variable they set is one the app reads, every file they copy exists, the
nginx configs load in a real nginx, every service has a health check, and README.md documents every
variable with its real default."""
import fnmatch
import json
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
import yaml

from beuwi.cli import main
from beuwi.config import DEFAULTS
from beuwi.graph import SCHEMES

from .processes import for_local_nginx, nginx, nginx_main_config

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
APP_DOCKERFILES = [DOCKER / "engine.Dockerfile", DOCKER / "admin.Dockerfile"]
SETTINGS = {f"BEUWI_{key}" for key in DEFAULTS}
# Read by the Google and Firebase client libraries the admin app uses, not by beuwi.config.
EXTERNAL = {"FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST",
            "GOOGLE_APPLICATION_CREDENTIALS"}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with `\\` continuations joined and comments dropped."""
    logical, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        logical.append((keyword.upper(), arguments.strip()))
        pending = ""
    return logical


def exec_form(arguments: str) -> list[str]:
    """A JSON-array command. Shell form would put /bin/sh in front as PID 1, and SIGTERM would not reach gunicorn."""
    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(part, str) for part in command), arguments
    return command


def healthcheck(dockerfile: Path) -> list[str] | None:
    """The HEALTHCHECK's command, options skipped."""
    for keyword, arguments in instructions(dockerfile):
        if keyword == "HEALTHCHECK":
            command = re.sub(r"^(--\S+\s+)*", "", arguments)
            assert command.startswith("CMD "), arguments
            return exec_form(command[4:])
    return None


def built_from(service: dict) -> Path | None:
    build = service.get("build")
    return (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).resolve() if build else None


def app_services() -> dict[str, dict]:
    """The Compose services that run the beuwi package."""
    return {name: service for name, service in COMPOSE["services"].items() if built_from(service) in APP_DOCKERFILES}


def compose_commands() -> list[list[str]]:
    """Every command line the Compose file runs: command, entrypoint and health-check tests."""
    found = []
    for service in COMPOSE["services"].values():
        for command in (service.get("command"), service.get("entrypoint"), service.get("healthcheck", {}).get("test")):
            if isinstance(command, str):
                found.append(shlex.split(command))
            elif command and command[0] == "CMD-SHELL":
                found.append(shlex.split(command[1]))
            elif command:
                found.append(command[1:] if command[0] == "CMD" else command)
    return found


def dockerfile_commands() -> list[list[str]]:
    found = [exec_form(arguments) for path in DOCKERFILES for keyword, arguments in instructions(path)
             if keyword in ("CMD", "ENTRYPOINT")]
    return found + [command for path in DOCKERFILES if (command := healthcheck(path))]


def check_cli(argv: list[str]) -> str:
    """Parse a `beuwi ...` command line as the CLI would; fail on an unknown command, option or value."""
    command, path, args = main, ["beuwi"], list(argv[1:])
    while isinstance(command, click.Group):
        assert args, f"`{' '.join(argv)}` names no command of `{' '.join(path)}`"
        name, *args = args
        command = command.get_command(click.Context(command), name)
        assert command is not None, f"`{' '.join(path)}` has no command {name!r} (in `{' '.join(argv)}`)"
        path.append(name)
    try:
        command.make_context(" ".join(path), args)
    except click.ClickException as exc:
        raise AssertionError(f"`{' '.join(argv)}`: {exc.format_message()}") from exc
    return " ".join(path[1:])


# --- Dockerfiles ---------------------------------------------------------------------------------------------------

def test_there_are_dockerfiles_for_the_engine_the_admin_app_and_the_site():
    assert {p.name for p in DOCKERFILES} >= {"engine.Dockerfile", "admin.Dockerfile", "site.Dockerfile"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_image_has_a_pinned_base_a_health_check_and_exec_form_commands(dockerfile):
    steps = instructions(dockerfile)
    keyword, base = steps[0]
    assert keyword == "FROM" and ":" in base and not base.endswith(":latest"), base
    assert healthcheck(dockerfile)
    for keyword, arguments in steps:
        if keyword in ("CMD", "ENTRYPOINT"):
            exec_form(arguments)


@pytest.mark.parametrize("dockerfile", APP_DOCKERFILES, ids=lambda p: p.name)
def test_the_app_images_run_beuwi_as_a_non_root_user_and_stop_on_sigterm(dockerfile):
    steps = dict(instructions(dockerfile))  # the last of each instruction is the one that applies
    assert steps["USER"].split(":")[0] not in ("root", "0")
    assert steps["STOPSIGNAL"] == "SIGTERM"
    assert exec_form(steps["CMD"])[:2] == ["beuwi", "serve"]
    assert "/api/health" in " ".join(healthcheck(dockerfile))


def test_every_beuwi_command_run_is_a_command_of_the_cli():
    commands = [argv for argv in dockerfile_commands() + compose_commands() if argv[0] == "beuwi"]
    assert {check_cli(argv) for argv in commands} >= {"serve search", "serve admin"}


@pytest.mark.parametrize("argv", [["beuwi", "serve", "nothing"], ["beuwi", "serve", "search", "--no-such-option"],
                                  ["beuwi", "serve", "search", "--port", "eighty"], ["beuwi", "serve"]])
def test_the_cli_check_rejects_what_the_cli_would(argv):
    with pytest.raises(AssertionError):
        check_cli(argv)


def dockerignored() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_files_copied_into_images_exist_and_are_in_the_build_context(dockerfile):
    copies = [arguments.split() for keyword, arguments in instructions(dockerfile) if keyword in ("COPY", "ADD")]
    assert copies
    for arguments in copies:
        sources = [a for a in arguments if not a.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}: no such file in the repository"
            excluded = [p for p in dockerignored() if fnmatch.fnmatch(source.rstrip("/"), p)]
            assert not excluded, f"{dockerfile.name}: COPY {source} is excluded by .dockerignore {excluded}"


# --- Compose -------------------------------------------------------------------------------------------------------

def test_compose_runs_neo4j_engine_replicas_behind_nginx_the_admin_app_the_site_and_dev_emulators():
    services = COMPOSE["services"]
    assert services["neo4j"]["image"].startswith("neo4j:5") and "community" in services["neo4j"]["image"]
    assert any(volume.endswith(":/data") for volume in services["neo4j"]["volumes"])
    assert services["engine"]["deploy"]["replicas"] >= 2 and "ports" not in services["engine"]  # scalable
    assert services["lb"]["image"].startswith("nginx:")
    assert "./nginx-lb.conf:/etc/nginx/conf.d/default.conf:ro" in services["lb"]["volumes"]
    assert {"admin", "site"} <= set(services)
    assert services["firebase"]["profiles"] == ["dev"]


@pytest.mark.parametrize("name", sorted(COMPOSE["services"]))
def test_every_compose_service_has_a_health_check(name):
    service = COMPOSE["services"][name]
    dockerfile = built_from(service)
    assert "healthcheck" in service or (dockerfile and healthcheck(dockerfile)), f"{name} has no health check"


@pytest.mark.parametrize("name", sorted(COMPOSE["services"]))
def test_what_compose_builds_and_mounts_exists(name):
    service = COMPOSE["services"][name]
    if "build" in service:
        assert built_from(service).exists()
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("."):
            assert (COMPOSE_FILE.parent / source).exists(), f"{name} mounts {source}, which does not exist"


def test_the_app_services_set_only_variables_the_app_reads():
    assert set(app_services()) == {"engine", "admin"}
    for name, service in app_services().items():
        unknown = set(service["environment"]) - SETTINGS - EXTERNAL
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"


def test_the_app_services_use_the_neo4j_service_by_default():
    for service in app_services().values():
        uri = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", service["environment"]["BEUWI_GRAPH_URI"])  # the default
        assert SCHEMES[uri.split("://")[0]] == "Neo4j" and uri.endswith("//neo4j:7687")
        assert service["depends_on"]["neo4j"]["condition"] == "service_healthy"


def test_every_beuwi_variable_in_docker_files_is_a_setting():
    for path in [*DOCKER.iterdir(), ROOT / ".dockerignore"]:
        # Not after a dot: window.BEUWI_CONFIG in the web clients' config.js is a JavaScript name.
        unknown = set(re.findall(r"(?<![.\w])BEUWI_[A-Z0-9_]+", path.read_text())) - SETTINGS
        assert not unknown, f"{path.name} names settings beuwi.config does not have: {unknown}"


def env_example() -> dict[str, str]:
    """Every variable .env.example mentions, commented out or not, with its example value."""
    lines = (DOCKER / ".env.example").read_text().splitlines()
    return {m[1]: m[2] for line in lines if (m := re.match(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line))}


def test_every_variable_compose_reads_is_in_the_env_example():
    text = COMPOSE_FILE.read_text()
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    passed_through = {key for service in COMPOSE["services"].values()
                      for key, value in (service.get("environment") or {}).items() if value is None}
    missing = (interpolated | passed_through - SETTINGS) - set(env_example())
    assert not missing, f".env.example does not mention {missing}"


def test_the_env_example_holds_no_secret():
    lines = (DOCKER / ".env.example").read_text().splitlines()
    active = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    for name, value in active.items():
        if re.search("PASSWORD|TOKEN|SECRET|KEY", name):
            assert value == "" or value.startswith("change-me"), f"{name} in .env.example looks like a real secret"


# --- the site's config.js --------------------------------------------------------------------------------------------

def site_config(tmp_path: Path, **env) -> dict:
    """Run docker/site-config.sh as the nginx image would, into tmp_path, and read back window.BEUWI_CONFIG."""
    subprocess.run(["sh", str(DOCKER / "site-config.sh"), str(tmp_path)], env=env, check=True, capture_output=True)
    script = (tmp_path / "config.js").read_text()
    assert script.startswith("window.BEUWI_CONFIG = ") and script.rstrip().endswith(";")
    return json.loads(script.removeprefix("window.BEUWI_CONFIG = ").rstrip().rstrip(";"))


def test_the_site_config_defaults_to_the_composed_ports(tmp_path):
    assert site_config(tmp_path) == {"engine": "http://localhost:8000", "admin": "http://localhost:8001",
                                     "firebase": None}


def test_the_site_config_comes_from_the_environment(tmp_path):
    config = site_config(tmp_path, SITE_ENGINE_URL="https://api.example", SITE_ADMIN_URL="https://admin.example",
                         SITE_FIREBASE_API_KEY="emulator", SITE_FIREBASE_AUTH_EMULATOR="http://localhost:9099")
    assert config == {"engine": "https://api.example", "admin": "https://admin.example",
                      "firebase": {"apiKey": "emulator", "authEmulator": "http://localhost:9099"}}


def test_the_site_config_refuses_a_value_that_would_break_the_script(tmp_path):
    with pytest.raises(subprocess.CalledProcessError):
        site_config(tmp_path, SITE_ENGINE_URL='x"; alert(1); "')


def test_compose_sets_only_variables_the_site_script_reads():
    read = set(re.findall(r"\$\{?(SITE_[A-Z_]+)", (DOCKER / "site-config.sh").read_text()))
    assert set(COMPOSE["services"]["site"]["environment"]) == read


# --- nginx ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["nginx-lb.conf", "nginx-site.conf"])
def test_the_nginx_configs_load_in_a_real_nginx(tmp_path, name):
    """Each is a conf.d file of the nginx image, included in http {}; Compose service names become loopback ports."""
    services = {service: [8000] for service in COMPOSE["services"]}
    (tmp_path / name).write_text(for_local_nginx((DOCKER / name).read_text(), services))
    config = nginx_main_config(tmp_path, f"access_log off;\ninclude {tmp_path / name};")
    result = subprocess.run(nginx(tmp_path, config, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_load_balancer_retries_failed_requests_on_the_next_engine():
    config = (DOCKER / "nginx-lb.conf").read_text()
    # Without non_idempotent: a POST that reached an engine is never sent to a second one.
    assert re.findall(r"proxy_next_upstream ([^;]*);", config) == ["error timeout http_502 http_503"]
    assert re.search(r"server engine:8000\b", config) and "keepalive" in config


# --- the one table of settings ---------------------------------------------------------------------------------------

def documented_defaults() -> dict[str, str]:
    """variable -> default cell of the table in README.md."""
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|", (ROOT / "README.md").read_text(), re.M)
    return {name: cell.strip() for name, cell in rows}


def test_every_setting_is_documented_with_its_real_default():
    documented = documented_defaults()
    for key, default in DEFAULTS.items():
        cell = documented.get(f"BEUWI_{key}")
        assert cell is not None, f"BEUWI_{key} is missing from README.md"
        value = "" if cell == "*(empty)*" else cell.strip("`")
        assert type(default)(value) == default, f"BEUWI_{key}: documented default {cell}, really {default!r}"


def test_every_variable_the_docker_files_use_is_documented():
    used = set(env_example()) | EXTERNAL | set(COMPOSE["services"]["site"]["environment"])
    missing = used - set(documented_defaults())
    assert not missing, f"README.md does not document {missing}"


# --- slow clients: what protects each exposed port ------------------------------------------------------------------

def test_compose_publishes_the_apps_only_through_nginx():
    services = COMPOSE["services"]
    assert "ports" not in services["engine"] and "ports" not in services["admin"]
    published = {port.rsplit(":", 1)[1] for port in services["lb"]["ports"]}
    assert published == {"8000", "8001"}
    assert {"engine", "admin"} <= set(services["lb"]["depends_on"])


def nginx_directives(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for directive, value in re.findall(r"^\s*(\w+)\s+([^;{]*);", (DOCKER / name).read_text(), re.M):
        found.setdefault(directive, []).append(value.strip())
    return found


@pytest.mark.parametrize("name", ["nginx-lb.conf", "nginx-site.conf"])
def test_nginx_times_out_slow_clients_within_10_s(name):
    directives = nginx_directives(name)
    for timeout in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert directives[timeout] == ["10s"], f"{name}: {timeout}"


def test_nginx_takes_the_bodies_each_app_takes():
    from beuwi.admin.app import MULTIPART_OVERHEAD
    from beuwi.search.app import MAX_REQUEST_BYTES

    engine, admin = nginx_directives("nginx-lb.conf")["client_max_body_size"]
    assert engine == f"{MAX_REQUEST_BYTES // 1024}k"
    assert admin == f"{(DEFAULTS['MAX_UPLOAD_BYTES'] + MULTIPART_OVERHEAD) // 1024}k"


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return re.split(r"\n##+ ", text.split(f"\n{title}\n", 1)[1], maxsplit=1)[0]


def test_the_one_machine_recipe_binds_the_apps_to_loopback_behind_nginx(tmp_path):
    """The recipe's commands as written: both apps on loopback, and its sed turning docker/nginx-lb.conf into an
    nginx config that loads and proxies to exactly their ports."""
    recipe = re.search(r"```sh\n(.*?)```", readme_section("### One machine without containers"), re.S)[1]
    recipe = recipe.replace("\\\n", " ")
    serves = dict(re.findall(r"beuwi serve (\w+) (.*)", recipe))
    assert set(serves) == {"search", "admin"}
    for service, options in serves.items():
        assert "--host 127.0.0.1" in options, f"beuwi serve {service} {options}"
    ports = {re.search(r"--port (\d+)", options)[1] for options in serves.values()}
    sed = shlex.split(re.search(r"^(sed .*) docker/nginx-lb.conf > ", recipe, re.M)[1])
    config = subprocess.run([*sed, str(DOCKER / "nginx-lb.conf")], capture_output=True, text=True, check=True).stdout
    assert set(re.findall(r"server 127\.0\.0\.1:(\d+)", config)) == ports
    (tmp_path / "beuwi.conf").write_text(config)
    main_config = nginx_main_config(tmp_path, f"access_log off;\ninclude {tmp_path / 'beuwi.conf'};")
    result = subprocess.run(nginx(tmp_path, main_config, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
