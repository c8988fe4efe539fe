"""Confirming an allocation to everyone: the members read once, the form's keys looked up once,
the accounts locked once, and a number of queries that does not grow with the members; a form
sent twice still moves money once, with one audit event."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from credit.forms.allocation import new_key
from credit.models import Transfer
from credit.services.allocation import credit_allocate_once
from organizations.models import AuditEvent
from tests.credit.rules_support import bought
from tests.factories import MemberFactory


def allocate_url(org) -> str:
    return f"/o/{org.slug}/credit/allocate/"


def confirm_everyone(client, org) -> tuple[object, list[str]]:
    data = {"target": "everyone", "amount": "1", "idempotency_key": new_key()}
    preview = client.post(allocate_url(org), {**data, "step": "preview"})
    fingerprint = preview.context["plan"].fingerprint
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            allocate_url(org), {**data, "step": "confirm", "expected": fingerprint}
        )
    return response, [query["sql"] for query in captured.captured_queries]


def reading_members(statements) -> list[str]:
    """Reads of the organization's members, other than the visitor's own membership."""
    return [
        sql
        for sql in statements
        if sql.startswith("SELECT")
        and 'FROM "organizations_member"' in sql
        and '"organizations_member"."user_id" =' not in sql
    ]


def key_lookups(statements) -> list[str]:
    return [
        sql
        for sql in statements
        if sql.startswith("SELECT") and "idempotency_key" in sql.split("WHERE", 1)[-1]
    ]


def account_locks(statements) -> list[str]:
    return [sql for sql in statements if "credit_account" in sql and "FOR UPDATE" in sql]


def test_a_confirmation_reads_members_once_looks_keys_up_once_and_locks_once(org, owner, login):
    bought(org, owner, 500)
    MemberFactory.create_batch(20, organization=org)
    response, statements = confirm_everyone(login(owner), org)
    assert response.status_code == 302
    assert Transfer.objects.for_org(org).filter(kind="allocation").count() == 21
    assert len(reading_members(statements)) == 1
    assert len(key_lookups(statements)) == 1
    assert len(account_locks(statements)) == 1


def test_the_queries_do_not_grow_with_the_members(org, owner, login):
    bought(org, owner, 500)
    client = login(owner)
    MemberFactory.create_batch(2, organization=org)
    _response, few = confirm_everyone(client, org)
    MemberFactory.create_batch(60, organization=org)
    _response, many = confirm_everyone(client, org)
    assert len(many) == len(few)


def test_a_form_sent_twice_at_once_moves_money_once_with_one_audit_event(
    org, owner, transactional_db
):
    bought(org, owner, 500)
    people = MemberFactory.create_batch(5, organization=org)
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def send():
        try:
            barrier.wait()
            outcomes.append(
                credit_allocate_once(
                    organization=org,
                    actor=owner,
                    members=people,
                    amount=2,
                    idempotency_key="allocate:same-form",
                )
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcome.replayed for outcome in outcomes) == [False, True, True, True]
    assert Transfer.objects.for_org(org).filter(kind="allocation").count() == 5
    assert AuditEvent.objects.for_org(org).filter(verb="credit.allocated").count() == 1
    first = next(outcome for outcome in outcomes if not outcome.replayed)
    for outcome in outcomes:
        assert {t.pk for t in outcome.transfers} == {t.pk for t in first.transfers}


@pytest.mark.parametrize("gone", [0, 1])
def test_a_replay_after_someone_left_still_moves_nothing(org, owner, login, gone):
    bought(org, owner, 500)
    people = MemberFactory.create_batch(3, organization=org)
    first = credit_allocate_once(
        organization=org, actor=owner, members=people, amount=1, idempotency_key="k"
    )
    again = credit_allocate_once(
        organization=org, actor=owner, members=people[gone:], amount=1, idempotency_key="k"
    )
    assert (first.replayed, again.replayed) == (False, True)
    assert Transfer.objects.for_org(org).filter(kind="allocation").count() == 3


def test_a_preview_reads_member_rows_only_for_the_people_it_names(org, owner):
    from credit.selectors.balances import (
        PREVIEW_LINES,
        Target,
        allocation_preview,
        credit_target_members,
    )
    from members.services.lists import list_add_members
    from tests.factories import InvitationFactory, MemberListFactory

    bought(org, owner, 500)
    people = MemberFactory.create_batch(PREVIEW_LINES + 5, organization=org)
    invited = [InvitationFactory(organization=org).member for _ in range(2)]
    everyone = MemberListFactory(organization=org)
    list_add_members(organization=org, actor=owner, member_list=everyone, members=people + invited)
    members = credit_target_members(organization=org, target=Target.LIST, member_list=everyone)
    with CaptureQueriesContext(connection) as captured:
        plan = allocation_preview(organization=org, members=members, amount=Money(1, "EUR"))
        shown = [line.member for line in plan.lines[:PREVIEW_LINES]]
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(reading_members(statements)) == 2, "ids and balances, then the named rows"
    assert plan.count == PREVIEW_LINES + 5
    assert {member for member, _reason in plan.left_out} == set(invited)
    assert len(plan.lines[0].people.loaded) == PREVIEW_LINES + 2
    assert set(shown) <= set(people)
    assert {line.member for line in plan.lines} == set(people), "the others, when asked"
    expected = allocation_preview(organization=org, members=list(members), amount=Money(1, "EUR"))
    assert plan.fingerprint == expected.fingerprint
    assert [line.balance for line in plan.lines] == [line.balance for line in expected.lines]
