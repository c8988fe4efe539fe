"""Allocating credit and taking it back from the pages: choose, preview, confirm; all or
nothing; once per form; bad input is a clear error and moves nothing."""

import re

import pytest
from djmoney.money import Money

from credit.forms.allocation import new_key
from credit.models import Account, Transfer
from credit.services import ledger
from credit.services.allocation import credit_allocate
from members.services.lists import list_add_members
from members.services.membership import member_remove, member_suspend
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.factories import InvitationFactory, MemberFactory, MemberListFactory
from tests.tenancy import snapshot


def eur(value) -> Money:
    return Money(value, "EUR")


def allocate_url(org) -> str:
    return f"/o/{org.slug}/credit/allocate/"


def take_back_url(org) -> str:
    return f"/o/{org.slug}/credit/take-back/"


def member_credit_url(member) -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/credit/"


def balance_of(org, member) -> Money:
    account = Account.objects.for_org(org).filter(member=member).first()
    return account.balance if account else eur(0)


def company(org) -> Money:
    return ledger.system_account(org, Account.Kind.ORGANIZATION).balance


def moves(org, kind) -> int:
    return Transfer.objects.for_org(org).filter(kind=kind).count()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def key() -> str:
    """A one-time key as the pages make them."""
    return new_key()


def preview(client, url, data):
    return client.post(url, {**data, "step": "preview"})


def confirm(client, url, preview_response):
    """Send the preview's own form back with its Confirm button, as a browser would."""
    form = preview_response.content.decode().split('name="expected"')[0].rsplit("<form", 1)[1]
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    data["expected"] = [preview_response.context["plan"].fingerprint]
    data["step"] = ["confirm"]
    return client.post(url, data)


@pytest.fixture
def team(org):
    return MemberFactory.create_batch(3, organization=org)


# --- Allocate ---------------------------------------------------------------------------------


