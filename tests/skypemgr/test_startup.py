"""The web server's process hides what start-up loaded from the garbage collector."""

import json
import subprocess
import sys

import pytest

from skypemgr.launch import BASE_DIR, child_environment

# Start-up leaves Django, the apps and their modules alive: well over a hundred thousand
# objects, for as long as the process serves.
LOADED_AT_START = 50_000


@pytest.mark.parametrize("module", ["skypemgr.wsgi", "skypemgr.asgi"])
def test_the_server_process_freezes_what_start_up_loaded(module):
    code = (
        "import gc, importlib, json\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'watched': len(gc.get_objects())}))\n"
    )
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.splitlines()[-1])
    assert counts["frozen"] > LOADED_AT_START
    # What the collector still walks is what the first requests will make, nothing else.
    assert counts["watched"] < 1_000
