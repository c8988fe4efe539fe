import pytest


@pytest.fixture(autouse=True)
def _rollups_stay_exact(request):
    """After every usage test that touched the database, the rollups equal what they sum up
    (check_rollups), like the ledger (tests/conftest.py)."""
    names = set(request.fixturenames)
    database = next((name for name in ("transactional_db", "db") if name in names), None)
    if database is None:
        yield
        return
    request.getfixturevalue(database)
    yield
    from credit.selectors.rollups import rollup_problems

    assert rollup_problems() == []
