"""Usage alerts: 80% and 100% of a member's monthly cap, a balance at zero, unusual spend.
(Built by the alerts work; until then it checks nothing.)"""

from collections.abc import Sequence

from organizations.models import Organization


def usage_alerts_check(*, organization: Organization, member_ids: Sequence[int]) -> int:
    return 0
