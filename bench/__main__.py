"""Run every benchmark module (every module of bench/ but this one) against a throwaway test
database.

python -m bench              # all
python -m bench tenancy      # those whose name contains "tenancy"
"""

import importlib
import os
import pkgutil
import statistics
import sys
import time
from collections.abc import Callable

import django


def measure(operation: Callable[[], object], *, repeat: int, warmup: int = 20) -> float:
    """Median seconds per call over `repeat` calls, after `warmup` calls."""
    for _ in range(warmup):
        operation()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(name: str, measured: float, baseline: float, baseline_name: str) -> None:
    print(
        f"{name}: {measured * 1000:.2f} ms; baseline {baseline_name}: {baseline * 1000:.2f} ms; "
        f"ratio {measured / baseline:.2f}",
        flush=True,
    )


def main(selection: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skypemgr.test_settings")
    django.setup()
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        package = importlib.import_module("bench")
        for module_info in pkgutil.iter_modules(package.__path__):
            name = module_info.name
            if name in ("__init__", "__main__") or module_info.ispkg:
                continue
            if selection and not any(word in name for word in selection):
                continue
            print(f"== {name}", flush=True)
            importlib.import_module(f"bench.{name}").run()
    finally:
        teardown_databases(databases, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
