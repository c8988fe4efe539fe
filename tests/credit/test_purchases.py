"""Buying credit: the buy page, Stripe Checkout, bank transfer, limits, permissions, bad input,
the return page (which never credits) and the purchase history."""

import pytest
from django.urls import reverse
from djmoney.money import Money

from credit.models import Purchase, Transfer
from credit.selectors.settings import credit_settings
from credit.services.purchases import purchase_credit, purchase_fail
from organizations.roles import Role
from organizations.services import organization_update
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import MemberFactory, OrganizationFactory, PurchaseFactory


def in_yen(owner):
    """The owner's organization switched to yen before its first purchase, as the settings
    page does it."""
    org = owner.organization
    organization_update(
        organization=org,
        actor=owner,
        name=org.name,
        country=org.country.code,
        time_zone=org.time_zone,
        currency="JPY",
    )
    org.refresh_from_db()
    return org


def buy_url(org) -> str:
    return reverse("credit:buy", kwargs={"org_slug": org.slug})


def fresh_key(client, org) -> str:
    response = client.get(buy_url(org))
    assert response.status_code == 200
    return response.context["form"]["idempotency_key"].value()


def buy(client, org, **data):
    fields = {"method": "card", "amount_choice": "100", "idempotency_key": None, **data}
    if fields["idempotency_key"] is None:
        fields["idempotency_key"] = fresh_key(client, org)
    return client.post(buy_url(org), {k: v for k, v in fields.items() if v is not None})


def purchases(org):
    return list(Purchase.objects.for_org(org).order_by("pk"))


# --- Card and PayPal -------------------------------------------------------------------------


def test_owner_pays_by_card_through_stripe_checkout(org, owner, login, stripe_fake):
    response = buy(login(owner), org, method="card", amount_choice="100")

    [purchase] = purchases(org)
    [session] = stripe_fake.sessions.values()
    assert response.status_code == 303
    assert response["Location"] == session["url"]
    assert purchase.status == Purchase.Status.PENDING
    assert purchase.amount == Money(100, "EUR")
    assert purchase.method == "card"
    assert purchase.created_by == owner
    assert purchase.stripe_checkout_session_id == session["id"]
    [request] = stripe_fake.posts
    params = request["params"]
    assert request["path"] == "/v1/checkout/sessions"
    assert request["idempotency_key"] == f"purchase-{purchase.pk}-checkout"
    assert params["mode"] == "payment"
    assert params["payment_method_types"] == ["card"]
    [item] = params["line_items"]
    assert item["quantity"] == "1"
    assert item["price_data"]["currency"] == "eur"
    assert item["price_data"]["unit_amount"] == "10000"
    assert params["client_reference_id"] == str(purchase.pk)
    assert params["metadata"] == {"purchase_id": str(purchase.pk), "organization_id": str(org.pk)}
    assert params["payment_intent_data"]["metadata"] == params["metadata"]
    assert "setup_future_usage" not in params["payment_intent_data"]
    assert params["success_url"].endswith(f"/o/{org.slug}/credit/purchases/{purchase.pk}/return/")
    assert f"/o/{org.slug}/credit/buy/?canceled={purchase.pk}" in params["cancel_url"]
    # Nothing is credited before Stripe's webhook.
    assert not Transfer.objects.for_org(org).exists()


def test_paypal_goes_to_checkout_with_paypal_only(org, owner, login, stripe_fake):
    response = buy(login(owner), org, method="paypal", amount_choice="50")

    assert response.status_code == 303
    [request] = stripe_fake.posts
    assert request["params"]["payment_method_types"] == ["paypal"]
    assert purchases(org)[0].method == "paypal"


def test_auto_recharge_ticked_saves_the_payment_method_for_later(org, owner, login, stripe_fake):
    buy(login(owner), org, method="card", amount_choice="250", auto_recharge="on")

    [purchase] = purchases(org)
    params = stripe_fake.posts[0]["params"]
    assert purchase.save_payment_method is True
    assert params["customer_creation"] == "always"
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert params["payment_intent_data"]["metadata"]["purchase_id"] == str(purchase.pk)


