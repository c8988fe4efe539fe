"""What stops a development convenience from reaching production, and the headers that keep
private pages private."""

import pytest
from django.core.checks import run_checks
from django.http import HttpResponse
from django.urls import include, path, reverse

from tests.credit.rules_support import bought


def deploy_warnings() -> list[str]:
    return [message.id for message in run_checks(include_deployment_checks=True)]


@pytest.mark.parametrize(
    ("debug", "dev_outbox", "warned"),
    [(False, True, True), (False, False, False), (True, True, False)],
)
def test_check_deploy_warns_when_the_dev_outbox_is_on_without_debug(
    settings, debug, dev_outbox, warned
):
    settings.DEBUG, settings.DEV_OUTBOX = debug, dev_outbox
    assert ("skypemgr.W001" in deploy_warnings()) is warned


def test_the_outbox_check_runs_only_for_deploy(settings):
    settings.DEBUG, settings.DEV_OUTBOX = False, True
    assert "skypemgr.W001" not in [message.id for message in run_checks()]


def features(response) -> dict[str, str]:
    policy = response["Permissions-Policy"]
    return dict(entry.strip().split("=", 1) for entry in policy.split(","))


@pytest.mark.django_db
def test_every_response_denies_the_browser_features_we_do_not_use(client):
    for response in (client.get("/"), client.get("/accounts/login/"), client.get("/healthz")):
        denied = features(response)
        assert {name: denied[name] for name in ("camera", "geolocation", "payment", "usb")} == {
            "camera": "()",
            "geolocation": "()",
            "payment": "()",
            "usb": "()",
        }
        # The coming browser phone calls from our own pages.
        assert denied["microphone"] == "(self)"


@pytest.mark.django_db
def test_pages_for_a_signed_in_person_are_not_stored(org, owner, login):
    client = login(owner)
    for url in (f"/o/{org.slug}/", f"/o/{org.slug}/members/", "/"):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


@pytest.mark.django_db
def test_anonymous_pages_may_be_cached(client):
    assert "no-store" not in client.get("/").get("Cache-Control", "")


@pytest.mark.django_db
def test_a_view_that_forbids_storing_keeps_its_own_header(org, owner, login):
    # /healthz is never_cache: stricter than ours, kept as it is.
    response = login(owner).get("/healthz")
    assert "no-store" in response["Cache-Control"]
    assert "must-revalidate" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_receipt_is_not_stored(org, owner, login):
    purchase = bought(org, owner)
    url = reverse("credit:receipt-pdf", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk})
    response = login(owner).get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"


def download(request):
    response = HttpResponse(b"name\nAna\n", content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="people.csv"'
    return response


# The project's URLs, and one download that anybody may fetch.
urlpatterns = [path("people.csv", download), path("", include("skypemgr.urls"))]


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_download_is_not_stored_even_without_a_session(client):
    assert client.get("/people.csv")["Cache-Control"] == "private, no-store"