def test_the_directory_sends_its_selection_to_the_allocate_page(org, owner, team, login):
    client = login(owner)
    directory = client.get(f"/o/{org.slug}/members/").content.decode()
    assert f'formaction="{allocate_url(org)}"' in directory
    assert f'formaction="{take_back_url(org)}"' in directory
    # The bulk form posts: the CSRF token stays out of URLs.
    response = client.post(allocate_url(org), {"members": [team[0].pk, team[1].pk], "action": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["target"] == "selected"
    page = main_of(response)
    assert f'value="{team[0].pk}"' in page
    assert f'value="{team[2].pk}"' not in page
    # A link may preselect them too.
    response = client.get(allocate_url(org), {"members": [team[2].pk]})
    assert f'value="{team[2].pk}"' in main_of(response)


def test_allocate_to_the_selected_members_preview_then_confirm(org, owner, admin, team, login):
    bought(org, owner)
    client = login(admin)
    data = {
        "target": "selected",
        "members": [team[0].pk, team[1].pk],
        "amount": "12,5",
        "memo": "March travel",
        "idempotency_key": key(),
    }
    shown = preview(client, allocate_url(org), data)
    assert shown.status_code == 200
    plan = shown.context["plan"]
    assert (plan.count, plan.total, plan.company_after) == (2, eur(25), eur(75))
    page = main_of(shown)
    for text in ("Check the allocation", "€25.00", "€75.00", team[0].display_name, "March travel"):
        assert text in page
    assert moves(org, "allocation") == 0, "a preview moves nothing"

    done = confirm(client, allocate_url(org), shown)
    assert done.status_code == 302
    assert done["Location"] == f"/o/{org.slug}/credit/"
    assert [balance_of(org, m) for m in team] == [eur("12.5"), eur("12.5"), eur(0)]
    assert company(org) == eur(75)
    transfer = Transfer.objects.for_org(org).filter(kind="allocation").first()
    assert (transfer.actor, transfer.memo) == (admin, "March travel")
    assert AuditEvent.objects.for_org(org).filter(verb="credit.allocated", actor=admin).count() == 1
    landing = client.get(done["Location"])
    assert "€12.50 allocated to each of 2 members (€25.00 in all)." in messages_of(landing)


def test_the_same_form_sent_twice_moves_money_once(org, owner, team, login):
    bought(org, owner)
    client = login(owner)
    shown = preview(
        client,
        allocate_url(org),
        {"target": "everyone", "amount": "10", "idempotency_key": key()},
    )
    assert shown.context["plan"].count == 4  # the owner is an active member too
    first = confirm(client, allocate_url(org), shown)
    second = confirm(client, allocate_url(org), shown)
    assert first.status_code == second.status_code == 302
    assert moves(org, "allocation") == 4
    assert company(org) == eur(60)
    assert "This allocation was already made; the credit moved once." in messages_of(
        client.get(second["Location"])
    )


def test_allocate_to_a_list(org, owner, team, login):
    bought(org, owner)
    sales = MemberListFactory(organization=org, name="Sales")
    list_add_members(organization=org, actor=owner, member_list=sales, members=team[:2])
    client = login(owner)
    shown = preview(
        client,
        allocate_url(org),
        {"target": "list", "member_list": sales.pk, "amount": "5", "idempotency_key": key()},
    )
    assert {line.member for line in shown.context["plan"].lines} == set(team[:2])
    confirm(client, allocate_url(org), shown)
    assert [balance_of(org, m) for m in team] == [eur(5), eur(5), eur(0)]


def test_everyone_means_active_members_and_suspended_ones_can_be_chosen(org, owner, team, login):
    bought(org, owner)
    member_suspend(organization=org, actor=owner, member=team[0])
    invited = InvitationFactory(organization=org).member
    client = login(owner)
    everyone = preview(
        client, allocate_url(org), {"target": "everyone", "amount": "1", "idempotency_key": key()}
    )
    assert {line.member for line in everyone.context["plan"].lines} == {owner, team[1], team[2]}
    chosen = preview(
        client,
        allocate_url(org),
        {
            "target": "selected",
            "members": [team[0].pk, invited.pk],
            "amount": "1",
            "idempotency_key": key(),
        },
    )
    plan = chosen.context["plan"]
    assert [line.member for line in plan.lines] == [team[0]]
    assert plan.left_out == [(invited, "has not joined yet")]
    assert "1 person left out" in main_of(chosen)
    confirm(client, allocate_url(org), chosen)
    assert balance_of(org, team[0]) == eur(1)
    # No wallet for the placeholder: a revoked invitation can still delete it.
    assert not Account.objects.for_org(org).filter(member=invited).exists()


def test_a_short_company_balance_moves_nothing_and_says_what_is_missing(org, owner, team, login):
    bought(org, owner, 20)
    client = login(owner)
    data = {
        "target": "selected",
        "members": [m.pk for m in team],
        "amount": "10",
        "idempotency_key": key(),
    }
    shown = preview(client, allocate_url(org), data)
    assert shown.context["plan"].missing == eur(10)
    page = main_of(shown)
    assert "is short by €10.00" in page
    assert f'href="/o/{org.slug}/credit/buy/"' in page
    assert 'value="confirm"' not in page
    before = snapshot(org)
    # Confirming anyway (a stale page, a crafted request) moves nothing either.
    response = client.post(allocate_url(org), {**data, "step": "confirm"})
    assert response.status_code == 200
    assert "is short by €10.00" in main_of(response)
    assert snapshot(org) == before


def test_the_balance_falling_between_preview_and_confirm_moves_nothing(org, owner, team, login):
    bought(org, owner, 30)
    client = login(owner)
    shown = preview(
        client,
        allocate_url(org),
        {"target": "selected", "members": [team[0].pk], "amount": "20", "idempotency_key": key()},
    )
    assert shown.context["plan"].can_confirm
    credit_allocate(
        organization=org, actor=owner, members=[team[1]], amount=15, idempotency_key="meanwhile"
    )
    response = confirm(client, allocate_url(org), shown)
    assert response.status_code == 200
    assert response.context["plan"].missing == eur(5)
    assert balance_of(org, team[0]) == eur(0)


def test_who_is_included_changing_after_the_preview_asks_again(org, owner, team, login):
    bought(org, owner)
    client = login(owner)
    shown = preview(
        client, allocate_url(org), {"target": "everyone", "amount": "1", "idempotency_key": key()}
    )
    newcomer = MemberFactory(organization=org)
    response = confirm(client, allocate_url(org), shown)
    assert response.status_code == 200
    assert response.context["changed"]
    assert "changed since you checked" in main_of(response)
    assert moves(org, "allocation") == 0
    again = confirm(client, allocate_url(org), response)
    assert again.status_code == 302
    assert balance_of(org, newcomer) == eur(1)


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", "Enter an amount greater than zero."),
        ("-5", "Enter an amount greater than zero."),
        ("1.00001", "Use at most 4 decimal places."),
        ("99999999999999", "This amount is too large."),
        ("1e400", "Enter an amount, such as 25 or 12.50."),
        ("abc", "Enter an amount, such as 25 or 12.50."),
        ("NaN", "Enter an amount, such as 25 or 12.50."),
        ("10 USD", "Amounts are in EUR here"),
        ("$10", "Amounts are in EUR here"),
        ("", "Enter an amount, such as 25 or 12.50."),
    ],
)
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_bad_amounts_are_clear_errors_and_move_nothing(
    org, owner, team, login, amount, error, step
):
    bought(org, owner)
    before = snapshot(org)
    response = login(owner).post(
        allocate_url(org),
        {
            "target": "selected",
            "members": [team[0].pk],
            "amount": amount,
            "idempotency_key": key(),
            "step": step,
        },
    )
    assert response.status_code == 200
    assert error in response.context["form"].errors["amount"][0]
    assert snapshot(org) == before


