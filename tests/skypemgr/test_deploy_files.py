"""The files that run SkypeMgr elsewhere agree with each other and with the settings."""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip():
            name, command = line.split(":", 1)
            entries[name.strip()] = shlex.split(command)
    return entries


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def as_args(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_compose_names_the_whole_stack():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "mailpit"):
        assert "healthcheck" in services[name], name


def test_compose_runs_what_the_procfile_runs():
    services = compose()["services"]
    for name, command in procfile().items():
        service = "migrate" if name == "release" else name
        assert as_args(services[service]["command"]) == command, name


def test_exactly_one_beat():
    beat = compose()["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_every_setting_read_from_the_environment_is_documented():
    settings_source = (ROOT / "skypemgr" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "STRIPE_SECRET_KEY"} <= read


def test_python_is_pinned_to_3_12():
    assert (ROOT / ".python-version").read_text().strip() == "3.12"
