"""The rules page says that credit taken back is not recharged automatically until the member
spends again (members_due_for_recharge skips wallets last lowered by a take-back)."""

from django.urls import reverse

NOTE = (
    "Credit taken back from a member is not recharged automatically: their recharges resume "
    "once they spend again."
)


def test_the_rules_page_explains_take_backs_and_recharges(org, admin, finance, login):
    url = reverse("credit:rule-list", kwargs={"org_slug": org.slug})
    # Where the rules are shown (finance reads them), and where they are created.
    assert NOTE in login(finance).get(url).content.decode()
    page = login(admin).get(url).content.decode()
    assert page.count("Credit taken back from a member is not recharged") == 2