@pytest.mark.parametrize("amount", ["10 EUR", "€10", "10,00 €", "1 0"])
def test_amounts_written_in_the_organizations_currency_are_understood(
    org, owner, team, login, amount
):
    bought(org, owner)
    response = preview(
        login(owner),
        allocate_url(org),
        {"target": "selected", "members": [team[0].pk], "amount": amount, "idempotency_key": key()},
    )
    assert response.context["plan"].total == eur(10)


def test_a_member_of_another_organization_is_not_found(org, owner, team, outsider, login):
    bought(org, owner)
    before = snapshot(org)
    for step in ("preview", "confirm"):
        response = login(owner).post(
            allocate_url(org),
            {
                "target": "selected",
                "members": [team[0].pk, outsider.pk],
                "amount": "5",
                "idempotency_key": key(),
                "step": step,
            },
        )
        assert response.status_code == 200
        assert "were not found" in response.context["form"].errors["members"][0]
    assert snapshot(org) == before


def test_a_former_member_receives_nothing(org, owner, team, login):
    bought(org, owner)
    member_remove(organization=org, actor=owner, member=team[0])
    before = snapshot(org)
    response = login(owner).post(
        allocate_url(org),
        {
            "target": "selected",
            "members": [team[0].pk],
            "amount": "5",
            "idempotency_key": key(),
            "step": "confirm",
        },
    )
    assert response.status_code == 200
    assert "None of these people can receive credit." in main_of(response)
    assert "is a former member" in main_of(response)
    assert snapshot(org) == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"step": "preview"},
        {"step": "confirm", "target": "list"},
        {"step": "confirm", "target": "selected", "members": ["x", "1.5", "-3"]},
        {"step": "preview", "target": "list", "member_list": "999999999", "amount": "1"},
        {"step": "confirm", "target": "everyone", "amount": "1", "idempotency_key": "not-a-key"},
        {"step": "edit", "target": "nobody"},
    ],
)
def test_garbage_is_never_a_500(org, owner, team, login, data):
    bought(org, owner, 5)
    response = login(owner).post(allocate_url(org), data)
    assert response.status_code in (200, 302)


def test_a_missing_key_gets_a_fresh_one_rather_than_an_error(org, owner, team, login):
    bought(org, owner)
    response = login(owner).post(
        allocate_url(org), {"step": "preview", "target": "everyone", "amount": "1"}
    )
    assert response.status_code == 200
    assert response.context["plan"].count == 4


# --- Take back --------------------------------------------------------------------------------


