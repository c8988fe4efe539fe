"""The member picker: searching while typing (htmx), and the same choice without JavaScript
(a text search sent with the form). Only the organization's own members of the picker's scope
are ever offered; another organization's member is "not found" (404 for the search)."""

import pytest
from django.http import QueryDict

from credit.forms.history import HistoryFilterForm
from members.forms.picker import MemberPickerField
from members.selectors.picker import PICKER_LIMIT
from organizations.models import Member
from tests.factories import MemberFactory


def picker_url(org) -> str:
    return f"/o/{org.slug}/members/picker/"


def search(client, org, text, *, scope="active", name="member", **extra):
    return client.get(picker_url(org), {"name": name, "scope": scope, f"{name}_q": text, **extra})


def offered(response) -> list[int]:
    """The member ids of the radio buttons in the answer."""
    content = response.content.decode()
    return [
        int(part.split('"')[0]) for part in content.split('type="radio" name="member" value="')[1:]
    ]


@pytest.fixture
def people(org):
    return {
        "ana": MemberFactory(organization=org, display_name="Ana Martin", email="ana@acme.test"),
        "anatole": MemberFactory(
            organization=org, display_name="Anatole Roy", email="tol@acme.test"
        ),
        "bob": MemberFactory(organization=org, display_name="Bob Durand", email="bob@acme.test"),
        "gone": MemberFactory(
            organization=org, display_name="Ana Gone", status=Member.Status.REMOVED
        ),
    }


def test_the_search_finds_members_by_name_email_or_username(org, admin, people, login):
    client = login(admin)
    assert offered(search(client, org, "ana")) == [people["ana"].pk, people["anatole"].pk]
    assert offered(search(client, org, "TOL@ACME")) == [people["anatole"].pk]
    assert offered(search(client, org, people["bob"].username)) == [people["bob"].pk]
    nobody = search(client, org, "zebra")
    assert offered(nobody) == []
    assert "No member matches “zebra”." in nobody.content.decode()
    assert offered(search(client, org, "")) == [], "an empty box offers nobody"


def test_the_scope_decides_who_may_be_offered(org, admin, people, login):
    client = login(admin)
    assert people["gone"].pk not in offered(search(client, org, "ana"))


def test_another_organizations_member_never_appears(org, admin, people, other_org, login):
    stranger = MemberFactory(organization=other_org, display_name="Ana Stranger")
    client = login(admin)
    assert stranger.pk not in offered(search(client, org, "ana"))
    assert offered(search(client, org, "Stranger")) == []


def test_a_chosen_member_outside_the_scope_is_404(org, admin, people, other_org, login):
    stranger = MemberFactory(organization=other_org)
    client = login(admin)
    kept = search(client, org, "bob", member=people["ana"].pk)
    assert offered(kept) == [people["ana"].pk, people["bob"].pk], "the choice stays, checked"
    assert f'value="{people["ana"].pk}" id="member-choice-{people["ana"].pk}" checked' in (
        kept.content.decode()
    )
    assert search(client, org, "bob", member=stranger.pk).status_code == 404
    assert search(client, org, "bob", member=people["gone"].pk).status_code == 404
    assert search(client, org, "bob", member=10**30).status_code == 400


def test_many_matches_are_cut_short_with_a_hint(org, admin, login):
    MemberFactory.create_batch(PICKER_LIMIT + 2, organization=org, display_name="Zed Same")
    answer = search(login(admin), org, "zed")
    assert len(offered(answer)) == PICKER_LIMIT
    assert "More members match: type more of the name." in answer.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"name": "member", "scope": "nowhere", "member_q": "a"},
        {"name": "<script>", "scope": "active"},
        {"scope": "active", "member_q": "a"},
        {"name": "member", "scope": "active", "member_q": "a\x00b"},
        {"name": "member", "scope": "active", "member_q": "x" * 10_000},
        {"name": "member", "scope": "active", "member": "1; DROP"},
    ],
)
def test_odd_searches_are_refused_clearly(org, admin, login, query):
    response = login(admin).get(picker_url(org), query)
    assert response.status_code == 400
    assert "text-danger" in response.content.decode()


def test_who_may_search(org, finance, employee, login):
    assert search(login(finance), org, "a").status_code == 200
    assert search(login(employee), org, "a").status_code == 403


# --- The field, without JavaScript ---------------------------------------------------------------


def picked(org, **data):
    """The history filter form's member, as the field cleans what a browser sends."""
    query = QueryDict(mutable=True)
    for name, value in data.items():
        query[name] = str(value)
    form = HistoryFilterForm(query, organization=org)
    form.is_valid()
    return form


@pytest.fixture
def holders(org, people):
    """The history's scope offers members with a balance: give every person a wallet."""
    from credit.services.ledger import member_wallet

    for person in people.values():
        member_wallet(org, person)
    return people


def test_typing_a_name_and_sending_the_form_chooses_the_one_member_it_finds(org, holders):
    form = picked(org, member_q="bob")
    assert form.cleaned_data["member"] == holders["bob"]
    assert 'value="Bob Durand"' in str(form["member"])


def test_a_text_finding_several_members_offers_them_to_choose(org, holders):
    form = picked(org, member_q="ana")
    assert form.errors["member"] == ["Several members match “ana”: choose one below."]
    html = str(form["member"])
    for person in ("ana", "anatole", "gone"):
        assert f'value="{holders[person].pk}"' in html
    chosen = picked(org, member_q="ana", member=holders["anatole"].pk)
    assert chosen.cleaned_data["member"] == holders["anatole"]


def test_a_text_finding_nobody_is_an_error(org, holders):
    form = picked(org, member_q="zebra")
    assert form.errors["member"] == [
        "No member matches “zebra”. Try part of a name or an email address."
    ]


def test_typing_another_name_replaces_the_earlier_choice(org, holders):
    form = picked(org, member=holders["ana"].pk, member_q="bob")
    assert form.cleaned_data["member"] == holders["bob"]
    kept = picked(org, member=holders["ana"].pk, member_q="Ana Martin")
    assert kept.cleaned_data["member"] == holders["ana"]


def test_an_id_outside_the_scope_is_not_found(org, holders, other_org):
    stranger = MemberFactory(organization=other_org)
    for value in (stranger.pk, "abc", 10**30):
        form = picked(org, member=value)
        assert form.errors["member"] == ["This member was not found."]
        assert form.cleaned_data.get("member") is None


def test_a_field_needs_a_known_scope(org):
    with pytest.raises(ValueError, match="scope"):
        MemberPickerField(organization=org, scope="nowhere")


def test_the_rules_form_picks_among_active_members(org, admin, people, login):
    from credit.models import CreditRule

    client = login(admin)
    data = {
        "action": "create",
        "kind": "monthly_add",
        "target": "member",
        "amount": "5",
        "start": "this_month",
    }
    gone = client.post(f"/o/{org.slug}/credit/rules/", {**data, "idempotency_key": "g",
                       "member": people["gone"].pk})  # fmt: skip
    assert "member" in gone.context["form"].errors
    typed = client.post(
        f"/o/{org.slug}/credit/rules/", {**data, "idempotency_key": "t", "member_q": "Bob"}
    )
    assert typed.status_code == 302
    assert CreditRule.objects.for_org(org).get().member == people["bob"]
