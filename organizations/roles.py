"""Roles inside an organization, and the one table that says who may open which page.

Roles are ordered: owner > admin > finance > member. Every view under /o/<slug>/ has an entry
in ROLE_MATRIX, keyed by its URL name; a view without an entry cannot be mounted (see
organizations.tenancy). `read` applies to GET/HEAD/OPTIONS, `write` to every other method;
`None` means nobody.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    FINANCE = "finance", _("Finance")
    MEMBER = "member", _("Member")

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, other: "Role") -> bool:
        return self.rank >= Role(other).rank


_RANKS = {Role.MEMBER: 0, Role.FINANCE: 1, Role.ADMIN: 2, Role.OWNER: 3}

STAFF_ROLES = (Role.OWNER, Role.ADMIN, Role.FINANCE)


@dataclass(frozen=True)
class Access:
    """The lowest role that may read (safe methods) and write (the rest)."""

    read: Role | None
    write: Role | None = None

    def required_for(self, method: str) -> Role | None:
        return self.read if method in ("GET", "HEAD", "OPTIONS") else self.write

    def allowed_methods(self) -> list[str]:
        methods = ["GET", "HEAD", "OPTIONS"] if self.read is not None else []
        return methods + (["POST"] if self.write is not None else [])

    def allows(self, role: Role, method: str) -> bool:
        required = self.required_for(method)
        return required is not None and Role(role).at_least(required)


def same(role: Role) -> Access:
    return Access(read=role, write=role)


ROLE_MATRIX: dict[str, Access] = {
    # Home dispatches: staff see the dashboard, employees are sent to their own page.
    "organizations:home": same(Role.MEMBER),
    "dashboard:my-account": same(Role.MEMBER),
    "dashboard:leave": same(Role.MEMBER),
    # Each member's own spend by month (their wallet and usage only).
    "dashboard:my-spend": Access(read=Role.MEMBER),
    # Reports: owners, admins and finance read them (the overview and its live part).
    "dashboard:overview": Access(read=Role.FINANCE),
    "dashboard:overview-live": Access(read=Role.FINANCE),
    # Reports: finance members, admins and owners download every report, ask for exports and
    # follow them (the files of the organization's exports: see export_job_downloadable), and
    # subscribe themselves to the monthly report by email (owners and admins see who gets it).
    "dashboard:report-download": Access(read=Role.FINANCE),
    "dashboard:export-list": same(Role.FINANCE),
    "dashboard:export-detail": Access(read=Role.FINANCE),
    "dashboard:export-file": Access(read=Role.FINANCE),
    "dashboard:schedule": same(Role.FINANCE),
    "organizations:settings": same(Role.ADMIN),
    "organizations:audit-log": Access(read=Role.ADMIN),
    # Members: finance reads the directory, details and lists; admins manage.
    # The matrix says which methods a page takes: POST-only actions read None (405 on GET).
    "members:member-list": Access(read=Role.FINANCE),
    "members:member-bulk": Access(read=None, write=Role.ADMIN),
    # The member picker's search (history filter, rules form): whoever reads the directory.
    "members:member-picker": Access(read=Role.FINANCE),
    "members:member-detail": Access(read=Role.FINANCE, write=Role.ADMIN),
    "members:member-role": Access(read=None, write=Role.ADMIN),
    "members:member-status": same(Role.ADMIN),
    "members:member-lists": Access(read=None, write=Role.ADMIN),
    "members:invite": same(Role.ADMIN),
    "members:invitation-list": same(Role.ADMIN),
    "members:invitation-rows": Access(read=Role.ADMIN),
    "members:invitation-bulk-revoke": Access(read=None, write=Role.ADMIN),
    "members:invitation-resend": Access(read=None, write=Role.ADMIN),
    "members:invitation-revoke": Access(read=None, write=Role.ADMIN),
    "members:import": same(Role.ADMIN),
    "members:import-template": Access(read=Role.ADMIN),
    "members:import-detail": same(Role.ADMIN),
    "members:import-errors": Access(read=Role.ADMIN),
    "members:list-list": Access(read=Role.FINANCE, write=Role.ADMIN),
    "members:list-detail": Access(read=Role.FINANCE, write=Role.ADMIN),
    "members:list-delete": same(Role.ADMIN),
    # Credit: finance reads everything; admins move members' credit; owners hold the purse
    # strings (buying is also open to the finance members an owner allows: see the view).
    "credit:overview": Access(read=Role.FINANCE),
    "credit:balances": Access(read=Role.FINANCE),
    "credit:history": Access(read=Role.FINANCE),
    "credit:history-export": Access(read=Role.FINANCE),
    "credit:buy": same(Role.FINANCE),
    "credit:purchase-list": Access(read=Role.FINANCE),
    "credit:purchase-detail": Access(read=Role.FINANCE),
    "credit:purchase-return": Access(read=Role.FINANCE),
    "credit:purchase-status": Access(read=Role.FINANCE),
    "credit:receipt-pdf": Access(read=Role.FINANCE),
    "credit:auto-recharge": Access(read=Role.FINANCE, write=Role.OWNER),
    "credit:payment-method": same(Role.OWNER),
    "credit:settings": Access(read=Role.FINANCE, write=Role.OWNER),
    "credit:allocate": same(Role.ADMIN),
    "credit:take-back": same(Role.ADMIN),
    "credit:member-credit": same(Role.ADMIN),
    "credit:rule-list": Access(read=Role.FINANCE, write=Role.ADMIN),
    "credit:rule-delete": same(Role.ADMIN),
    # Features: the renewal calendar and its export are read by finance, admins and owners;
    # the renewal policy (feature settings) is the owners' to change, the others read it.
    "subscriptions:calendar": Access(read=Role.FINANCE),
    "subscriptions:calendar-export": Access(read=Role.FINANCE),
    "subscriptions:settings": Access(read=Role.FINANCE, write=Role.OWNER),
    # Online numbers: owners and admins buy them (finance follows them); each member manages
    # their own forwarding, greeting, caller ID and voicemails (their own rows only).
    "subscriptions:number-list": Access(read=Role.FINANCE),
    "subscriptions:number-buy": same(Role.ADMIN),
    "subscriptions:number-search": Access(read=Role.ADMIN),
    "subscriptions:my-forwarding": Access(read=None, write=Role.MEMBER),
    "subscriptions:my-greeting": Access(read=None, write=Role.MEMBER),
    "subscriptions:my-caller-id": Access(read=None, write=Role.MEMBER),
    "subscriptions:my-voicemail-audio": Access(read=Role.MEMBER),
    "subscriptions:my-voicemail-listened": Access(read=None, write=Role.MEMBER),
    "subscriptions:my-voicemail-delete": same(Role.MEMBER),
    # Features (pages): finance reads the catalog, the features and members' access; owners
    # and admins assign and change (cancelling now with a refund: owners, in the service).
    "subscriptions:overview": Access(read=Role.FINANCE),
    "subscriptions:catalog": Access(read=Role.FINANCE),
    "subscriptions:assign": same(Role.ADMIN),
    "subscriptions:subscription-detail": Access(read=Role.FINANCE, write=Role.ADMIN),
    "subscriptions:subscription-cancel": same(Role.ADMIN),
    "subscriptions:member-access": Access(read=Role.FINANCE, write=Role.ADMIN),
    # Usage: every member's browser phone (its token: members allowed to call, see the view).
    "usage:phone": Access(read=Role.MEMBER),
    "usage:phone-price": Access(read=Role.MEMBER),
    "usage:phone-token": Access(read=None, write=Role.MEMBER),
    # Usage: the rates of the organization's currency, read by finance, admins and owners
    # (platform staff edit them in Django admin).
    "usage:rates": Access(read=Role.FINANCE),
    # Usage: each member reads their own calls and messages; finance, admins and owners read
    # anyone's; the usage settings (masking numbers, unusual spend) are the owners' to change.
    "usage:my-usage": Access(read=Role.MEMBER),
    "usage:member-usage": Access(read=Role.FINANCE),
    "usage:settings": Access(read=Role.FINANCE, write=Role.OWNER),
    # The call-record API's keys (settings): owners and admins see, create and revoke them.
    "usage:api-key-list": Access(read=Role.ADMIN),
    "usage:api-key-create": same(Role.ADMIN),
    "usage:api-key-revoke": same(Role.ADMIN),
    # Reports: finance, admins and owners read the monthly and annual reports.
    "dashboard:report-month": Access(read=Role.FINANCE),
    "dashboard:report-year": Access(read=Role.FINANCE),
}
