"""What a call or a message costs: pure functions of a rate, a duration and the minutes a
subscription still includes. No database, no clock (tests check them exhaustively).

A call is billed by the rate's increment: whole minutes (61 s cost two minutes), or the first
minute whole and then by the second (61 s cost 61 s). The billed seconds come from a calling
subscription's included minutes first, as far as they go; the rest costs the rate per minute,
rounded half up to the ledger's 4 decimal places. A call that was not answered (0 s) costs
nothing. A message costs the rate per SMS for each of its parts.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from skypemgr.errors import ApplicationError

PLACES = Decimal("0.0001")
# Twilio's own limit for a call: four hours.
LONGEST_CALL = 4 * 60 * 60

MINUTE = "minute"
SECOND = "second"


class PricingError(ApplicationError):
    pass


@dataclass(frozen=True)
class Terms:
    """What pricing reads of a rate: its currency, prices and billing increment."""

    currency: str
    per_minute: Decimal
    per_sms: Decimal
    increment: str = MINUTE


@dataclass(frozen=True)
class CallCost:
    billed_seconds: int
    included_seconds: int
    cost: Decimal


def terms_check(terms: Terms, currency: str) -> None:
    """A rate in another currency than the organization's prices nothing: PricingError."""
    if terms.currency != currency:
        raise PricingError(
            _("This destination has no price in %(currency)s.") % {"currency": currency},
            code="currency",
        )


def billed_seconds(seconds: int, increment: str) -> int:
    """The seconds a call of `seconds` is billed for."""
    if seconds <= 0:
        return 0
    if increment == SECOND:
        return max(60, seconds)
    return -(-seconds // 60) * 60


def call_cost(
    *, terms: Terms, currency: str, seconds: int, included_available: int = 0
) -> CallCost:
    """The cost of a call of `seconds` with `included_available` seconds of a subscription's
    minutes left for its destination."""
    terms_check(terms, currency)
    billed = billed_seconds(seconds, terms.increment)
    included = min(billed, max(0, included_available))
    charged = billed - included
    cost = (terms.per_minute * charged / 60).quantize(PLACES, rounding=ROUND_HALF_UP)
    return CallCost(billed_seconds=billed, included_seconds=included, cost=cost)


def sms_cost(*, terms: Terms, currency: str, units: int) -> Decimal:
    """The cost of a message of `units` parts."""
    terms_check(terms, currency)
    return (terms.per_sms * max(0, units)).quantize(PLACES, rounding=ROUND_HALF_UP)


def affordable_seconds(
    *, terms: Terms, currency: str, budget: Decimal, included_available: int = 0
) -> int:
    """The longest call, to the second and at most LONGEST_CALL, whose cost stays within
    `budget` (a call's cost only grows with its length, so a binary search finds it)."""
    terms_check(terms, currency)

    def fits(seconds: int) -> bool:
        cost = call_cost(
            terms=terms, currency=currency, seconds=seconds, included_available=included_available
        ).cost
        return cost <= budget

    if fits(LONGEST_CALL):
        return LONGEST_CALL
    low, high = 0, LONGEST_CALL  # fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low
