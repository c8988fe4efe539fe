"""English and French: the browser's language, the switcher, and the saved choice."""

import pytest

from tests.factories import UserFactory


@pytest.mark.django_db
def test_browser_language_is_honoured(client):
    french = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert '<html lang="fr"' in french.content.decode()
    assert "Mot de passe" in french.content.decode()
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert '<html lang="en"' in english.content.decode()


@pytest.mark.django_db
def test_our_own_pages_are_translated(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Inviter des membres" in page or "Acheter du crédit" in page


@pytest.mark.django_db
def test_switcher_sets_the_language_and_remembers_it(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/account/language/", {"language": "fr", "next": "/orgs/new/"})
    assert response.status_code == 302
    assert response["Location"] == "/orgs/new/"
    assert client.cookies["django_language"].value == "fr"
    user.refresh_from_db()
    assert user.language == "fr"

    # On another browser, with no cookie, the saved language applies.
    other = type(client)()
    other.force_login(user)
    assert '<html lang="fr"' in other.get("/orgs/new/").content.decode()


@pytest.mark.django_db
def test_switcher_refuses_unknown_languages(client):
    client.post("/account/language/", {"language": "xx", "next": "/"})
    assert "django_language" not in client.cookies
