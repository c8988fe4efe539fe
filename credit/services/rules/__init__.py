"""Credit rules: members' automatic recharges and the monthly allocations, and reacting when
balances drop. Every transfer a rule posts goes through the ledger's `transfers_post`, from the
company balance to members' wallets (kind "allocation"), with actor None (the system).

- management: creating, pausing, resuming and deleting rules (owners and admins);
- monthly: "add X" / "top up to X" on the 1st, once per period (CreditRuleRun is the guard);
- recharge: member auto-recharge ("recharge with X below Y, at most Z a month"), the reaction
  to `balances_dropped`, and the periodic check.

Who gets what (precedence) and the transfers' keys: credit.selectors.rules. Alerts and emails
to the managers: credit.services.alerts. This package's public names are re-exported here.
"""

from django.utils.translation import gettext_lazy

from credit.selectors.rules import RUN_SHORT_VERB
from credit.services.rules.management import (
    Start,
    Target,
    credit_rule_create,
    credit_rule_delete,
    credit_rule_set_active,
)
from credit.services.rules.monthly import RunOutcome, credit_rule_run, credit_rules_due
from credit.services.rules.recharge import (
    RechargeOutcome,
    balances_dropped_handle,
    member_auto_recharge,
    member_auto_recharges,
    member_auto_recharges_due,
    members_due_for_recharge,
    organization_balances_check,
    organizations_to_check,
)

AUDIT_VERBS = {
    "credit_rule.created": gettext_lazy("created the credit rule"),
    "credit_rule.paused": gettext_lazy("paused the credit rule"),
    "credit_rule.resumed": gettext_lazy("resumed the credit rule"),
    "credit_rule.deleted": gettext_lazy("deleted the credit rule"),
    "credit_rule.ran": gettext_lazy("gave the monthly credit of the rule"),
    RUN_SHORT_VERB: gettext_lazy("could not run the credit rule (company balance short)"),
    "credit_rule.member_recharged": gettext_lazy("automatically recharged the balance of"),
    "credit.low_balance_warned": gettext_lazy("warned the admins that the company balance is low"),
}

__all__ = [
    "AUDIT_VERBS",
    "RechargeOutcome",
    "RunOutcome",
    "Start",
    "Target",
    "balances_dropped_handle",
    "credit_rule_create",
    "credit_rule_delete",
    "credit_rule_run",
    "credit_rule_set_active",
    "credit_rules_due",
    "member_auto_recharge",
    "member_auto_recharges",
    "member_auto_recharges_due",
    "members_due_for_recharge",
    "organization_balances_check",
    "organizations_to_check",
]
