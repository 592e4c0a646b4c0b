"""Docker does not run on the build machines, so the container files are checked statically: against
the Compose Specification's JSON schema (tests/unit/data/compose-spec.json, Apache-2.0, from the
compose-spec/compose-spec repository at commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6), against the
settings that config.py really reads, and for the deployment's rules (one migration step, health checks,
replicas behind the proxy)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from mmm_dash.config import Settings, load_settings
from tests.helpers import ROOT

COMPOSE_TEXT = (ROOT / "compose.yaml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
NGINX = ROOT / "deploy" / "nginx.conf"
SETTINGS = set(Settings.__dataclass_fields__)
# Variables in compose.yaml that are not mmm-dash settings, each with the reason it may be there.
NOT_SETTINGS = {
    "WEB_CONCURRENCY": "gunicorn's own worker count (read by gunicorn, not by config.py)",
    "POSTGRES_PASSWORD": "the database container's password (it reaches the app inside DATABASE_URL)",
}
SECRETS = ("SECRET_KEY", "POSTGRES_PASSWORD")
DUMMY_ENV = {
    "SECRET_KEY": "114a3825411b1ca990d5e6e0b0429b6f4ab0a6db9101c1963ac83ca32488f48c",
    "POSTGRES_PASSWORD": "p" * 64,
}
# Deliberately not config.py's default: the compose file deploys production.
COMPOSE_OWN_DEFAULTS = {"ENVIRONMENT"}
MIGRATING = re.compile(r"init-db|reset-db|flask\s+db|alembic|\bupgrade\b|precompute")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<colon>:?)(?P<op>[-?])(?P<arg>[^}]*))?\}")


def interpolate(text: str, env: dict) -> str:
    """Compose's variable substitution, for the forms this file uses (anything else fails the test)."""

    def one(match: re.Match) -> str:
        name, colon, op, arg = match.group("name", "colon", "op", "arg")
        value = env.get(name)
        missing = value is None or (colon and value == "")
        if op == "?" and missing:
            raise KeyError(f"{name}: {arg}")
        if op == "-" and missing:
            return arg
        return value or ""

    text = text.replace("$$", "\0")
    text = VARIABLE.sub(one, text)
    assert "$" not in text, "a variable form this checker (and the README) does not cover"
    return text.replace("\0", "$")


def compose(env: dict | None = None) -> dict:
    return yaml.safe_load(interpolate(COMPOSE_TEXT, DUMMY_ENV if env is None else env))


SERVICES = compose()["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if str(s.get("image", "")).startswith("mmm-dash")}


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def dockerfile_instruction(name: str) -> list[str]:
    """The JSON (exec) form of the last `name` instruction of the Dockerfile."""
    lines = re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, re.M)
    assert lines, f"no {name} in the Dockerfile"
    return json.loads(lines[-1])


# -- Dockerfile --------------------------------------------------------------------------------
def test_dockerfile_runs_gunicorn_as_non_root_with_healthcheck():
    assert re.search(r"^FROM python:3\.11-slim", DOCKERFILE, re.M)
    assert re.search(r"^USER app$", DOCKERFILE, re.M)
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    for needed in ("app.py", "mmm_dash", "data/models"):
        assert f"COPY {needed}" in DOCKERFILE
    # installed as a regular (non-editable) package: pages and assets come from package data
    assert "pip install --no-deps ." in DOCKERFILE and "rm -rf mmm_dash" in DOCKERFILE


def test_dockerfile_installs_dependencies_before_copying_the_code():
    """Layer order: a code change must not reinstall TensorFlow."""
    deps = DOCKERFILE.index("COPY pyproject.toml")
    install = DOCKERFILE.index("pip install .")
    code = DOCKERFILE.index("COPY mmm_dash")
    assert deps < install < code
    assert DOCKERFILE.index("USER app") > code


def test_dockerfile_default_command_only_serves():
    """Several replicas starting together must not each migrate or build: init and workers do that."""
    cmd = dockerfile_instruction("CMD")
    assert cmd[:2] == ["gunicorn", "app:server"]
    assert "--workers" not in cmd  # from WEB_CONCURRENCY, which compose and `docker run -e` can set
    assert "WEB_CONCURRENCY=" in DOCKERFILE
    assert not MIGRATING.search(" ".join(cmd))
    assert "ENTRYPOINT" not in DOCKERFILE  # nothing runs before the command either
    for command in ("python -m mmm_dash init-db", "python -m mmm_dash worker"):
        assert command in DOCKERFILE, f"the Dockerfile should document `{command}`"


# -- compose: shape -------------------------------------------------------------------------------
def test_compose_follows_the_compose_specification():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "tests" / "unit" / "data" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose())


