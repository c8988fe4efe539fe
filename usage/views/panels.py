"""Usage shown on other apps' pages: a member's details (registered by UsageConfig.ready())
and My account (the dashboard app reads it)."""

from usage.selectors.usage import member_usage, member_usage_summary, minutes_left

# Records shown on a member's details and on My account; the full pages hold the rest.
LATEST = 5


def member_panel(request, member) -> dict:
    """This month's spend and the latest calls and messages, as the visitor may read them."""
    return {
        "subject": member,
        "summary": member_usage_summary(organization=request.org, member=member),
        "usage": member_usage(
            organization=request.org, member=member, viewer=request.member, size=LATEST
        ),
    }


def my_usage(request) -> dict:
    """The Usage section of My account: this month's spend, minutes left, latest records."""
    organization, member = request.org, request.member
    return {
        "my_usage_summary": member_usage_summary(organization=organization, member=member),
        "my_minutes": minutes_left(organization=organization, member=member),
        "my_usage": member_usage(
            organization=organization, member=member, viewer=member, size=LATEST
        ),
    }
