"""The audit trail and the home page's activity read as sentences: who did what to whom, with
the amounts (in the page's language), and never a raw event code."""

import logging
import re

import pytest
from django.utils.html import strip_tags
from django.utils.translation import override

from credit.services.allocation import credit_allocate, credit_take_back
from credit.services.rules import credit_rule_create
from organizations.audit import audit_record
from organizations.audit_sentences import audit_events_describe, described_verbs
from organizations.models import AUDIT_VERBS, AuditEvent
from organizations.roles import Role
from organizations.services import organization_create
from tests.credit.rules_support import bought
from tests.factories import (
    InvitationFactory,
    MemberFactory,
    MemberImportFactory,
    MemberListFactory,
    PurchaseFactory,
    UserFactory,
)


def visible_text(response) -> str:
    """What a person reads on the page, spaces normalised (money uses no-break spaces)."""
    text = strip_tags(response.content.decode())
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def audit_log(client, org):
    return client.get(f"/o/{org.slug}/settings/audit/")


def test_every_verb_has_a_sentence():
    assert set(AUDIT_VERBS) - described_verbs() == set()


def test_who_joined_is_named_once(db, login):
    alice = UserFactory(first_name="Alice", last_name="Martin")
    org = organization_create(
        user=alice, name="Acme", country="FR", currency="EUR", time_zone="Europe/Paris"
    )
    text = visible_text(login(alice).get(f"/o/{org.slug}/"))
    assert "Alice Martin joined the organization as owner." in text
    assert "Alice Martin created the organization Acme." in text
    assert "joined the organization Alice" not in text


@pytest.fixture
def sellers(org):
    return [
        MemberFactory(organization=org, display_name=name)
        for name in ("Bob Seller", "Cat Seller", "Dan Seller", "Eve Seller")
    ]


def test_allocations_name_the_amount_and_the_members(org, owner, sellers, login):
    bought(org, owner, amount=500)
    bob, cat, dan, _eve = sellers
    credit_allocate(organization=org, actor=owner, members=[bob], amount=10, idempotency_key="a")
    credit_allocate(
        organization=org, actor=owner, members=sellers, amount="12.5", idempotency_key="b"
    )
    credit_take_back(
        organization=org, actor=owner, members=[cat, dan], amount=2, idempotency_key="c"
    )

    text = visible_text(audit_log(login(owner), org))
    owner_name = str(owner)
    assert f"{owner_name} allocated €10.00 to Bob Seller." in text
    assert (
        f"{owner_name} allocated €12.50 each to Bob Seller, Cat Seller, Dan Seller, and 1 other "
        "(€50.00 in all)." in text
    )
    assert f"{owner_name} took back €4.00 from Cat Seller and Dan Seller." in text


def test_no_raw_event_code_is_shown(org, owner, sellers, login):
    bought(org, owner, amount=100)
    credit_allocate(organization=org, actor=owner, members=sellers, amount=5, idempotency_key="a")
    client = login(owner)
    for response in (audit_log(client, org), client.get(f"/o/{org.slug}/")):
        html = response.content.decode()
        assert 'title="credit.' not in html
        text = visible_text(response)
        shown = [verb for verb in AUDIT_VERBS if verb in text]
        assert shown == []


def test_amounts_follow_the_page_language(org, owner, login):
    credit_rule_create(
        organization=org,
        actor=owner,
        kind="monthly_top_up",
        target="everyone",
        amount=40,
        idempotency_key="k",
    )
    client = login(owner)
    client.cookies["django_language"] = "fr"
    text = visible_text(audit_log(client, org))
    assert "40,00 €" in text
    assert "€40.00" not in text