def test_compose_has_the_team_services():
    assert {"db", "redis", "init", "web", "worker", "proxy", "adminer"} <= set(SERVICES)
    assert SERVICES["db"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:7")
    assert set(APP_SERVICES) == {"init", "web", "worker"}
    assert all(s.get("build") == "." for s in APP_SERVICES.values()), "one image, built from this repository"
    db = SERVICES["db"]
    assert any(v.split(":")[0] in compose()["volumes"] for v in db["volumes"])


def test_every_long_running_service_has_a_healthcheck():
    exempt = {"init": "one-shot: it exits, and others wait for its exit code", "adminer": "started by hand"}
    for name, service in SERVICES.items():
        if name in exempt:
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no health check"
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    worker_check = " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "celery -A mmm_dash.builder.tasks:celery_app inspect ping" in worker_check
    assert "-d mmm-bundles@$HOSTNAME" in worker_check, "ping this container's worker, not any worker"
    from mmm_dash.cli.worker_commands import worker

    node = next(p for p in worker.params if p.name == "hostname").default
    assert node == "mmm-bundles@%h", "the health check pings the node name the worker command gives itself"


def test_web_has_replicas_behind_the_proxy_only():
    web = SERVICES["web"]
    replicas = web.get("deploy", {}).get("replicas", 1)
    assert replicas >= 2
    assert "ports" not in web, "replicas are reached through the proxy, never directly"
    assert "command" not in web, "the image's command (gunicorn only) serves the web"
    proxy = SERVICES["proxy"]
    assert proxy["ports"] and proxy["depends_on"]["web"]["condition"] == "service_healthy"
    mounted = [v.split(":") for v in proxy["volumes"]]
    assert any((ROOT / src).resolve() == NGINX and ro == "ro" for src, _target, ro in mounted)


def test_proxy_sends_hsts_once_on_every_response():
    conf = re.sub(r"#.*", "", NGINX.read_text())
    hsts = re.search(r'add_header\s+Strict-Transport-Security\s+"max-age=(\d+)[^"]*"\s+always\s*;', conf)
    assert hsts and int(hsts.group(1)) >= 31536000
    assert re.search(r"proxy_hide_header\s+Strict-Transport-Security\s*;", conf)  # not the app's a second time


def test_proxy_config_balances_the_web_service_and_sets_the_forwarded_headers():
    conf = re.sub(r"#.*", "", NGINX.read_text())  # what nginx reads, not what the comments say
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    assert upstream and re.search(r"server\s+web:8050\b", upstream.group(2))
    assert "resolve" in upstream.group(2) and re.search(r"^\s*resolver\s+127\.0\.0\.11\b", conf, re.M)
    version = re.fullmatch(r"nginx:(\d+)\.(\d+)(?:\.\d+)?-alpine", SERVICES["proxy"]["image"])
    assert version and tuple(map(int, version.groups())) >= (1, 27), "upstream `resolve` needs nginx 1.27.3+"
    assert re.search(rf"proxy_pass\s+http://{upstream.group(1)}\s*;", conf)
    headers = dict(re.findall(r"proxy_set_header\s+(\S+)\s+(\S+);", conf))
    # Overwritten by this single trusted hop, so a client cannot choose the address the limits count.
    assert headers["X-Forwarded-For"] == "$remote_addr"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    # With its port: the app's Origin check compares host:port ($host would drop the port, and every POST
    # through the published :8050 would be refused as cross-site).
    assert headers["X-Forwarded-Host"] == "$http_host" and headers["Host"] == "$http_host"
    assert SERVICES["web"]["environment"]["TRUSTED_PROXY_COUNT"] == 1
    for name in ("worker", "init"):
        assert "TRUSTED_PROXY_COUNT" not in SERVICES[name]["environment"]


# -- compose: order of start and who migrates ------------------------------------------------------
def test_only_init_migrates_and_seeds_only_in_development():
    for name, service in SERVICES.items():
        if name != "init":
            assert not MIGRATING.search(command_text(service)), f"{name} must not migrate"
    init = command_text(SERVICES["init"])
    assert "python -m mmm_dash init-db" in init
    assert re.search(r'if \[ "\$ENVIRONMENT" = development \]; then python -m mmm_dash seed-users; fi', init)
    assert SERVICES["init"]["restart"] == "no"
    assert SERVICES["worker"]["command"] == ["python", "-m", "mmm_dash", "worker"]


def test_depends_on_conditions():
    for name in ("web", "worker"):
        needs = SERVICES[name]["depends_on"]
        assert needs["init"]["condition"] == "service_completed_successfully", name
        assert needs["db"]["condition"] == "service_healthy", name
        assert needs["redis"]["condition"] == "service_healthy", name
    assert SERVICES["init"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert SERVICES["init"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert SERVICES["adminer"]["depends_on"]["db"]["condition"] == "service_healthy"


# -- compose: settings -------------------------------------------------------------------------------
def test_every_variable_is_a_setting_config_py_reads():
    used = {m.group("name") for m in VARIABLE.finditer(COMPOSE_TEXT)}
    for service in APP_SERVICES.values():
        used |= set(service["environment"])
    unknown = used - SETTINGS - set(NOT_SETTINGS)
    assert not unknown, f"not settings in mmm_dash/config.py: {sorted(unknown)}"


def test_compose_defaults_match_config_defaults():
    """A default written in compose.yaml is the one in config.py, so the two cannot drift apart."""
    defaults = load_settings({"SECRET_KEY": DUMMY_ENV["SECRET_KEY"], "ENVIRONMENT": "development"})
    checked = 0
    for match in VARIABLE.finditer(COMPOSE_TEXT):
        name = match.group("name")
        if match.group("op") == "-" and name in SETTINGS and name not in COMPOSE_OWN_DEFAULTS:
            assert str(getattr(defaults, name)) == match.group("arg"), name
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", ["init", "web", "worker"])
def test_each_app_service_environment_is_accepted_by_config(name):
    env = {k: str(v) for k, v in SERVICES[name]["environment"].items() if k not in NOT_SETTINGS}
    settings = load_settings(env)
    assert settings.is_production and settings.distributed
    assert settings.BUNDLE_STORE == "postgres" and settings.DATABASE_URL.startswith("postgresql+psycopg://mmm:")
    assert DUMMY_ENV["SECRET_KEY"] == settings.SECRET_KEY


def test_app_services_share_one_environment():
    """Replicas and workers must agree on the database, the key, the broker and the store."""
    shared = ("DATABASE_URL", "SECRET_KEY", "ENVIRONMENT", "CELERY_BROKER_URL", "BUNDLE_STORE", "RATELIMIT_STORAGE_URI")
    first = SERVICES["web"]["environment"]
    for service in APP_SERVICES.values():
        assert {k: service["environment"][k] for k in shared} == {k: first[k] for k in shared}
    assert first["CELERY_BROKER_URL"] == "redis://redis:6379/1"
    assert first["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert SERVICES["db"]["environment"]["POSTGRES_PASSWORD"] in first["DATABASE_URL"]


@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_are_required_with_no_default(secret):
    uses = re.findall(rf"\$\{{{secret}([^}}]*)\}}", COMPOSE_TEXT)
    assert uses and all(use.startswith(":?") for use in uses), f"every use of {secret} must be ${{{secret}:?...}}"
    assert f"{secret}:-" not in COMPOSE_TEXT and "mmm-dev-password" not in COMPOSE_TEXT
    with pytest.raises(KeyError, match=secret):
        compose({k: v for k, v in DUMMY_ENV.items() if k != secret})
    with pytest.raises(KeyError, match=secret):  # set but empty is refused as well
        compose({**DUMMY_ENV, secret: ""})


def test_only_workers_mount_the_model_files():
    """Workers share one model volume (uploads land there); replicas read the manifest, never the files."""
    worker_mounts = [v.split(":") for v in SERVICES["worker"]["volumes"]]
    assert ["models", "/app/data/models"] in worker_mounts and "models" in compose()["volumes"]
    for name in ("web", "init", "proxy"):
        assert not any("models" in v for v in SERVICES[name].get("volumes", [])), name


def test_worker_has_a_memory_limit():
    limit = SERVICES["worker"]["deploy"]["resources"]["limits"]["memory"]
    assert re.fullmatch(r"\d+g", str(limit)) and int(str(limit)[:-1]) >= 2  # ~1 GB per build plus the worker


def test_adminer_only_on_request_and_only_on_this_machine():
    adminer = SERVICES["adminer"]
    assert adminer.get("profiles"), "Adminer must not start with a plain `docker compose up`"
    assert all(str(p).startswith("127.0.0.1:") for p in adminer.get("ports", []))


def test_the_worker_healthcheck_names_a_real_celery_app():
    """The lead's tasks module provides `celery_app`; until it lands on this branch there is nothing to import."""
    if not (ROOT / "mmm_dash" / "builder" / "tasks.py").exists():
        pytest.skip("mmm_dash/builder/tasks.py is not on this branch yet")
    from celery import Celery

    from mmm_dash.builder import tasks

    assert isinstance(tasks.celery_app, Celery)
    from mmm_dash.cli import cli

    assert "worker" in cli.commands


def test_ci_script_installs_browser_and_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text()
    assert "chromium chromium-driver" in text and "MMM_REQUIRE_POSTGRES=1" in text
    assert text.rstrip().endswith("make test")
