"""Pricing: billing increments, included minutes partly used, rounding, the longest call a
budget buys (to the second), and rates in another currency refused."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usage.pricing import (
    LONGEST_CALL,
    PricingError,
    Terms,
    affordable_seconds,
    billed_seconds,
    call_cost,
    sms_cost,
)

PER_MINUTE = Terms(currency="EUR", per_minute=Decimal("0.12"), per_sms=Decimal("0.07"))
PER_SECOND = Terms(
    currency="EUR", per_minute=Decimal("0.12"), per_sms=Decimal("0.07"), increment="second"
)


@pytest.mark.parametrize(
    ("seconds", "minute", "second"),
    [
        (0, 0, 0),
        (1, 60, 60),
        (59, 60, 60),
        (60, 60, 60),
        (61, 120, 61),
        (119, 120, 119),
        (121, 180, 121),
    ],
)
def test_billing_increments(seconds, minute, second):
    assert billed_seconds(seconds, "minute") == minute
    assert billed_seconds(seconds, "second") == second


def test_a_call_per_minute_and_per_second():
    assert call_cost(terms=PER_MINUTE, currency="EUR", seconds=61).cost == Decimal("0.2400")
    assert call_cost(terms=PER_SECOND, currency="EUR", seconds=61).cost == Decimal("0.1220")
    assert call_cost(terms=PER_SECOND, currency="EUR", seconds=5).cost == Decimal("0.1200")
    assert call_cost(terms=PER_MINUTE, currency="EUR", seconds=0).cost == 0


def test_included_minutes_partly_used_then_credit():
    # 90 seconds left of a subscription; a 3-minute call takes them, the rest costs credit.
    priced = call_cost(terms=PER_MINUTE, currency="EUR", seconds=170, included_available=90)
    assert (priced.billed_seconds, priced.included_seconds) == (180, 90)
    assert priced.cost == Decimal("0.1800")
    covered = call_cost(terms=PER_MINUTE, currency="EUR", seconds=170, included_available=600)
    assert (covered.included_seconds, covered.cost) == (180, 0)


def test_rounding_is_half_up_to_four_places():
    terms = Terms(currency="EUR", per_minute=Decimal("0.0133"), per_sms=0, increment="second")
    # 0.0133 * 61 / 60 = 0.013521666…
    assert call_cost(terms=terms, currency="EUR", seconds=61).cost == Decimal("0.0135")


def test_sms_costs_each_part():
    assert sms_cost(terms=PER_MINUTE, currency="EUR", units=3) == Decimal("0.2100")


def test_a_rate_in_another_currency_prices_nothing():
    with pytest.raises(PricingError):
        call_cost(terms=PER_MINUTE, currency="USD", seconds=60)
    with pytest.raises(PricingError):
        sms_cost(terms=PER_MINUTE, currency="GBP", units=1)
    with pytest.raises(PricingError):
        affordable_seconds(terms=PER_MINUTE, currency="USD", budget=Decimal(1))


def test_affordable_seconds_examples():
    # Per minute: 0.30 buys two whole minutes at 0.12 (a third would cost 0.36).
    assert affordable_seconds(terms=PER_MINUTE, currency="EUR", budget=Decimal("0.30")) == 120
    # Per second after the first minute: 0.13 buys 60 s + 5 s (0.002 a second).
    assert affordable_seconds(terms=PER_SECOND, currency="EUR", budget=Decimal("0.13")) == 65
    assert affordable_seconds(terms=PER_SECOND, currency="EUR", budget=Decimal("0.11")) == 0
    # Included minutes first: 100 s left and nothing else buys 60 s only per minute...
    assert (
        affordable_seconds(
            terms=PER_MINUTE, currency="EUR", budget=Decimal(0), included_available=100
        )
        == 60
    )
    # ...and 100 s per second.
    assert (
        affordable_seconds(
            terms=PER_SECOND, currency="EUR", budget=Decimal(0), included_available=100
        )
        == 100
    )
    assert affordable_seconds(terms=PER_MINUTE, currency="EUR", budget=Decimal(1000)) == (
        LONGEST_CALL
    )


@given(
    budget=st.decimals(min_value=0, max_value=50, places=4),
    included=st.integers(min_value=0, max_value=3000),
    per_minute=st.decimals(min_value="0.0001", max_value=3, places=4),
    increment=st.sampled_from(["minute", "second"]),
)
def test_affordable_is_the_longest_call_within_budget(budget, included, per_minute, increment):
    terms = Terms(currency="EUR", per_minute=per_minute, per_sms=0, increment=increment)
    seconds = affordable_seconds(
        terms=terms, currency="EUR", budget=budget, included_available=included
    )

    def cost(s):
        return call_cost(terms=terms, currency="EUR", seconds=s, included_available=included).cost

    assert cost(seconds) <= budget
    if seconds < LONGEST_CALL:
        assert cost(seconds + 1) > budget