def _samples(org, owner, employee):
    """One event per verb, with the data its service records."""
    sales = MemberListFactory(organization=org, name="Sales")
    invitation = InvitationFactory(organization=org, address="new@example.com")
    imported = MemberImportFactory(organization=org, file_name="people.csv")
    purchase = PurchaseFactory(organization=org, number="2026-00042")
    rule = credit_rule_create(
        organization=org,
        actor=owner,
        kind="auto_recharge",
        target="member",
        member=employee,
        amount=10,
        threshold=2,
        monthly_max=30,
        idempotency_key="sample",
    )
    money = {"amount": "10.0000"}
    change = {"from": "member", "to": "admin"}
    return {
        "organization.created": (org, {"name": org.name}),
        "organization.updated": (org, {"time_zone": {"from": "UTC", "to": "Europe/Paris"}}),
        "member.joined": (owner, {"role": Role.OWNER}),
        "member.added": (employee, {"role": Role.MEMBER}),
        "member.role_changed": (employee, change),
        "member.suspended": (employee, {"from": "active", "to": "suspended"}),
        "member.reactivated": (employee, {"from": "suspended", "to": "active"}),
        "member.removed": (employee, {"from": "active", "to": "removed", "lists": ["Sales"]}),
        "member.left": (employee, {"role": "member", "lists": []}),
        "member.profile_updated": (employee, {"job_title": {"from": "", "to": "Buyer"}}),
        "list.created": (sales, {"name": "Sales"}),
        "list.renamed": (sales, {"from": "Sale", "to": "Sales"}),
        "list.deleted": (sales, {"name": "Sales", "members": 2}),
        "list.member_added": (sales, {"members": [{"id": employee.pk, "name": str(employee)}]}),
        "list.member_removed": (sales, {"members": [{"id": employee.pk, "name": "Zoé"}]}),
        "invitation.sent": (invitation, {"channel": "email", "address": invitation.address}),
        "invitation.resent": (invitation, {"channel": "email", "address": invitation.address}),
        "invitation.revoked": (invitation, {"channel": "email", "address": invitation.address}),
        "invitation.accepted": (invitation, {"channel": "email", "role": "member"}),
        "invitation.declined": (invitation, {"channel": "email", "by_user": None}),
        "import.checked": (imported, {"rows": 3, "valid": 2, "invalid": 1}),
        "import.done": (imported, {"invited": 2, "refused": 1}),
        "credit.allocated": (employee, {**money, "members": 1, "total": "10.0000"}),
        "credit.taken_back": (employee, {"members": 1, "total": "10.0000"}),
        "credit.cap_set": (employee, {"cap": "75.5000", "previous": None, "currency": "EUR"}),
        "credit.cap_cleared": (employee, {"cap": None, "previous": "75.5000"}),
        "credit_rule.created": (rule, {"kind": "auto_recharge", "member": employee.pk}),
        "credit_rule.paused": (rule, {}),
        "credit_rule.resumed": (rule, {}),
        "credit_rule.deleted": (rule, {"kind": "auto_recharge", **money}),
        "credit_rule.ran": (rule, {"period": "2026-03-01", "members": 3, "total": "30.0000"}),
        "credit_rule.run_short": (
            rule,
            {
                "period": "2026-03-01",
                "day": "01/03/2026",
                "missing": "5",
                "total": "30",
                "balance": "25",
                "members": 3,
            },
        ),
        "credit_rule.member_recharged": (
            employee,
            {"rule": rule.pk, **money, "month": "2026-03", "number": 2},
        ),
        "credit.low_balance_warned": (None, {"balance": "4.0000", "level": "5.0000"}),
        "purchase.started": (purchase, {"method": "card", **money}),
        "purchase.paid": (purchase, {**money, "method": "card"}),
        "purchase.failed": (purchase, {"reason": "Your card was declined."}),
        "purchase.refunded": (purchase, {**money, "owed": "3.0000"}),
        "purchase.bank_transfer_confirmed": (purchase, {**money, "reference": "SM-1"}),
        "payment_method.setup_started": (None, {"session": "cs_1"}),
        "payment_method.saved": (None, {"label": "Visa •••• 4242", "enabled": True}),
        "auto_recharge.started": (
            purchase,
            {**money, "balance": "1.0000", "threshold": "2.0000"},
        ),
        "auto_recharge.disabled": (purchase, {"reason": "Card declined."}),
        "auto_recharge.updated": (
            None,
            {
                "enabled": True,
                "was_enabled": False,
                "threshold": "2",
                "amount": "10",
                "monthly_max": "50",
            },
        ),
        "credit_settings.updated": (None, {"vat_number": "FR1", "low_balance_warning": "5"}),
    }


def test_every_verb_reads_with_its_details(org, owner, employee, caplog):
    samples = _samples(org, owner, employee)
    for verb, (target, data) in samples.items():
        audit_record(organization=org, actor=owner, verb=verb, target=target, data=data)
    events = AuditEvent.objects.for_org(org).filter(verb__in=samples)
    with caplog.at_level(logging.WARNING), override("en"):
        described = {
            event.verb: strip_tags(event.sentence) for event in audit_events_describe(org, events)
        }
    assert caplog.messages == []
    for verb, text in described.items():
        assert verb not in text
        assert "None" not in text
    assert "€10.00" in described["credit.allocated"]
    assert "from €75.50" not in described["credit.cap_set"]
    assert "2026-00042" in described["purchase.paid"]
    assert "March 2026" in described["credit_rule.ran"]
    assert "from member to admin" in described["member.role_changed"]
    assert (
        "Recharge with €10.00 when the balance falls below €2.00" in described["credit_rule.paused"]
    )
    assert str(employee) in described["credit_rule.paused"]