@pytest.fixture
def holding(org, owner, team):
    bought(org, owner)
    credit_allocate(organization=org, actor=owner, members=team, amount=10, idempotency_key="setup")
    return team


def test_take_back_an_amount_from_the_selected_members(org, admin, holding, login):
    client = login(admin)
    shown = preview(
        client,
        take_back_url(org),
        {
            "target": "selected",
            "members": [holding[0].pk, holding[1].pk],
            "how": "amount",
            "amount": "4",
            "idempotency_key": key(),
        },
    )
    plan = shown.context["plan"]
    assert (plan.count, plan.total, plan.company_after) == (2, eur(8), eur(78))
    assert moves(org, "take_back") == 0
    done = confirm(client, take_back_url(org), shown)
    assert done.status_code == 302
    assert [balance_of(org, m) for m in holding] == [eur(6), eur(6), eur(10)]
    assert "€8.00 taken back from 2 members." in messages_of(client.get(done["Location"]))
    assert AuditEvent.objects.for_org(org).filter(verb="credit.taken_back").count() == 1


def test_take_back_all_of_it_from_everyone_who_holds_credit(org, owner, holding, login):
    client = login(owner)
    shown = preview(
        client, take_back_url(org), {"target": "everyone", "how": "all", "idempotency_key": key()}
    )
    assert shown.context["plan"].total == eur(30)
    confirm(client, take_back_url(org), shown)
    again = confirm(client, take_back_url(org), shown)
    assert again.status_code == 302
    assert "This take-back was already made; the credit moved once." in messages_of(
        client.get(again["Location"])
    )
    assert [balance_of(org, m) for m in holding] == [eur(0)] * 3
    assert company(org) == eur(100)
    assert moves(org, "take_back") == 3


def test_taking_back_more_than_a_member_holds_is_refused_by_name(org, owner, holding, login):
    credit_allocate(
        organization=org, actor=owner, members=[holding[0]], amount=5, idempotency_key="more"
    )
    client = login(owner)
    data = {
        "target": "selected",
        "members": [m.pk for m in holding],
        "how": "amount",
        "amount": "12",
        "idempotency_key": key(),
    }
    shown = preview(client, take_back_url(org), data)
    page = main_of(shown)
    assert f"{holding[1].display_name} holds €10.00" in page
    assert f"{holding[0].display_name} holds" not in page
    assert 'value="confirm"' not in page
    before = snapshot(org)
    response = client.post(take_back_url(org), {**data, "step": "confirm"})
    assert response.status_code == 200
    assert snapshot(org) == before


def test_a_former_members_credit_can_be_taken_back(org, owner, holding, login):
    member_remove(organization=org, actor=owner, member=holding[0])
    client = login(owner)
    shown = preview(
        client,
        take_back_url(org),
        {"target": "selected", "members": [holding[0].pk], "how": "all", "idempotency_key": key()},
    )
    confirm(client, take_back_url(org), shown)
    assert balance_of(org, holding[0]) == eur(0)


def test_nobody_holding_credit_is_a_clear_error(org, owner, team, login):
    bought(org, owner)
    response = preview(
        login(owner),
        take_back_url(org),
        {"target": "selected", "members": [team[0].pk], "how": "all", "idempotency_key": key()},
    )
    assert "These members hold no credit to take back." in main_of(response)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"step": "preview"},
        {"step": "preview", "target": "everyone", "how": "amount"},
        {"step": "confirm", "target": "everyone", "how": "amount", "amount": "-1"},
        {"step": "confirm", "target": "everyone", "how": "sideways"},
    ],
)
def test_take_back_garbage_is_never_a_500(org, owner, holding, login, data):
    before = snapshot(org)
    response = login(owner).post(take_back_url(org), data)
    assert response.status_code == 200
    assert snapshot(org) == before


# --- Roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [allocate_url, take_back_url])
@pytest.mark.parametrize("method", ["get", "post"])
def test_finance_reads_but_does_not_move_members_credit(
    org, owner, finance, team, login, url, method
):
    bought(org, owner)
    before = snapshot(org)
    data = {"target": "everyone", "amount": "1", "how": "all", "step": "confirm"}
    response = getattr(login(finance), method)(url(org), data)
    assert response.status_code == 403
    assert snapshot(org) == before
    assert login(finance).get(f"/o/{org.slug}/credit/").status_code == 200


