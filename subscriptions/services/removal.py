"""What happens to a member's live features when they are removed (registered with
members.extensions as a removal question): cancelled at their period end (the default, and
what a bulk removal or a member leaving does), cancelled now with a refund, or moved to another
active member (a number keeps its number).

Runs inside the removal's transaction, after the member row is locked; each feature is then
locked by the services of subscriptions.services.manage, in id order.
"""

from organizations.models import Member, Organization
from organizations.roles import Role
from subscriptions.forms.manage import RemovalChoice
from subscriptions.models import Subscription
from subscriptions.services.manage import subscription_cancel, subscription_move


def features_on_removal(
    *, organization: Organization, actor: Member | None, member: Member, answer: dict | None
) -> None:
    live = list(
        Subscription.objects.for_org(organization)
        .filter(member=member, status__in=Subscription.LIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not live:
        return
    # A member leaving on their own is not an admin: their features end as the system's doing.
    if actor is not None and not Role(actor.role).at_least(Role.ADMIN):
        actor = None
    choice = (answer or {}).get("features_then") or RemovalChoice.CANCEL_AT_END
    for subscription in live:
        if choice == RemovalChoice.MOVE:
            subscription_move(
                organization=organization,
                actor=actor,
                subscription=subscription,
                member=answer["features_to"],
            )
        else:
            subscription_cancel(
                organization=organization,
                actor=actor,
                subscription=subscription,
                now=choice == RemovalChoice.CANCEL_NOW,
            )
