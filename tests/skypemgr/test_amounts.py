"""Amounts as people type them: one parser, read in the page's language with babel's strict
rules; refusals show how to write an amount here; the one form field built on it."""

from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from skypemgr.amounts import AmountField, example, format_amount, parse_amount

NNBSP, NBSP = "\u202f", "\u00a0"


def read(text, *, language="en", currency="EUR", decimals=None):
    with translation.override(language):
        return parse_amount(text, currency=currency, decimals=decimals)


def refusal(text, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        read(text, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("language", "currency", "text", "number"),
    [
        ("en", "EUR", "1,500", "1500"),
        ("en", "EUR", "10,000", "10000"),
        ("en", "JPY", "1,000", "1000"),
        ("en", "EUR", "1,500.50", "1500.50"),
        ("en", "EUR", "1500.50", "1500.50"),
        ("en", "EUR", "1,234,567.8", "1234567.8"),
        ("en", "EUR", ".5", "0.5"),
        ("fr", "EUR", "1 500,50", "1500.50"),
        ("fr", "EUR", f"1{NBSP}500,50", "1500.50"),
        ("fr", "EUR", f"1{NNBSP}500,50", "1500.50"),
        ("fr", "EUR", "1500,50", "1500.50"),
        ("fr", "EUR", "1500.50", "1500.50"),
        ("fr", "EUR", "1,5", "1.5"),
        ("fr", "JPY", "1 000", "1000"),
        # Full-width digits, as a Japanese keyboard types them.
        ("en", "JPY", "\uff11,\uff10\uff10\uff10", "1000"),
    ],
)
def test_amounts_are_read_the_way_the_page_language_writes_them(language, currency, text, number):
    assert read(text, language=language, currency=currency) == Decimal(number)


@pytest.mark.parametrize(
    ("language", "text", "shown"),
    [
        ("en", "1,5", "1,500.50"),
        ("en", "1500,50", "1,500.50"),
        ("en", "1 500", "1,500.50"),
        ("en", "1e3", "1,500.50"),
        ("en", "12..5", "1,500.50"),
        ("en", "--5", "1,500.50"),
        ("en", "NaN", "1,500.50"),
        ("en", "Infinity", "1,500.50"),
        ("en", "1_000", "1,500.50"),
        ("en", "\u0663", "1,500.50"),
        ("en", "12\x005", "1,500.50"),
        ("en", "1" * 10_000, "1,500.50"),
        ("en", "", "1,500.50"),
        ("fr", "1,500.50", f"1{NNBSP}500,50"),
        ("fr", "1 50", f"1{NNBSP}500,50"),
        ("fr", "1 500.50", f"1{NNBSP}500,50"),
        ("fr", "1.500,50", f"1{NNBSP}500,50"),
    ],
)
def test_malformed_amounts_are_refused_with_an_example_in_the_page_language(language, text, shown):
    error = refusal(text, language=language)
    assert error.code == "invalid"
    assert shown in error.messages[0]


def test_a_dot_that_may_group_thousands_in_french_is_ambiguous():
    error = refusal("1.500", language="fr")
    assert error.code == "ambiguous"
    assert f"1{NNBSP}500,50" in error.messages[0]
    # In English the dot is the decimal point: "1.500" is 1.5 written with three decimals.
    assert refusal("1.500", language="en").code == "decimals"
    assert read("1.500", language="en", decimals=4) == Decimal("1.5")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "€12.50"),
        ("en", "12.50 EUR"),
        ("en", "eur 12.50"),
        ("fr", "12,50 €"),
        ("fr", "€ 12,50"),
    ],
)
def test_the_organizations_currency_may_come_with_the_number(language, text):
    assert read(text, language=language) == Decimal("12.50")


@pytest.mark.parametrize(
    ("currency", "text"),
    [("EUR", "10 USD"), ("EUR", "$10"), ("EUR", "£10"), ("USD", "CA$10"), ("JPY", "€1000")],
)
def test_another_currency_is_refused(currency, text):
    error = refusal(text, currency=currency)
    assert error.code == "currency"
    assert f"Amounts are in {currency} here" in error.messages[0]


@pytest.mark.parametrize(("currency", "text"), [("USD", "$10"), ("CAD", "CA$10"), ("JPY", "¥10")])
def test_a_currency_sign_of_the_organization_is_understood(currency, text):
    assert read(text, currency=currency) == 10


def test_at_most_the_currencys_own_decimals():
    assert refusal("12.345").code == "decimals"
    assert "at most 2 decimal places, like 1,500.50" in refusal("12.345").messages[0]
    error = refusal("1,000.5", currency="JPY")
    assert error.messages == ["JPY amounts have no decimals: write the amount like 1,500."]
    assert "1 500" in refusal("1000,5", language="fr", currency="JPY").messages[0].replace(
        NNBSP, " "
    )
    # A rate may have four.
    assert read("0.0125", decimals=4) == Decimal("0.0125")
    assert refusal("0.00125", decimals=4).code == "decimals"


def test_a_minus_sign_is_read_so_the_field_can_say_what_it_accepts():
    assert read("-5") == -5
    assert read("\u22125") == -5


def test_examples_and_formatted_amounts_follow_the_language_and_the_currency():
    with translation.override("fr"):
        assert example(currency="EUR") == f"1{NNBSP}500,50"
        assert example(currency="JPY") == f"1{NNBSP}500"
        assert format_amount(Money("1500.5", "EUR"), currency="EUR") == f"1{NNBSP}500,50"
        assert format_amount(Decimal("50.0000"), currency="EUR") == "50"
        assert format_amount(Decimal("0.0125"), currency="EUR") == "0,0125"
    with translation.override("en"):
        assert example(currency="EUR") == "1,500.50"
        assert format_amount(Decimal("1500.5000"), currency="EUR") == "1,500.50"
        assert format_amount(Decimal("1000"), currency="JPY") == "1,000"


@given(
    number=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    language=st.sampled_from(["en", "fr"]),
)
def test_what_is_formatted_for_a_form_reads_back_the_same(number, language):
    with translation.override(language):
        written = format_amount(number, currency="EUR")
        assert parse_amount(written, currency="EUR") == number


class PriceForm(forms.Form):
    price = AmountField(currency="EUR")
    warning = AmountField(currency="EUR", required=False, allow_zero=True)
    rate = AmountField(currency="EUR", required=False, decimals=4)


def test_the_field_cleans_into_money_and_says_what_it_accepts():
    with translation.override("fr"):
        form = PriceForm({"price": "1 500,50", "warning": "0", "rate": "0,0125"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data == {
            "price": Money("1500.50", "EUR"),
            "warning": Money(0, "EUR"),
            "rate": Money("0.0125", "EUR"),
        }
    with translation.override("en"):
        refused = PriceForm({"price": "0", "warning": "-1", "rate": ""})
        assert not refused.is_valid()
        assert refused.errors == {
            "price": ["Enter an amount greater than zero."],
            "warning": ["Enter 0 or more."],
        }
        assert PriceForm({"price": ""}).errors["price"] == ["Enter an amount, such as 1,500.50."]
        assert PriceForm({"price": "99999999999"}).errors["price"] == ["This amount is too large."]


def test_the_field_shows_what_was_typed_and_writes_initial_amounts_the_page_way():
    with translation.override("fr"):
        typed = PriceForm({"price": "1,500.50"})
        assert not typed.is_valid()
        assert 'value="1,500.50"' in str(typed["price"])
        initial = PriceForm(initial={"price": Money("1500.5", "EUR")})
        assert f'value="1{NNBSP}500,50"' in str(initial["price"])
        assert 'inputmode="decimal"' in str(initial["price"])