# --- One member -------------------------------------------------------------------------------


def test_the_member_credit_page(org, admin, owner, employee, login):
    bought(org, owner)
    client = login(admin)
    page = client.get(member_credit_url(employee))
    assert page.status_code == 200
    give_key = page.context["give_form"].initial["idempotency_key"]
    data = {
        "action": "allocate",
        "give-amount": "7.5",
        "give-memo": "Trip",
        "give-idempotency_key": give_key,
    }
    first = client.post(member_credit_url(employee), data)
    second = client.post(member_credit_url(employee), data)
    assert first.status_code == second.status_code == 302
    assert balance_of(org, employee) == eur("7.5")
    assert "This was already done; the credit moved once." in messages_of(
        client.get(second["Location"])
    )

    shown = client.get(member_credit_url(employee))
    assert "€7.50" in main_of(shown)
    assert "Trip" in main_of(shown)
    take_key = shown.context["take_form"].initial["idempotency_key"]
    too_much = client.post(
        member_credit_url(employee),
        {
            "action": "take_back",
            "take-how": "amount",
            "take-amount": "8",
            "take-idempotency_key": take_key,
        },
    )
    assert too_much.status_code == 200
    assert "cannot take back" in main_of(too_much)
    assert balance_of(org, employee) == eur("7.5")
    everything = client.post(
        member_credit_url(employee),
        {"action": "take_back", "take-how": "all", "take-idempotency_key": take_key},
    )
    assert everything.status_code == 302
    assert balance_of(org, employee) == eur(0)


def test_the_member_credit_page_with_a_short_company_balance(org, owner, employee, login):
    bought(org, owner, 5)
    client = login(owner)
    response = client.post(
        member_credit_url(employee),
        {"action": "allocate", "give-amount": "8", "give-idempotency_key": key()},
    )
    assert response.status_code == 200
    page = main_of(response)
    assert "short by €3.00" in page
    assert f'href="/o/{org.slug}/credit/buy/"' in page
    assert balance_of(org, employee) == eur(0)


def test_an_invited_person_gets_no_credit_from_their_page(org, owner, login):
    bought(org, owner)
    invited = InvitationFactory(organization=org).member
    client = login(owner)
    page = client.get(member_credit_url(invited))
    assert "credit can be given once they have" in main_of(page)
    response = client.post(
        member_credit_url(invited),
        {"action": "allocate", "give-amount": "8", "give-idempotency_key": key()},
    )
    assert response.status_code == 200
    assert not Account.objects.for_org(org).filter(member=invited).exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "explode"},
        {"action": "allocate"},
        {"action": "allocate", "give-amount": "1e9999"},
        {"action": "take_back", "take-how": "all"},
        {"action": "cap", "cap-cap": "ten"},
    ],
)
def test_member_credit_garbage_is_never_a_500(org, owner, employee, login, data):
    bought(org, owner)
    before = snapshot(org)
    response = login(owner).post(member_credit_url(employee), data)
    assert response.status_code == 200
    assert snapshot(org) == before


def test_another_organizations_member_has_no_credit_page(org, owner, outsider, login):
    assert (
        login(owner)
        .get(member_credit_url(outsider).replace(outsider.organization.slug, org.slug))
        .status_code
        == 404
    )


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MEMBER])
def test_only_owners_and_admins_open_a_members_credit(org, employee, login, role):
    member = MemberFactory(organization=org, role=role)
    assert login(member).get(member_credit_url(employee)).status_code == 403
    assert Member.objects.for_org(org).count() == 2


def test_a_link_naming_only_strangers_preselects_nobody(org, owner, outsider, login):
    response = login(owner).get(allocate_url(org), {"members": [outsider.pk, "x"]})
    assert response.status_code == 200
    choices = [value for value, _label in response.context["form"].fields["target"].choices]
    assert choices == ["list", "everyone"]
    assert str(outsider) not in main_of(response)
