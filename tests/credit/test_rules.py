"""The credit rules page: adding each kind of rule, bad input, pausing, deleting, and who may
do what."""

from datetime import date

import pytest
from django.urls import reverse

from credit.models import CreditRule, CreditRuleRun
from credit.services import rules
from organizations.models import AuditEvent, Member
from skypemgr.errors import ApplicationError
from tests.credit.rules_support import balance_of, fund, give, money, rule, spend, utc
from tests.factories import MemberFactory, MemberListFactory

MARCH = date(2026, 3, 1)


def rules_url(organization) -> str:
    return reverse("credit:rule-list", kwargs={"org_slug": organization.slug})


def delete_url(organization, a_rule) -> str:
    return reverse(
        "credit:rule-delete", kwargs={"org_slug": organization.slug, "rule_id": a_rule.pk}
    )


def form(**fields) -> dict:
    data = {
        "action": "create",
        "idempotency_key": fields.pop("key", "k-1"),
        "kind": "auto_recharge",
        "target": "everyone",
        "amount": "10",
        "threshold": "5",
        "monthly_max": "50",
        "start": "this_month",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ("auto_recharge", "10.0000", "5.0000", "50.0000")),
        ({"kind": "monthly_add", "amount": "12.5"}, ("monthly_add", "12.5000", None, None)),
        (
            {"kind": "monthly_top_up", "amount": "2,025"},
            ("monthly_top_up", "2025.0000", None, None),
        ),
    ],
)
def test_admins_add_each_kind_of_rule(org, admin, login, fields, expected):
    response = login(admin).post(rules_url(org), form(**fields))
    assert response.status_code == 302
    created = CreditRule.objects.for_org(org).get()
    amounts = [
        str(value.amount) if value is not None else None
        for value in (created.amount, created.threshold, created.monthly_max)
    ]
    assert (created.kind, *amounts) == expected
    assert created.created_by == admin
    assert (created.member, created.member_list, created.active) == (None, None, True)
    event = AuditEvent.objects.for_org(org).get(verb="credit_rule.created")
    assert event.actor == admin
    assert event.target_id == str(created.pk)


def test_a_rule_for_a_list_or_a_member(org, owner, employee, login):
    sales = MemberListFactory(organization=org)
    client = login(owner)
    client.post(rules_url(org), form(target="list", member_list=sales.pk, key="a"))
    client.post(rules_url(org), form(target="member", member=employee.pk, key="b"))
    targets = {(r.member_id, r.member_list_id) for r in CreditRule.objects.for_org(org)}
    assert targets == {(None, sales.pk), (employee.pk, None)}


def test_a_double_submit_adds_one_rule(org, admin, login):
    client = login(admin)
    assert client.post(rules_url(org), form(key="same")).status_code == 302
    assert client.post(rules_url(org), form(key="same")).status_code == 302
    assert CreditRule.objects.for_org(org).count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "0"}, "amount", "greater than zero"),
        ({"amount": "-5"}, "amount", "greater than zero"),
        ({"amount": "1.234"}, "amount", "at most 2 decimal places"),
        ({"amount": "ten"}, "amount", "Write the amount like 1,500.50."),
        ({"amount": ""}, "amount", "Enter an amount"),
        ({"threshold": ""}, "threshold", "below which balance"),
        ({"monthly_max": ""}, "monthly_max", "each month at most"),
        ({"monthly_max": "5"}, "monthly_max", "at least the recharge amount"),
        ({"kind": "monthly_top_up", "amount": "0"}, "amount", "greater than zero"),
        ({"kind": "weekly"}, "kind", "valid choice"),
        ({"target": "list"}, "member_list", "Choose a list"),
        ({"target": "member"}, "member", "Choose a member"),
    ],
)
def test_bad_input_is_refused(org, admin, login, fields, field, message):
    response = login(admin).post(rules_url(org), form(**fields))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not CreditRule.objects.for_org(org).exists()


def test_a_list_or_member_of_another_organization_is_not_found(
    org, other_org, admin, outsider, login
):
    theirs = MemberListFactory(organization=other_org)
    client = login(admin)
    for fields in (
        {"target": "list", "member_list": theirs.pk},
        {"target": "member", "member": outsider.pk},
    ):
        response = client.post(rules_url(org), form(**fields))
        assert response.status_code == 200
        assert "not found" in str(response.context["form"].errors)
    assert not CreditRule.objects.for_org(org).exists()
    assert not CreditRule.objects.for_org(other_org).exists()


def test_a_second_rule_of_the_same_family_for_the_same_target_is_refused(org, admin, login):
    client = login(admin)
    client.post(rules_url(org), form(kind="monthly_add", key="1"))
    response = client.post(rules_url(org), form(kind="monthly_top_up", key="2"))
    assert response.status_code == 200
    assert "already have a rule" in str(response.context["form"].non_field_errors())
    # An auto-recharge is another family: it may stand beside a monthly rule.
    assert client.post(rules_url(org), form(key="3")).status_code == 302
    assert CreditRule.objects.for_org(org).count() == 2


