"""`make run` on a machine with no database and no Redis configured: the launcher starts
embedded ones, serves web + worker + beat, stops everything on Ctrl-C, and reuses its data.
`make manage` works on that same data, whether `make run` is running or not."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def embedded_postgres(data_dir: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "postgres" in cmdline and data_dir in cmdline:
            found.append(process)
    return found


def launcher_environment(data_dir: str, port: int) -> dict[str, str]:
    """A developer's shell: nothing configured, so the data lives under `data_dir`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "SMS_BACKEND"}
        and not key.startswith(("DJANGO_", "PYTEST_", "MAKE"))
    }
    env.update(SKYPEMGR_DATA_DIR=data_dir, PORT=str(port), CELERY_QUEUE="launch-test")
    return env


class Launch:
    def __init__(self, data_dir: str, port: int):
        env = launcher_environment(data_dir, port)
        self.log = Path(data_dir) / "launch.log"
        self.base = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "skypemgr.launch", "run"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"not healthy in time:\n{self.output()}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def ctrl_c(self) -> int:
        """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=90)


def sign_up(base: str, email: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/accounts/signup/?via=email", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = session.post(
        f"{base}/accounts/signup/?via=email",
        data={
            "csrfmiddlewaretoken": token,
            "via": "email",
            "email": email,
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
        headers={"Referer": f"{base}/accounts/signup/"},
        timeout=10,
    )
    assert response.status_code == 200, response.text[:2000]
    return session


# What `make manage ARGS='shell -c …'` prints: the people, and where the Celery broker is.
SHOW_DATA = (
    "from django.conf import settings; from accounts.models import User; "
    "print('users:', sorted(User.objects.values_list('email', flat=True))); "
    "print('broker:', settings.CELERY_BROKER_URL)"
)


def make_manage(data_dir: str, port: int, arguments: str, **env: str) -> str:
    """`make manage ARGS=…` as a developer types it; its output."""
    # A fixed command of the test's own: make, with ARGS as a developer would type it.
    finished = subprocess.run(  # noqa: S603
        [shutil.which("make"), "--no-print-directory", "manage", f"ARGS={arguments}"],
        cwd=ROOT,
        env={**launcher_environment(data_dir, port), **env},
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    return output


def shown(output: str, label: str) -> str:
    return re.search(rf"^{label}: (.*)$", output, re.M).group(1)


def outbox_shows_sent(base: str, email: str) -> bool:
    page = requests.get(f"{base}/dev/outbox/", timeout=10).text
    return email in page and "Sent" in page


@pytest.mark.integration
def test_make_run_serves_everything_and_stops_cleanly():
    data_dir = tempfile.mkdtemp(prefix="sm-run-", dir="/tmp")
    port = free_port()

    first = Launch(data_dir, port)
    try:
        first.wait_healthy()
        commands = " ".join(" ".join(child.cmdline()) for child in first.descendants())
        assert "runserver" in commands
        assert "worker" in commands
        assert "beat" in commands
        assert embedded_postgres(data_dir), "embedded PostgreSQL runs under the data directory"
        redis_port = int(re.search(r"embedded Redis .* on port (\d+)", first.output()).group(1))
        assert port_answers(redis_port)
        landing = requests.get(f"{first.base}/", timeout=10)
        assert landing.status_code == 200

        # The worker delivers the verification email; the dev outbox shows it sent.
        sign_up(first.base, "newcomer@example.com")
        deadline = time.monotonic() + 60
        while not outbox_shows_sent(first.base, "newcomer@example.com"):
            assert time.monotonic() < deadline, first.output()
            time.sleep(1)

        # `make manage` beside `make run`: the same database and the same Redis (the broker).
        make_manage(
            data_dir,
            port,
            "createsuperuser --noinput --username staff --email staff@example.com",
            DJANGO_SUPERUSER_PASSWORD="a-long-pass-phrase-9",
        )
        seen = make_manage(data_dir, port, f'shell -c "{SHOW_DATA}"')
        assert "newcomer@example.com" in shown(seen, "users")
        assert "staff@example.com" in shown(seen, "users")
        assert shown(seen, "broker") == f"redis://127.0.0.1:{redis_port}/0"
        assert port_answers(redis_port), "manage left run's Redis running"
        assert requests.get(f"{first.base}/healthz", timeout=10).status_code == 200
        children = first.descendants()
    finally:
        code = first.ctrl_c()
    assert code == 0, first.output()
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], [process.cmdline() for process in alive]
    assert embedded_postgres(data_dir) == []
    assert not port_answers(redis_port)
    assert "demo logins" in first.output()
    assert "Demo organization created" in first.output()

    # Alone, `make manage` starts the embedded services on the same data, and stops them.
    seen = make_manage(data_dir, port, f'shell -c "{SHOW_DATA}"')
    assert "staff@example.com" in shown(seen, "users")
    assert embedded_postgres(data_dir) == []
    assert not port_answers(int(re.search(r"redis://127.0.0.1:(\d+)/", seen).group(1)))

    second = Launch(data_dir, port)
    try:
        second.wait_healthy()
        assert "Demo data already loaded." in second.output()
        assert outbox_shows_sent(second.base, "newcomer@example.com"), "data was kept"
    finally:
        assert second.ctrl_c() == 0, second.output()
