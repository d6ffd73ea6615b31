"""The files an operator deploys with: the Dockerfile, compose.yaml, the Makefile, docs/deploy.md.

Where a docker daemon answers, .ci/run also builds the image and smoke-tests it (.ci/docker-smoke);
these tests hold everywhere, without docker.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from boxoffice import config

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_the_image_is_a_slim_python_runtime_without_the_sources_or_dev_tools() -> None:
    steps = _instructions()
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert len(stages) == 2 and all(s.startswith("python:3.11-slim") for s in stages)
    runtime = steps[[i for i, (k, _) in enumerate(steps) if k == "FROM"][-1] :]
    runs = " ".join(args for keyword, args in runtime if keyword == "RUN")
    assert "--no-index" in runs and "[dev]" not in runs
    assert not any(keyword == "COPY" and args.split()[-1] in (".", "./") for keyword, args in runtime)


def test_the_image_runs_boxoffice_serve_as_a_user_that_is_not_root() -> None:
    steps = dict(_instructions())
    assert steps["USER"] not in ("root", "0")
    assert json_list(steps["CMD"])[:2] == ["boxoffice", "serve"] and "0.0.0.0" in steps["CMD"]
    assert json_list(steps["ENTRYPOINT"]) == ["boxoffice-entrypoint"]
    assert "/healthz" in steps["HEALTHCHECK"]


def json_list(text: str) -> list[str]:
    import json

    value = json.loads(text)
    assert isinstance(value, list)
    return value


def test_the_entrypoint_migrates_only_when_asked_then_runs_the_command() -> None:
    script = ROOT / "docker" / "entrypoint.sh"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert "BOXOFFICE_MIGRATE_ON_START" in text and "boxoffice migrate" in text and 'exec "$@"' in text


def test_compose_runs_postgres_redis_serve_and_worker_with_known_settings() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", "migrate", "serve", "worker"}
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    assert services["serve"]["command"][:2] == ["boxoffice", "serve"]
    assert services["worker"]["command"][:2] == ["boxoffice", "worker"]
    assert services["migrate"]["command"] == ["boxoffice", "migrate"]
    for name in ("serve", "worker"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = service["environment"]
        assert env["BOXOFFICE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["BOXOFFICE_REDIS_URL"].startswith("redis://redis:")
        # Every variable compose sets is one boxoffice reads.
        assert set(env) <= KNOWN_VARIABLES, set(env) - KNOWN_VARIABLES


KNOWN_VARIABLES = {
    "BOXOFFICE_DATABASE_URL", "BOXOFFICE_REDIS_URL", "BOXOFFICE_SMTP_URL", "BOXOFFICE_SECRET_KEY",
    "BOXOFFICE_PUBLIC_URL", "BOXOFFICE_LOG_FORMAT",
}  # fmt: skip


def test_known_variables_are_read_by_the_configuration() -> None:
    source = Path(config.__file__).read_text()
    assert all(f'"{name}"' in source for name in KNOWN_VARIABLES)


def test_make_run_installs_the_runtime_only_and_make_test_adds_the_dev_extra() -> None:
    makefile = (ROOT / "Makefile").read_text()
    rules = dict(re.findall(r"^([\w$().\-/]+):([^\n]*)$", makefile, re.MULTILINE))
    assert rules["run"].split() == ["runtime"] and rules["test"].split() == ["setup"]
    runtime_recipe = makefile.split("$(VENV)/.runtime:", 1)[1].split("\n\n", 1)[0]
    assert "-e ." in runtime_recipe and "[dev]" not in runtime_recipe and "$(BIN)/python" in makefile
    assert "'.[dev]'" in makefile.split("$(VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "--port $(PORT)" in makefile


def test_deploy_guide_exists_and_the_readme_links_it() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for topic in ("BOXOFFICE_SECRET_KEY", "BOXOFFICE_PUBLIC_URL", "max_connections", "load balancer", "backup", "boxoffice migrate", "janitor", "/metrics"):
        assert topic in guide, topic
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text()


def test_tests_read_nothing_beside_the_repository() -> None:
    """A fresh clone anywhere passes: no test reaches for ../shared."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if path != Path(__file__).resolve() and re.search(r"parents\[2\]\s*/\s*[\"']shared|\.\./shared", path.read_text())
    ]
    assert offenders == []