def test_a_saved_customer_is_reused(org, owner, login, stripe_fake):
    settings_row = credit_settings(org)
    settings_row.stripe_customer_id = "cus_saved"
    settings_row.save()

    buy(login(owner), org, method="card", auto_recharge="on")

    params = stripe_fake.posts[0]["params"]
    assert params["customer"] == "cus_saved"
    assert "customer_creation" not in params


def test_yen_have_no_minor_unit(owner, login, stripe_fake):
    org = in_yen(owner)

    page = login(owner).get(buy_url(org))
    assert page.context["form"].fields["amount_choice"].choices[0][0] == "5000"
    assert "Not available in JPY" in page.content.decode()
    buy(login(owner), org, method="card", amount_choice="other", custom_amount="12345")

    [purchase] = purchases(org)
    assert purchase.amount == Money(12345, "JPY")
    item = stripe_fake.posts[0]["params"]["line_items"][0]["price_data"]
    assert (item["currency"], item["unit_amount"]) == ("jpy", "12345")


def test_yen_refuse_decimals(owner, login, stripe_fake):
    org = in_yen(owner)

    response = buy(login(owner), org, amount_choice="other", custom_amount="1000.5")

    assert response.status_code == 200
    assert "no decimals" in response.context["form"].errors["custom_amount"][0]
    assert purchases(org) == []


def test_every_post_to_stripe_carries_our_idempotency_key(org, owner, login, stripe_fake):
    client = login(owner)
    buy(client, org, method="card")
    buy(client, org, method="paypal", auto_recharge="on")
    client.post(
        reverse("credit:payment-method", kwargs={"org_slug": org.slug}),
        {"idempotency_key": "k" * 32},
    )

    assert len(stripe_fake.posts) == 4
    keys = [request["idempotency_key"] for request in stripe_fake.posts]
    first, second = purchases(org)
    assert keys == [
        f"purchase-{first.pk}-checkout",
        f"purchase-{second.pk}-checkout",
        f"organization-{org.pk}-customer",
        f"organization-{org.pk}-setup-{'k' * 32}",
    ]


def test_a_form_sent_twice_buys_once(org, owner, login, stripe_fake):
    client = login(owner)
    key = fresh_key(client, org)

    first = buy(client, org, idempotency_key=key)
    second = buy(client, org, idempotency_key=key)

    assert len(purchases(org)) == 1
    assert first["Location"] == second["Location"]
    # Stripe saw the same key twice and answered with the same session.
    assert len(stripe_fake.sessions) == 1
    assert {request["idempotency_key"] for request in stripe_fake.posts} == {
        f"purchase-{purchases(org)[0].pk}-checkout"
    }


