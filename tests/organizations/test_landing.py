"""The public home page offers what works today, and says what is still coming."""

import re

import pytest

# Features whose apps have not landed yet (subscriptions/, dashboard/ reports, usage).
NOT_BUILT = ("online number", "subscription", "voicemail", "report", "export", "usage", "calls")


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, section_id
    return re.sub(r"<[^>]+>", " ", match.group(0)).lower()


@pytest.mark.django_db
def test_the_landing_page_promises_only_what_exists(client):
    page = client.get("/").content.decode()

    available = section(page, "available")
    for feature in ("invite", "buy", "allocate", "take it back", "history", "pdf"):
        assert feature in available, feature
    for feature in NOT_BUILT:
        assert feature not in available, feature

    coming = section(page, "coming")
    assert "not available yet" in coming
    for feature in ("numbers", "subscriptions", "voicemail", "reports", "export"):
        assert feature in coming, feature

    everything_else = page.replace(
        re.search(r'<section id="coming".*?</section>', page, re.S)[0], ""
    )
    for claim in ("voicemail", "usage", "reports and exports", "numbers and"):
        assert claim not in everything_else.lower(), claim