def test_the_service_refuses_what_the_form_would(org, admin, employee, other_org):
    with pytest.raises(ApplicationError) as refused:
        rules.credit_rule_create(
            organization=org, actor=employee, kind="monthly_add", target="everyone", amount=5
        )
    assert refused.value.code == "denied"
    with pytest.raises(ApplicationError) as refused:
        rules.credit_rule_create(
            organization=org,
            actor=admin,
            kind="monthly_add",
            target="list",
            member_list=MemberListFactory(organization=other_org),
            amount=5,
        )
    assert refused.value.field == "member_list"
    with pytest.raises(ApplicationError) as refused:
        rules.credit_rule_create(
            organization=org, actor=admin, kind="auto_recharge", target="everyone", amount=5
        )
    assert refused.value.field == "threshold"


def test_the_page_shows_rules_runs_waiting_rules_and_this_months_recharges(
    org, owner, finance, employee, login, time_machine
):
    time_machine.move_to(utc(2026, 3, 10, 9), tick=False)
    fund(org, 15)
    give(org, employee, 1)
    auto = rule(org, amount=10, threshold=5, monthly_max=10, member=employee)
    top_up = rule(org, "monthly_top_up", amount=20)
    rules.member_auto_recharge(organization=org, member=employee)
    spend(org, employee, 10)
    assert rules.member_auto_recharge(organization=org, member=employee).status == "limit"
    assert rules.credit_rule_run(organization=org, rule_id=top_up.pk, period=MARCH).status == (
        "short"
    )

    page = login(finance).get(rules_url(org))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Recharge with €10.00 when the balance falls below €5.00, at most €10.00 a month" in html
    assert "Top up to €20.00 on the 1st of each month" in html
    assert "applies to 3 members" in html  # owner, finance and the employee
    assert "March 2026: 1 recharge, €10.00 in all." in html
    assert "not given yet — the company balance is short by" in html
    assert "Maximum reached" in html
    assert "Add a rule" not in html, "finance reads only"
    assert f'id="rule-{auto.pk}"' in html

    fund(org, 100)
    rules.credit_rule_run(organization=org, rule_id=top_up.pk, period=MARCH)
    html = login(owner).get(rules_url(org)).content.decode()
    assert "given to 3 members" in html
    assert "Given late" in html
    assert "Add a rule" in html


def test_pause_and_resume(org, admin, login):
    paused = rule(org, "monthly_add", amount=5)
    client = login(admin)
    client.post(rules_url(org), {"action": "active", "rule": paused.pk, "active": ""})
    paused.refresh_from_db()
    assert paused.active is False
    client.post(rules_url(org), {"action": "active", "rule": paused.pk, "active": "1"})
    paused.refresh_from_db()
    assert paused.active is True
    verbs = list(
        AuditEvent.objects.for_org(org)
        .filter(verb__startswith="credit_rule.")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["credit_rule.paused", "credit_rule.resumed"]


def test_pausing_another_organizations_rule_changes_nothing(org, other_org, admin, login):
    theirs = rule(other_org, "monthly_add", amount=5)
    response = login(admin).post(
        rules_url(org), {"action": "active", "rule": theirs.pk, "active": ""}, follow=True
    )
    assert "not found" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.active is True


def test_delete_asks_then_deletes(org, admin, employee, login):
    fund(org, 50)
    doomed = rule(org, "monthly_add", amount=5, member=employee)
    rules.credit_rule_run(organization=org, rule_id=doomed.pk, period=MARCH)
    client = login(admin)

    page = client.get(delete_url(org, doomed))
    assert page.status_code == 200
    assert "Add €5.00 on the 1st of each month, for" in page.content.decode()
    assert CreditRule.objects.for_org(org).exists()

    response = client.post(delete_url(org, doomed))
    assert response.status_code == 302
    assert response["Location"] == rules_url(org)
    assert not CreditRule.objects.for_org(org).exists()
    assert not CreditRuleRun.objects.for_org(org).exists()
    event = AuditEvent.objects.for_org(org).get(verb="credit_rule.deleted")
    assert event.data["amount"] == "5.0000"
    # The credit it gave stays.
    assert balance_of(org, employee) == money(org, 5)


def test_another_organizations_rule_cannot_be_deleted(org, other_org, admin, login):
    theirs = rule(other_org, "monthly_add", amount=5)
    url = reverse("credit:rule-delete", kwargs={"org_slug": org.slug, "rule_id": theirs.pk})
    client = login(admin)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert CreditRule.objects.for_org(other_org).exists()


def test_finance_reads_but_cannot_change(org, finance, employee, login):
    existing = rule(org, "monthly_add", amount=5)
    client = login(finance)
    assert client.get(rules_url(org)).status_code == 200
    assert client.post(rules_url(org), form()).status_code == 403
    assert client.get(delete_url(org, existing)).status_code == 403
    assert client.post(delete_url(org, existing)).status_code == 403
    assert login(employee).get(rules_url(org)).status_code == 403
    assert CreditRule.objects.for_org(org).count() == 1


def test_only_active_members_of_the_organization_are_offered(org, admin, outsider, login):
    gone = MemberFactory(organization=org, status=Member.Status.REMOVED, display_name="Gone Person")
    client = login(admin)
    for someone in (gone, outsider):
        response = client.post(
            rules_url(org), form(target="member", member=someone.pk, key=f"k{someone.pk}")
        )
        assert response.context["form"].errors["member"] == [
            "This choice was not found. Reload the page and choose again."
        ]
    typed = client.post(rules_url(org), form(target="member", member_q="Gone Person", key="t"))
    assert "No member matches" in typed.context["form"].errors["member"][0]
    assert not CreditRule.objects.for_org(org).exists()