def test_the_buy_page_lets_the_form_redirect_to_checkout(org, owner, login, stripe_fake):
    response = login(owner).get(buy_url(org))

    policy = response["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert stripe_fake.url in form_action
    assert "https://checkout.stripe.com" in form_action


def test_stripe_failing_leaves_a_failed_purchase_and_a_message(org, owner, login, stripe_fake):
    stripe_fake.close()

    response = buy(login(owner), org, method="card")

    assert response.status_code == 200
    assert "could not be opened" in response.content.decode()
    [purchase] = purchases(org)
    assert purchase.status == Purchase.Status.FAILED
    # The page comes back with a new one-time key: sending it again tries a new purchase.
    key = response.context["form"]["idempotency_key"].value()
    assert buy(login(owner), org, method="card", idempotency_key=key).status_code == 200
    assert len(purchases(org)) == 2


# --- Without Stripe keys (the demo) ----------------------------------------------------------


def test_without_keys_card_and_paypal_are_unavailable(org, owner, login, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = login(owner)

    page = client.get(buy_url(org))
    content = page.content.decode()
    assert 'id="method-card"' in content
    assert content.count("online payments are not set up") == 2
    for method in ("card", "paypal"):
        response = buy(client, org, method=method)
        assert response.status_code == 200
        assert "not available" in response.context["form"].errors["method"][0]
    assert purchases(org) == []

    response = buy(client, org, method="bank_transfer")
    assert response.status_code == 302
    assert purchases(org)[0].method == "bank_transfer"


# --- Bank transfer ---------------------------------------------------------------------------


def test_bank_transfer_waits_with_a_reference(org, owner, login, stripe_fake):
    client = login(owner)
    response = buy(client, org, method="bank_transfer", amount_choice="500", auto_recharge="on")

    [purchase] = purchases(org)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "credit:purchase-detail", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
    )
    assert purchase.status == Purchase.Status.PENDING
    assert purchase.reference.startswith("SM-")
    assert purchase.save_payment_method is False
    assert stripe_fake.requests == []
    page = client.get(response["Location"]).content.decode()
    assert purchase.reference in page
    assert "€500.00" in page
    assert "IBAN" in page


# --- Limits ----------------------------------------------------------------------------------


def test_the_page_states_the_limits(org, owner, login):
    page = login(owner).get(buy_url(org)).content.decode()

    assert "Between €5.00 and €500.00 per purchase." in page
    assert "lower until our team has verified your company" in page


def test_unverified_companies_buy_less(org, owner, login, stripe_fake):
    client = login(owner)
    response = buy(client, org, amount_choice="other", custom_amount="600")

    assert response.status_code == 200
    assert "Buy between €5.00 and €500.00" in response.context["form"].errors["custom_amount"][0]
    assert purchases(org) == []
    assert stripe_fake.requests == []

    org.verified = True
    org.save()
    assert buy(client, org, amount_choice="other", custom_amount="600").status_code == 303


def test_too_small(org, owner, login, stripe_fake):
    response = buy(login(owner), org, amount_choice="other", custom_amount="4.99")

    assert response.status_code == 200
    assert response.context["form"].errors["custom_amount"]
    assert purchases(org) == []


@pytest.mark.parametrize(
    ("custom_amount", "message"),
    [
        ("0", "greater than zero"),
        ("-20", "greater than zero"),
        ("10.12345", "decimal places"),
        ("10.123", "decimal places"),
        ("99999999999999999999999", "too large"),
        ("1e9999", "Write the amount like 1,500.50."),
        ("abc", "Write the amount like 1,500.50."),
        ("NaN", "Write the amount like 1,500.50."),
        ("Infinity", "Write the amount like 1,500.50."),
        ("", "Enter an amount"),
    ],
)
def test_bad_amounts_change_nothing(org, owner, login, stripe_fake, custom_amount, message):
    response = buy(login(owner), org, amount_choice="other", custom_amount=custom_amount)

    assert response.status_code == 200
    assert message in response.context["form"].errors["custom_amount"][0]
    assert purchases(org) == []
    assert stripe_fake.requests == []


@pytest.mark.parametrize(
    "data",
    [
        {"method": "auto_recharge"},
        {"method": "cash"},
        {"amount_choice": "37"},
        {"amount_choice": ""},
        {"idempotency_key": ""},
        {"idempotency_key": "x" * 65},
    ],
)
def test_bad_choices_change_nothing(org, owner, login, stripe_fake, data):
    response = buy(login(owner), org, **data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert purchases(org) == []


# --- Who may buy -----------------------------------------------------------------------------


def test_finance_buys_only_when_an_owner_allowed_it(org, owner, finance, login, stripe_fake):
    client = login(finance)
    page = client.get(buy_url(org))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Only some people can buy credit" in content
    assert "ask one of them to tick your name" in content
    assert str(owner) in content
    response = client.post(
        buy_url(org), {"method": "card", "amount_choice": "100", "idempotency_key": "k1"}
    )
    assert response.status_code == 200
    assert purchases(org) == []

    credit_settings(org).purchasers.add(finance)
    assert buy(client, org).status_code == 303
    assert purchases(org)[0].created_by == finance


def test_admins_see_who_can_buy(org, owner, admin, login, stripe_fake):
    response = buy(login(admin), org, idempotency_key="k1")

    assert response.status_code == 200
    assert "Only some people can buy credit" in response.content.decode()
    assert purchases(org) == []


def test_employees_cannot_open_the_page(org, employee, login):
    assert login(employee).get(buy_url(org)).status_code == 403


# --- Returning from Stripe -------------------------------------------------------------------


def card_purchase(org, **fields):
    return PurchaseFactory(organization=org, method="card", reference="", **fields)


def test_the_return_page_waits_and_never_credits(org, owner, login):
    purchase = card_purchase(org)
    url = reverse(
        "credit:purchase-return", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
    )

    page = login(owner).get(url).content.decode()

    assert "Payment processing…" in page
    assert 'hx-trigger="every 2s"' in page
    assert f"/credit/purchases/{purchase.pk}/status/" in page
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PENDING
    assert not Transfer.objects.for_org(org).exists()


def test_the_status_stops_polling_once_paid_and_shows_the_balance(org, owner, login):
    purchase = card_purchase(org)
    url = reverse(
        "credit:purchase-status", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
    )
    client = login(owner)
    assert "every 2s" in client.get(url).content.decode()

    purchase_credit(purchase=purchase)
    part = client.get(url).content.decode()

    assert "every 2s" not in part
    assert "Payment received: €100.00 added to the company balance." in part
    assert "The company balance is now €100.00." in part
    assert "<html" not in part


def test_a_failed_payment_says_so_and_offers_to_try_again(org, owner, login):
    purchase = purchase_fail(purchase=card_purchase(org), reason="Your card was declined.")
    url = reverse(
        "credit:purchase-return", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
    )

    page = login(owner).get(url).content.decode()

    assert "The payment did not go through" in page
    assert "Your card was declined." in page
    assert "Try again" in page
    assert "every 2s" not in page


def test_coming_back_from_a_canceled_checkout(org, owner, login):
    purchase = card_purchase(org)

    page = login(owner).get(buy_url(org) + f"?canceled={purchase.pk}").content.decode()

    assert f"nothing was charged for purchase {purchase.number}" in page


@pytest.mark.parametrize(
    "url_name", ["purchase-detail", "purchase-return", "purchase-status", "receipt-pdf"]
)
def test_another_organizations_purchase_is_404(org, owner, login, url_name):
    theirs = PurchaseFactory(organization=OrganizationFactory())
    url = reverse(f"credit:{url_name}", kwargs={"org_slug": org.slug, "purchase_id": theirs.pk})

    assert login(owner).get(url).status_code == 404


# --- History ---------------------------------------------------------------------------------


def test_the_history_lists_every_purchase_with_filters_and_pages(org, owner, finance, login):
    for _ in range(26):
        card_purchase(org)
    recharge = PurchaseFactory(organization=org, method="auto_recharge", reference="")
    purchase_fail(purchase=recharge, reason="The card was declined (card_declined).")
    url = reverse("credit:purchase-list", kwargs={"org_slug": org.slug})
    client = login(finance)

    first = client.get(url)
    assert first.context["page"].paginator.count == 27
    assert len(first.context["page"].object_list) == 25
    assert client.get(url + "?page=2").context["page"].object_list[0].method == "card"
    recharges = client.get(url + "?method=auto_recharge&status=failed")
    assert [p.pk for p in recharges.context["page"].object_list] == [recharge.pk]
    assert "card_declined" in recharges.content.decode()
    ignored = client.get(url + "?method=nonsense&status=x&page=zz")
    assert ignored.status_code == 200
    assert ignored.context["page"].paginator.count == 27


def test_members_of_other_roles_read_the_history(org, admin, login):
    MemberFactory(organization=org, role=Role.OWNER)
    url = reverse("credit:purchase-list", kwargs={"org_slug": org.slug})

    assert login(admin).get(url).status_code == 200
