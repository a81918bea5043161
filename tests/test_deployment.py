"""The docker-compose deployment: compose file, Dockerfile and production settings, checked offline."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
# The compose validator lives in its own environment (requirements/tools.txt, scripts/bootstrap.sh test).
TOOLS_BIN = REPO / ".local" / "tools" / "bin"
APP_SERVICES = ("migrate", "web", "worker", "beat")
MEDIA_ROOT = "/var/lib/rivers/media"


def tool(name: str) -> Path:
    """Return a program of the tools environment; fail on CI when it is missing, else skip."""
    path = TOOLS_BIN / name
    if not path.exists():
        reason = f"{path} is missing; `scripts/bootstrap.sh test` installs requirements/tools.txt there"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def run(args: list, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def compose() -> dict:
    """Return docker-compose.yml as data, read by the YAML library the validator itself uses."""
    # ruamel.yaml comes with check-jsonschema; PyYAML is not a dependency of either environment.
    script = (
        "import json, sys\n"
        "from ruamel.yaml import YAML\n"
        "print(json.dumps(YAML(typ='safe', pure=True).load(open(sys.argv[1], encoding='utf-8'))))\n"
    )
    result = run([str(tool("python")), "-c", script, str(COMPOSE_FILE)])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_file_follows_the_compose_specification():
    result = run([str(tool("check-jsonschema")), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_has_no_obsolete_version_key(compose):
    assert "version" not in compose


def test_every_long_running_service_has_a_healthcheck(compose):
    services = compose["services"]
    for name in ("db", "redis", "web", "worker", "beat"):
        assert name in services, name
        healthcheck = services[name].get("healthcheck", {})
        assert healthcheck.get("test") and not healthcheck.get("disable"), f"{name} has no healthcheck"

    def command(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "pg_isready" in command("db")
    assert "redis-cli ping" in command("redis")
    assert "healthcheck.py web" in command("web")
    assert "/healthz" in (REPO / "docker" / "healthcheck.py").read_text()
    assert "inspect ping" in command("worker")


def test_services_run_the_expected_programs(compose):
    services = compose["services"]
    assert services["db"]["image"].startswith("postgis/postgis:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    # A one-shot service that restarts after success would migrate forever and never complete.
    assert services["migrate"]["restart"] == "no"


def test_web_waits_for_healthy_database_and_redis_and_for_migrations(compose):
    depends_on = compose["services"]["web"]["depends_on"]
    assert depends_on["db"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_app_services_use_production_settings_and_the_compose_servers(compose):
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert re.fullmatch(r"postgis://[^@]+@db:5432/.+", environment["DATABASE_URL"]), name
        assert environment["REDIS_URL"] == "redis://redis:6379/0", name
        assert environment["MEDIA_ROOT"] == MEDIA_ROOT, name


def database_role(url: str) -> str:
    match = re.fullmatch(r"postgis://([^:@]+)(?::[^@]*)?@db:5432/.+", url)
    assert match, url
    return match.group(1)


def test_only_migrate_connects_as_the_schema_owner(compose):
    """Web, worker and beat connect as a role that owns nothing: it cannot switch the history trigger off."""
    services = compose["services"]
    superuser = re.sub(r"\$\{POSTGRES_USER:-([^}]+)\}", r"\1", services["db"]["environment"]["POSTGRES_USER"])
    owner = database_role(services["migrate"]["environment"]["DATABASE_URL"])
    assert owner not in (superuser, "postgres")
    for name in ("web", "worker", "beat"):
        role = database_role(services[name]["environment"]["DATABASE_URL"])
        assert role not in (owner, superuser, "postgres"), name
        assert "DB_APP_PASSWORD" in services[name]["environment"]["DATABASE_URL"], name


def test_the_database_roles_are_made_at_the_first_start(compose):
    """The db's init script gives the owner the schema and the application's role rows only."""
    mounts = dict(reversed(mount.split(":")[:2]) for mount in compose["services"]["db"]["volumes"])
    init_script = REPO / mounts["/docker-entrypoint-initdb.d/20-rivers-roles.sh"]
    roles_sql = REPO / mounts["/rivers/db-roles.sql"]
    assert "/rivers/db-roles.sql" in init_script.read_text()
    text = roles_sql.read_text()
    owner = database_role(compose["services"]["migrate"]["environment"]["DATABASE_URL"])
    app = database_role(compose["services"]["web"]["environment"]["DATABASE_URL"])
    assert f"-v owner={owner}" in init_script.read_text() and f"-v app={app}" in init_script.read_text()
    assert 'ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE' in text
    assert 'ALTER DATABASE :"db" OWNER TO :"owner"' in text
    grants = re.findall(r"GRANT ([A-Z, ]+) ON (?:TABLES|%s) TO", text)
    assert grants and all(set(grant.split(", ")) == {"SELECT", "INSERT", "UPDATE", "DELETE"} for grant in grants)


def test_secrets_are_required_and_have_no_defaults(compose):
    values = [
        value
        for service in compose["services"].values()
        for value in (service.get("environment") or {}).values()
        if isinstance(value, str)
    ]
    text = "\n".join(values)
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "DB_OWNER_PASSWORD", "DB_APP_PASSWORD"):
        assert "${" + secret + ":?" in text, secret
        assert not re.search(r"\$\{" + secret + r"(:?-|-)", text), f"{secret} has a default"


def test_database_and_media_live_on_named_volumes(compose):
    declared = set(compose["volumes"])

    def volume_at(service: str, target: str) -> str:
        for mount in compose["services"][service].get("volumes", []):
            source, _, mount_target = mount.partition(":")
            if mount_target.split(":")[0] == target:
                return source
        raise AssertionError(f"{service} mounts nothing at {target}")

    db_data = volume_at("db", "/var/lib/postgresql/data")
    media = volume_at("web", MEDIA_ROOT)
    assert {db_data, media} <= declared
    # The worker makes photo thumbnails: it must see the same files as web.
    assert volume_at("worker", MEDIA_ROOT) == media


def dockerfile_instructions() -> list[tuple[str, str]]:
    """Return the Dockerfile's (INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def test_dockerfile_builds_a_geodjango_image_that_runs_unprivileged():
    instructions = dockerfile_instructions()
    runs = " && ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "bookworm" in next(arguments for keyword, arguments in instructions if keyword == "FROM")
    assert re.search(r"apt-get install .*\b(gdal-bin|libgdal32)\b", runs)
    assert re.search(r"apt-get install .*\blibgeos-c1v5\b", runs)
    assert ("COPY", "requirements/base.txt requirements/base.txt") in instructions
    assert "pip install -r requirements/base.txt" in runs
    assert "collectstatic" in runs
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert ("EXPOSE", "8000") in instructions
    entrypoint = json.loads(next(arguments for keyword, arguments in instructions if keyword == "ENTRYPOINT"))
    assert os.access(REPO / Path(entrypoint[0]).relative_to("/app"), os.X_OK)


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", ".local"} <= ignored


def production_env(**extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # Knobs that would change what the check reports; the defaults are what is under test.
        if key not in {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS", "MEDIA_ROOT"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="example.org",
        DATABASE_URL="postgis://u:p@localhost:5432/x",
        REDIS_URL="redis://localhost:6379/0",
        **extra,
    )
    return env


def test_production_settings_pass_the_deployment_checks():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS:" not in output and "ERRORS:" not in output, output


def test_production_settings_silence_no_security_check_and_read_media_root_from_the_environment():
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.SILENCED_SYSTEM_CHECKS, str(settings.MEDIA_ROOT), settings.DEBUG]))"
    )
    result = run([sys.executable, "manage.py", "shell", "-c", script], production_env(MEDIA_ROOT="/srv/photos"))
    assert result.returncode == 0, result.stderr
    silenced, media_root, debug = json.loads(result.stdout.strip().splitlines()[-1])
    assert silenced == ["gis.W001"]
    assert media_root.rstrip("/") == "/srv/photos"
    assert debug is False
