"""Members' monthly spending caps: the most a member's usage may spend in a calendar month.

Owns `Account.monthly_spending_cap` of member wallets. The cap is a setting on the wallet, not
money: setting it moves nothing. It locks the wallet row (through the ledger's
`accounts_lock`, so in the ledger's order), and writes an audit event when it changes.
"""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from credit.models import Account
from credit.services.ledger import accounts_lock, amount_of, member_wallet
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError

# What the credit work's audit verbs mean, for people reading the trail (register them with
# organizations.models.register_audit_verbs).
AUDIT_VERBS = {
    "credit.allocated": gettext_lazy("allocated credit"),
    "credit.taken_back": gettext_lazy("took back credit"),
    "credit.cap_set": gettext_lazy("set the monthly spending cap of"),
    "credit.cap_cleared": gettext_lazy("removed the monthly spending cap of"),
}


def member_spending_cap_set(
    *,
    organization: Organization,
    actor: Member | None,
    member: Member,
    cap,
    ip_address: str | None = None,
) -> Account:
    """Set the member's monthly spending cap to `cap` (an amount in the organization's
    currency), or remove it (`cap` None). Returns the wallet.

    Owners and admins only. People invited who have not joined have no wallet yet, and former
    members' wallets only wait to be emptied: both are refused. Creates the wallet when the
    member has none, locks it, and records `credit.cap_set` or `credit.cap_cleared` when the
    cap changes (setting the same cap again changes nothing and records nothing).
    """
    if actor is not None and not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(
            _("Only owners and admins set spending caps."), code="denied", field="cap"
        )
    # Read again: the caller's copy may be older than a removal.
    member = Member.objects.for_org(organization).filter(pk=member.pk).first()
    if member is None:
        raise ApplicationError(_("This person is not a member here."), code="not_found")
    if member.status == Member.Status.INVITED:
        raise ApplicationError(
            _("%(name)s has not joined yet.") % {"name": member}, code="not_joined", field="cap"
        )
    if member.status == Member.Status.REMOVED:
        raise ApplicationError(
            _("%(name)s is a former member.") % {"name": member}, code="former_member", field="cap"
        )
    money: Money | None = None
    if cap is not None:
        try:
            money = amount_of(cap, organization.currency)
        except ApplicationError as error:
            error.field = "cap"
            raise
    with transaction.atomic():
        wallet = member_wallet(organization, member)
        wallet = accounts_lock(organization, [wallet])[wallet.pk]
        previous = wallet.monthly_spending_cap
        if previous == money:
            return wallet
        wallet.monthly_spending_cap = money
        wallet.save(update_fields=["monthly_spending_cap", "monthly_spending_cap_currency"])
        audit_record(
            organization=organization,
            actor=actor,
            verb="credit.cap_set" if money is not None else "credit.cap_cleared",
            target=member,
            data={
                "cap": str(money.amount) if money is not None else None,
                "previous": str(previous.amount) if previous is not None else None,
                "currency": organization.currency,
            },
            ip_address=ip_address,
        )
    return wallet
