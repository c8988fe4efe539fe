"""Invitation emails delivered by one Celery worker process to a local SMTP server process,
against the same emails sent from a plain loop with Django's SMTP backend, in the same run
(target: the worker reaches at least 0.8 of the loop's emails per second).

Both sides are measured warm (templates compiled, processes started) and against the same
SMTP server (aiosmtpd, in a process of its own, counting what it receives).
"""

import asyncio
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.test import override_settings

from members.services.invitations import Invitee, invitations_create
from organizations.models import Member
from organizations.services import organization_create
from outbox.models import OutboundMessage
from skypemgr import celery_app
from tests.factories import UserFactory

COUNT = int(os.environ.get("BENCH_EMAILS", "1000"))
WARMUP = 100
ROOT = Path(__file__).resolve().parent.parent


def _smtp_server(port: int, received, ready) -> None:
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every SMTP command at INFO once the worker has configured logging.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(3600))
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.01)


def _database_url() -> str:
    """The URL of the benchmark's own (test) database, for the worker process."""
    db = connection.settings_dict
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    if host.startswith("/"):
        return f"postgres://{db['USER']}@/{db['NAME']}?host={host}"
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _send_plainly(message: OutboundMessage) -> None:
    """The baseline: one EmailMessage.send() per email, as a plain loop would."""
    email = EmailMultiAlternatives(
        message.subject, message.body, message.from_address, [message.to]
    )
    email.attach_alternative(message.html, "text/html")
    email.send()


def run() -> None:
    port = free_port()
    received, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=_smtp_server, args=(port, received, ready))
    server.start()
    ready.wait(30)
    queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "skypemgr.settings",
        # A worker as in production, but keeping bodies so that the loop can send them again.
        "DEBUG": "false",
        "DEV_OUTBOX": "true",
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "CELERY_QUEUE": queue,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "skypemgr", "worker", "--pool", "solo",
         "-Q", queue, "-l", "ERROR"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        owner_user = UserFactory(username="bench-mailer")
        organization = organization_create(
            user=owner_user, name="Mail SA", country="FR", currency="EUR", time_zone="Europe/Paris"
        )
        owner = Member.objects.for_org(organization).get(user=owner_user)

        def invite(prefix: str, count: int) -> float:
            invitees = [Invitee("email", f"{prefix}{n}@example.com") for n in range(count)]
            with received.get_lock():
                received.value = 0
            with transaction.atomic():
                invitations_create(organization=organization, actor=owner, invitees=invitees)
                start = time.perf_counter()
            wait_until(lambda: received.value >= count)
            return time.perf_counter() - start

        invite("warmup", WARMUP)
        worker_seconds = invite("person", COUNT)

        messages = list(
            OutboundMessage.objects.filter(channel="email", to__startswith="person").order_by("pk")
        )
        assert len(messages) == COUNT, len(messages)
        smtp = {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10}}  # fmt: skip
        with override_settings(MAILERS={"default": smtp}):
            for message in messages[:WARMUP]:
                _send_plainly(message)
            with received.get_lock():
                received.value = 0
            start = time.perf_counter()
            for message in messages:
                _send_plainly(message)
            loop_seconds = time.perf_counter() - start
        assert received.value == COUNT
    finally:
        worker.terminate()
        worker.wait(30)
        server.terminate()
        server.join(10)
        celery_app.control.purge()

    worker_rate, loop_rate = COUNT / worker_seconds, COUNT / loop_seconds
    print(f"{COUNT} invitation emails: worker {worker_rate:.0f}/s, plain loop {loop_rate:.0f}/s")
    print(f"throughput ratio worker/loop: {worker_rate / loop_rate:.2f} (target >= 0.8)")
