"""The credit history at scale: keyset pages (newer, older, a day to go to) that neither count
nor skip the transfers before them, a fixed number of queries whatever the organization's
size, a member filter that is a search rather than a list of every member, and filters kept
in every link."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit.models import Transfer
from credit.selectors.history import (
    Position,
    transfer_history,
    transfer_history_batches,
    transfer_history_page,
)
from credit.services.allocation import credit_allocate
from tests.credit.rules_support import bought
from tests.factories import MemberFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def history_url(org) -> str:
    return f"/o/{org.slug}/credit/history/"


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=PARIS), tick=False)


def ids(transfers) -> list[int]:
    return [transfer.pk for transfer in transfers]


@pytest.fixture
def crowd(org, owner):
    """23 transfers: a purchase, then an allocation to 12 members and one to 10, each posted
    at one instant (so that many transfers share a created_at), on two days."""
    people = MemberFactory.create_batch(12, organization=org)
    with at(2026, 3, 1, 9):
        bought(org, owner, 500)
    with at(2026, 3, 2, 23, 30):
        credit_allocate(organization=org, actor=owner, members=people, amount=1,
                        idempotency_key="a")  # fmt: skip
    with at(2026, 3, 3, 0, 30):
        credit_allocate(organization=org, actor=owner, members=people[:10], amount=2,
                        idempotency_key="b")  # fmt: skip
    return people


def newest_first(org) -> list[int]:
    return ids(Transfer.objects.for_org(org).order_by("-created_at", "-id"))


@pytest.mark.parametrize("size", [1, 5, 7, 12, 23, 50])
def test_older_then_newer_pages_walk_every_transfer_once_even_at_one_instant(org, crowd, size):
    everything = newest_first(org)
    assert len(everything) == 23
    transfers = transfer_history(organization=org)
    pages = [transfer_history_page(transfers, size=size)]
    while pages[-1].older is not None:
        pages.append(transfer_history_page(transfers, before=pages[-1].older, size=size))
    assert [pk for page in pages for pk in ids(page.transfers)] == everything
    assert pages[0].latest
    assert pages[0].newer is None
    assert all(page.newer is not None for page in pages[1:])
    # Back up again from the oldest page: the same pages, in reverse.
    back = [pages[-1]]
    while back[-1].newer is not None:
        back.append(transfer_history_page(transfers, after=back[-1].newer, size=size))
    assert [ids(page.transfers) for page in back] == [ids(page.transfers) for page in pages][::-1]


def test_a_position_between_transfers_of_one_instant(org, crowd):
    everything = newest_first(org)
    transfers = transfer_history(organization=org)
    middle = Transfer.objects.for_org(org).get(pk=everything[5])
    older = transfer_history_page(transfers, before=Position.of(middle), size=100)
    assert ids(older.transfers) == everything[6:]
    newer = transfer_history_page(transfers, after=Position.of(middle), size=100)
    assert ids(newer.transfers) == everything[:5]


def test_positions_survive_the_url(org, crowd):
    transfer = Transfer.objects.for_org(org).order_by("created_at").first()
    position = Position.of(transfer)
    assert Position.from_token(position.token) == position
    for garbage in ("", "1", "a_b", "1_", "_1", "-1_2", "1_2_3", "9" * 19 + "_1", "1_" + "9" * 19):
        assert Position.from_token(garbage) is None
    assert Position.from_token("999999999999999999_1") is None, "past the year 9999"


def test_the_pages_link_to_each_other_and_keep_the_filters(org, owner, crowd, login):
    client = login(owner)
    filters = {"kind": "allocation", "date_from": "2026-03-01", "member": crowd[0].pk}
    first = client.get(history_url(org), {**filters, "member_q": str(crowd[0])})
    page = first.content.decode().replace("&amp;", "&")
    assert 'rel="prev"' not in page, "no newer page on the first one"
    links = re.findall(r'href="([^"]*)"', page)
    exports = [link for link in links if "/credit/history/export/" in link]
    assert len(exports) == 2
    for link in exports:
        for name, value in filters.items():
            assert f"{name}={value}" in link
    # 2 allocations to this member: one a page, as a smaller page size would show.
    history = first.context["history"]
    assert len(history.transfers) == 2
    few = client.get(history_url(org), {**filters, "kind": ""})
    assert len(few.context["history"].transfers) == 2
    bought(org, owner, 60)
    for number in range(50):
        credit_allocate(organization=org, actor=owner, members=[crowd[0]], amount=1,
                        idempotency_key=f"more:{number}")  # fmt: skip
    page = client.get(history_url(org), filters).content.decode().replace("&amp;", "&")
    [older] = re.findall(r'href="\?([^"]*)" rel="next"', page)
    for name, value in filters.items():
        assert f"{name}={value}" in older
    assert "before=" in older
    second = client.get(f"{history_url(org)}?{older}")
    assert len(second.context["history"].transfers) == 2
    newer = re.findall(
        r'href="\?([^"]*)" rel="prev"', second.content.decode().replace("&amp;", "&")
    )
    assert "after=" in newer[0]
    assert "kind=allocation" in newer[0]


def test_going_to_a_day_starts_at_its_end_in_the_organizations_time_zone(org, owner, crowd, login):
    response = login(owner).get(history_url(org), {"day": "2026-03-02"})
    history = response.context["history"]
    # 23:30 in Paris on the 2nd is in; 00:30 on the 3rd is not, and is a newer page.
    assert {transfer.kind for transfer in history.transfers} == {"allocation", "purchase"}
    assert len(history.transfers) == 13
    assert not history.latest
    newer = transfer_history_page(transfer_history(organization=org), after=history.newer)
    assert len(newer.transfers) == 10
    before_everything = login(owner).get(history_url(org), {"day": "2020-01-01"})
    assert before_everything.context["history"].transfers == []
    assert "Newest" in before_everything.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"before": "nonsense"},
        {"after": "1_1"},
        {"before": "9" * 10_000},
        {"after": "99999999999999999_1"},
        {"day": "2026-02-30"},
        {"day": "\x00"},
        {"member_q": "\x00"},
        {"member_q": "é" * 5_000},
        {"member": "9" * 50},
    ],
)
def test_odd_positions_and_filters_are_never_a_500(org, owner, crowd, login, query):
    assert login(owner).get(history_url(org), query).status_code == 200


def test_the_member_filter_is_a_search_not_every_member(org, owner, crowd, login):
    page = login(owner).get(history_url(org)).content.decode()
    filters = page.split('id="history-filters"')[1].split("</form>")[0]
    assert filters.count("<option") == len(Transfer.Kind.choices) + 1, "only the types"
    assert not [person for person in crowd if str(person) in filters]
    assert 'name="member_q"' in filters
    assert f'hx-get="/o/{org.slug}/members/picker/"' in filters


def _queries(client, url, data) -> list[str]:
    client.get(url, data)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, data).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def _grow(org, owner, members: int, rounds: int) -> None:
    bought(org, owner, 500)
    people = MemberFactory.create_batch(members, organization=org)
    for number in range(rounds):
        credit_allocate(organization=org, actor=owner, members=people, amount="0.01",
                        idempotency_key=f"grow:{number}")  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"kind": "allocation"},
        {"member_q": "_MEMBER_"},
        {"day": "2026-03-02"},
        {"before": "_OLDER_"},
    ],
)
def test_the_queries_do_not_grow_with_members_or_transfers(
    org, owner, crowd, login, query, django_assert_max_num_queries
):
    client = login(owner)
    data = dict(query)
    if "member_q" in data:
        data = {"member": crowd[0].pk}
    if "before" in data:
        newest = Transfer.objects.for_org(org).order_by("-created_at", "-id").first()
        data["before"] = Position.of(newest).token

    def counted() -> list[str]:
        return _queries(client, history_url(org), data)

    small = counted()
    _grow(org, owner, members=40, rounds=4)
    large = counted()
    assert len(large) == len(small)
    assert not [sql for sql in large if "COUNT(" in sql.upper()], "no count of the history"
    assert not [sql for sql in large if "OFFSET" in sql.upper()], "no page skips transfers"
    with django_assert_max_num_queries(12):
        client.get(history_url(org), data)


def test_an_export_walks_the_history_in_batches(org, crowd):
    everything = newest_first(org)
    transfers = transfer_history(organization=org)
    for size in (1, 4, 11, 23, 100):
        batches = list(transfer_history_batches(transfers, size=size))
        assert [pk for batch in batches for pk in ids(batch)] == everything
        assert max(len(batch) for batch in batches) <= size
