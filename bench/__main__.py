"""Run every benchmark module (every module of bench/ but this one) against a throwaway test
database.

python -m bench              # all
python -m bench tenancy      # those whose name contains "tenancy"

BENCH_KEEPDB=1 keeps the test database between runs (and reuses it), for benchmarks that
reuse the data they made before (dashboard's seeded organization); the others expect a new
database.
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
    keep = os.environ.get("BENCH_KEEPDB") == "1"
    # Not serialized: no test rolls back to it, and a kept database may hold millions of rows.
    databases = setup_databases(
        verbosity=0, interactive=False, keepdb=keep, aliases={"default"}, serialized_aliases=set()
    )
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
        teardown_databases(databases, verbosity=0, keepdb=keep)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
