"""Writes about memberships: role, suspension, removal, leaving, profile, a member's lists, and
the directory's bulk actions.

The rules every function here keeps:

- only active owners and admins manage members; the actor is re-read under the lock, so an
  admin demoted a moment ago cannot finish a change;
- only owners make or unmake owners and admins, and only owners suspend, reactivate or remove
  an owner or an admin;
- nobody suspends or removes themself: they leave, from My account;
- an invited placeholder is neither suspended nor removed: its invitation is revoked instead;
- the organization always keeps at least one active owner. Every function locks the
  organization row before it counts the owners, so two changes at once cannot both see
  "another owner is left" (the lock order is members.services.locks').

A removed member keeps their row and their data ("former member") and leaves every list.
Each change records an audit event with what it was and what it became; a request that changes
nothing records nothing. Bulk actions are all or nothing: when one member is refused, nothing
changes and the error names who and why.

- rules: who may change whom, the last active owner, and the errors that say why not;
- changes: role, suspension, reactivation, removal, and leaving;
- profile: a member's profile and the lists they are in;
- bulk: the directory's bulk actions.

This package's public names are re-exported here.
"""

from members.services.membership.bulk import DESTRUCTIVE_ACTIONS, BulkAction, members_bulk_apply
from members.services.membership.changes import (
    member_change_role,
    member_leave,
    member_reactivate,
    member_remove,
    member_suspend,
)
from members.services.membership.profile import member_set_lists, member_update_profile
from members.services.membership.rules import NAMED_IN_ERRORS, PRIVILEGED_ROLES, Change, Status

__all__ = [
    "DESTRUCTIVE_ACTIONS",
    "NAMED_IN_ERRORS",
    "PRIVILEGED_ROLES",
    "BulkAction",
    "Change",
    "Status",
    "member_change_role",
    "member_leave",
    "member_reactivate",
    "member_remove",
    "member_set_lists",
    "member_suspend",
    "member_update_profile",
    "members_bulk_apply",
]
