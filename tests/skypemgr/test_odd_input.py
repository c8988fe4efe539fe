"""Odd input never makes a 500: every page of the project, walked with odd query parameters, and
every form it shows, posted with over-long and odd values.

The pages come from the URLconf (every pattern under /o/<slug>/, walked with each role that may
see it, and the public and account pages, anonymous and signed in); the parameters and fields
come from the forms each page shows, plus a few nobody asks for. A new page or a new field is
walked without being listed here. Django's own admin (/admin/) and the static files are left
out: they are Django's, not ours.

Each odd value goes in alone (the rest of the form as shown, so that it reaches the code behind
the form's checks), and all at once; when the answer offers a next step ("Send" after
"Preview"), that step is posted too. Posts run as the owner, who sees every form; the walk
signs in again after the "Sign out" form. Stripe is the local fake. About 3,800 requests in
all. A failure lists every request that answered 500, with its error.
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from members import tokens
from members.services.imports import member_import_parse
from members.services.invitations import Invitee, invitations_create
from organizations.roles import ROLE_MATRIX, Role
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the fixture)
from tests.factories import (
    CreditRuleFactory,
    MemberListFactory,
    PurchaseFactory,
    UserFactory,
)
from tests.tenancy import KWARG, OBJECT_KWARGS, all_patterns, route_of, tenant_url_names
from tests.walk import (
    ODD_POST_VALUES,
    ODD_VALUES,
    UNKNOWN_PARAMETERS,
    fill_route,
    page_forms,
    same_path,
)

TENANT_URLS = tenant_url_names()
# Not ours to walk: Django's admin and the static files.
LEFT_OUT = ("admin/", "^static/")
PUBLIC_ROUTES = sorted(
    route
    for route, pattern in all_patterns()
    if not hasattr(pattern.callback, "tenant_url_name") and not route.startswith(LEFT_OUT)
)
# The first odd values also go in one parameter at a time; the rest only all at once.
ONE_AT_A_TIME = 3


class Walk:
    """Requests through one signed-in (or anonymous) client; a 500 is recorded, not raised."""

    def __init__(self, user=None):
        self.client = Client()
        if user is not None:
            self.client.force_login(user)
        self.user = user
        self.failures: list[str] = []

    def _record(self, method: str, url: str, data, outcome: str) -> None:
        shown = {key: (str(value)[:40] + "…" if len(str(value)) > 40 else value)
                 for key, value in (data or {}).items()}  # fmt: skip
        who = getattr(self.user, "username", "anonymous")
        self.failures.append(f"{method} {url[:120]} as {who} with {shown}: {outcome}")

    def request(self, method: str, url: str, data=None):
        # Every page shows a "Sign out" form, which the walk posts like any other.
        if self.user is not None and SESSION_KEY not in self.client.session:
            self.client.force_login(self.user)

        try:
            if method == "get":
                response = self.client.get(url, data)
            else:
                response = self.client.post(url, data)
        except Exception as error:  # any error is what the walk reports
            self._record(method.upper(), url, data, f"{type(error).__name__}: {error}"[:300])
            return None
        if response.status_code >= 500:
            self._record(method.upper(), url, data, f"status {response.status_code}")
        return response


def _walk_get(walk: Walk, url: str, *, one_at_a_time: bool = True) -> list:
    """GET the page, then again with odd values in its parameters (all of them, and each of
    the page's own alone); the page's forms."""
    response = walk.request("get", url)
    if (
        response is None
        or response.status_code != 200
        or "html" not in response.get("Content-Type", "")
    ):
        return []
    forms = page_forms(response.content.decode(), url)
    names = {name for form in forms if form.method == "get" and same_path(form.action, url)
             for name in form.field_names()}  # fmt: skip
    base = url.split("?")[0]
    for value in ODD_VALUES:
        walk.request("get", base, dict.fromkeys(sorted(names | set(UNKNOWN_PARAMETERS)), value))
    for name in sorted(names) if one_at_a_time else ():
        for value in ODD_VALUES[:ONE_AT_A_TIME]:
            walk.request("get", base, {name: value})
    return forms


def _walk_posts(walk: Walk, forms, upload: bytes) -> None:
    """Post each form as shown, then with each odd value in each field, then all at once.

    When an answer shows the form again with a button it did not have ("Send" after
    "Preview", "Confirm" after a preview), that next step is posted too, as shown: the odd
    value then reaches the step that acts on it.
    """
    for form in forms:
        if form.method != "post":
            continue
        # Once per submit button: "Preview" and "Send" reach different code.
        for baseline in form.baselines():
            _post(walk, form, baseline, upload)
            for name in form.field_names():
                for value in form.odd_values(name):
                    _post(walk, form, {**baseline, name: value}, upload)
            for value in ODD_POST_VALUES[:ONE_AT_A_TIME]:
                odd = {**baseline, **dict.fromkeys(form.field_names(), value), "zz": value}
                _post(walk, form, odd, upload)


def _post(walk: Walk, form, data: dict, upload: bytes) -> None:
    response = walk.request("post", form.action, _with_file(form, data, upload))
    if response is None or response.status_code != 200:
        return
    if "html" not in response.get("Content-Type", ""):
        return
    shown = set(form.buttons)
    for step in page_forms(response.content.decode(), form.action):
        if step.method != "post" or not same_path(step.action, form.action):
            continue
        for button in set(step.buttons) - shown:
            walk.request("post", step.action, _with_file(step, step.sent_with(button), upload))
            shown.add(button)


def _with_file(form, data: dict, upload: bytes) -> dict:
    files = {item.name for item in form.fields if item.kind == "file"}
    return {**data, **{name: SimpleUploadedFile("odd.csv", upload) for name in files}}


@pytest.fixture
def world(
    org, owner, admin, finance, employee, stripe_fake, django_capture_on_commit_callbacks, settings
):
    """An organization with something behind every kind of URL, and the values to fill in."""
    # Calling from the browser set up (made-up keys: tokens are only signed, never sent), so
    # that the browser phone's token endpoint is walked to its end, not to its 503.
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_API_KEY_SID = "SK" + "0" * 32
    settings.TWILIO_API_KEY_SECRET = "odd-input-walk-secret-odd-input-walk"
    settings.TWILIO_TWIML_APP_SID = "AP" + "0" * 32
    sales = MemberListFactory(organization=org, name="Sales")
    with django_capture_on_commit_callbacks(execute=True):
        [invitation] = invitations_create(
            organization=org, actor=owner, invitees=[Invitee("email", "ana@example.com")]
        )
    member_import = member_import_parse(
        organization=org,
        actor=owner,
        uploaded_file=SimpleUploadedFile(
            "people.csv", b"email,name\nbo@example.com,Bo\nnot-an-address,Cy\n"
        ),
    )
    invitee = UserFactory(email="ana@example.com")
    values = {
        "org_slug": org.slug,
        "member_id": employee.pk,
        "list_id": sales.pk,
        "invitation_id": invitation.pk,
        "import_id": member_import.pk,
        # Numbered outside the service's own sequence (it counts this year's purchases).
        "purchase_id": PurchaseFactory(organization=org, number="2000-00001").pk,
        "rule_id": CreditRuleFactory(organization=org).pk,
        "token": tokens.link_token(invitation.token_nonce),
        "key": "odd-key",
        # The call-record API's record (/api/v1/usage/<external_id>): anonymous, answered 401.
        "external_id": "odd-id",
        "uidb36": "1",
        "pk": 1,
    }
    members = {Role.OWNER: owner, Role.ADMIN: admin, Role.FINANCE: finance, Role.MEMBER: employee}
    return {"values": values, "members": members, "invitee": invitee, "org": org}


def _tenant_url(url_name: str, world) -> str:
    values = dict(world["values"])
    for name in KWARG.findall(route_of(url_name)):
        if name not in values:
            values[name] = OBJECT_KWARGS[name](world["org"])
    return fill_route(route_of(url_name), values)


UPLOAD = b"email,name\n=cmd|x,\x00\n"


@pytest.mark.parametrize("url_name", TENANT_URLS)
def test_organization_pages_answer_odd_input_without_a_500(url_name, world):
    url = _tenant_url(url_name, world)
    access = ROLE_MATRIX[url_name]
    walks = []
    for role, member in world["members"].items():
        if not access.allows(role, "GET"):
            continue
        walk = Walk(member.user)
        # The owner sees every form; the other roles see the same parameters, all at once.
        forms = _walk_get(walk, url, one_at_a_time=role == Role.OWNER)
        if role == Role.OWNER:
            _walk_posts(walk, forms, UPLOAD)
        walks.append(walk)
    if access.read is None and access.write is not None:
        # A page that only takes posts (its forms live on other pages): post odd values to it.
        walk = Walk(world["members"][Role.OWNER].user)
        names = ["action", "member", "members", "role", "name", "invitation", "next_query"]
        for value in ODD_POST_VALUES:
            walk.request("post", url, dict.fromkeys(names, value))
        walks.append(walk)
    failures = [failure for walk in walks for failure in walk.failures]
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
def test_public_and_account_pages_answer_odd_input_without_a_500(route, world):
    url = fill_route(route, world["values"])
    walks = [Walk(), Walk(world["invitee"]), Walk(world["members"][Role.OWNER].user)]
    for walk in walks:
        forms = _walk_get(walk, url, one_at_a_time=walk is walks[0])
        _walk_posts(walk, forms, UPLOAD)
        # Pages that take posts without showing a form (webhooks, answers to invitations).
        for value in ODD_POST_VALUES[:ONE_AT_A_TIME]:
            walk.request("post", url, {"answer": value, "action": value, "zz": value})
    failures = [failure for walk in walks for failure in walk.failures]
    assert failures == [], "\n".join(failures)


def test_the_walk_reaches_every_page_and_their_forms(world):
    """The walk is only as good as what it finds: the pages' forms, the endpoints that only
    take posts (through the forms of the pages that show them), and a session that survives
    the "Sign out" form."""
    walk = Walk(world["members"][Role.OWNER].user)
    forms = _walk_get(walk, _tenant_url("members:invite", world), one_at_a_time=False)
    assert any(form.method == "post" and "addresses" in form.field_names() for form in forms)
    forms = _walk_get(walk, _tenant_url("members:member-list", world), one_at_a_time=False)
    assert any(form.method == "get" and "q" in form.field_names() for form in forms)
    detail = _tenant_url("members:member-detail", world)
    actions = {form.action for form in _walk_get(walk, detail, one_at_a_time=False)}
    assert f"{detail}role/" in actions
    assert "/accounts/logout/" in actions
    walk.request("post", "/accounts/logout/")
    assert walk.request("get", detail).status_code == 200
    assert len(TENANT_URLS) >= 40
    assert "accounts/login/" in PUBLIC_ROUTES
    assert not any(route.startswith("admin/") for route in PUBLIC_ROUTES)
    assert walk.failures == []
