"""How the credit app's audit events read (see organizations.audit_sentences).

The verbs' labels stay next to the services that record them (caps, rules, stripe_gateway);
this module words each event as a sentence with its amounts (as Money), members, purchase
numbers and rules. `rows_for_events` fetches, once per page, the purchases and rules the events
name, and the members and lists the rules are for.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credit.models import CreditRule, Purchase, Transfer
from credit.selectors.rules import RUN_SHORT_VERB
from members.models import MemberList
from organizations.audit_sentences import month_text, names_text, sentence
from organizations.models import Member

PURCHASE = "credit.purchase"
RULE = "credit.creditrule"


def rows_for_events(organization, events) -> dict:
    """{(target type, id): row} for the purchases and rules the events name, plus
    {("member", id): name} and {("list", id): name} for whom the rules are for."""
    ids = {PURCHASE: set(), RULE: set()}
    for event in events:
        if event.target_type in ids and event.target_id.isdigit():
            ids[event.target_type].add(int(event.target_id))
    rows = {}
    if ids[PURCHASE]:
        for purchase in Purchase.objects.for_org(organization).filter(pk__in=ids[PURCHASE]):
            rows[(PURCHASE, str(purchase.pk))] = purchase
    if ids[RULE]:
        for rule in CreditRule.objects.for_org(organization).filter(pk__in=ids[RULE]):
            rows[(RULE, str(rule.pk))] = rule
    member_ids, list_ids = set(), set()
    for event in events:
        if event.target_type == RULE:
            rule = rows.get((RULE, event.target_id))
            member_ids.add(rule.member_id if rule else event.data.get("member"))
            list_ids.add(rule.member_list_id if rule else event.data.get("list"))
    member_ids.discard(None)
    list_ids.discard(None)
    if member_ids:
        for member in Member.objects.for_org(organization).filter(pk__in=member_ids):
            rows[("member", member.pk)] = str(member)
    if list_ids:
        for member_list in MemberList.objects.for_org(organization).filter(pk__in=list_ids):
            rows[("list", member_list.pk)] = member_list.name
    return rows


def _count(count: int) -> str:
    return ngettext("%(count)d member", "%(count)d members", count) % {"count": count}


def _people(event) -> str:
    count = int(event.data.get("members") or 0)
    names = event.data.get("names") or []
    if count == 1 and event.target_label:
        return event.target_label
    return names_text(names, count) if names else _count(count)


# --- Allocation, take-back, caps -------------------------------------------------------------


def _allocated(event, context):
    amount = context.money(event, "amount")
    if int(event.data.get("members") or 0) == 1:
        return sentence(
            _("%(actor)s allocated %(amount)s to %(members)s."),
            amount=amount,
            members=_people(event),
        )
    return sentence(
        _("%(actor)s allocated %(amount)s each to %(members)s (%(total)s in all)."),
        amount=amount,
        members=_people(event),
        total=context.money(event, "total"),
    )


def _taken_back(event, context):
    return sentence(
        _("%(actor)s took back %(total)s from %(members)s."),
        total=context.money(event, "total"),
        members=_people(event),
    )


def _cap_set(event, context):
    values = {"member": event.target_label, "cap": context.money(event, "cap")}
    previous = context.money(event, "previous")
    if previous is None:
        return sentence(
            _("%(actor)s set the monthly spending cap of %(member)s to %(cap)s."), **values
        )
    return sentence(
        _("%(actor)s changed the monthly spending cap of %(member)s from %(previous)s to %(cap)s."),
        previous=previous,
        **values,
    )


def _cap_cleared(event, context):
    previous = context.money(event, "previous")
    if previous is None:
        return sentence(
            _("%(actor)s removed the monthly spending cap of %(member)s."),
            member=event.target_label,
        )
    return sentence(
        _("%(actor)s removed the monthly spending cap of %(member)s (it was %(previous)s)."),
        member=event.target_label,
        previous=previous,
    )


# --- Rules -----------------------------------------------------------------------------------


def _rule_text(event, context) -> str:
    """The rule in words, "Add €10.00 on the 1st of each month, for the list “Sales”", from
    the live rule, or from the event's data when the rule was deleted."""
    rule = context.row(event)
    if rule is not None:
        kind, amount, threshold, maximum = rule.kind, rule.amount, rule.threshold, rule.monthly_max
        member_id, list_id = rule.member_id, rule.member_list_id
    else:
        kind = event.data["kind"]
        amount = context.money(event, "amount")
        threshold = context.money(event, "threshold")
        maximum = context.money(event, "monthly_max")
        member_id, list_id = event.data.get("member"), event.data.get("list")
    if kind == CreditRule.Kind.MONTHLY_ADD:
        what = _("Add %(amount)s on the 1st of each month") % {"amount": amount}
    elif kind == CreditRule.Kind.MONTHLY_TOP_UP:
        what = _("Top up to %(amount)s on the 1st of each month") % {"amount": amount}
    elif threshold is not None and maximum is not None:
        what = _(
            "Recharge with %(amount)s when the balance falls below %(threshold)s, "
            "at most %(maximum)s a month"
        ) % {"amount": amount, "threshold": threshold, "maximum": maximum}
    else:
        what = f"{CreditRule.Kind(kind).label} {amount}"
    if member_id:
        name = context.rows.get(("member", member_id))
        whom = _("for %(name)s") % {"name": name} if name else _("for a former member")
    elif list_id:
        name = context.rows.get(("list", list_id))
        whom = _("for the list “%(name)s”") % {"name": name} if name else _("for a deleted list")
    else:
        whom = _("for everyone")
    return f"{what}, {whom}"


def _rule_change(template):
    def describe(event, context):
        return sentence(template(), rule=_rule_text(event, context))

    return describe


def _rule_ran(event, context):
    members = int(event.data["members"])
    return sentence(
        _("The credit rule “%(rule)s” gave %(total)s to %(members)s for %(month)s."),
        rule=_rule_text(event, context),
        total=context.money(event, "total"),
        members=_count(members),
        month=month_text(event.data["period"]),
    )


def _rule_short(event, context):
    return sentence(
        _(
            "The credit rule “%(rule)s” gave nothing for %(month)s: it needs %(total)s and the "
            "company balance (%(balance)s) is short by %(missing)s."
        ),
        rule=_rule_text(event, context),
        month=month_text(event.data["period"]),
        total=context.money(event, "total"),
        balance=context.money(event, "balance"),
        missing=context.money(event, "missing"),
    )


def _member_recharged(event, context):
    return sentence(
        _(
            "The balance of %(member)s was recharged automatically with %(amount)s "
            "(recharge %(number)s in %(month)s)."
        ),
        member=event.target_label,
        amount=context.money(event, "amount"),
        number=event.data["number"],
        month=month_text(event.data["month"]),
    )


def _low_balance_warned(event, context):
    return sentence(
        _("The company balance (%(balance)s) fell below %(level)s: the admins were warned."),
        balance=context.money(event, "balance"),
        level=context.money(event, "level"),
    )


# --- Purchases and automatic recharge --------------------------------------------------------


def _number(event, context) -> str:
    purchase = context.row(event)
    if purchase is not None:
        return purchase.number
    # Before the purchase's row was at hand, the label started with its number.
    return event.target_label.split(" ")[0]


def _method(value) -> str:
    """How a purchase was paid, as a sentence says it ("by card", "by PayPal")."""
    words = {
        Purchase.Method.CARD: _("card"),
        Purchase.Method.PAYPAL: _("PayPal"),
        Purchase.Method.BANK_TRANSFER: _("bank transfer"),
        Purchase.Method.AUTO_RECHARGE: _("automatic recharge"),
    }
    return str(words.get(value, ""))


def _purchase_started(event, context):
    return sentence(
        _("%(actor)s started purchase %(number)s: %(amount)s by %(method)s."),
        number=_number(event, context),
        amount=context.money(event, "amount"),
        method=_method(event.data.get("method")),
    )


def _purchase_paid(event, context):
    return sentence(
        _("Purchase %(number)s was paid: %(amount)s added to the company balance."),
        number=_number(event, context),
        amount=context.money(event, "amount"),
    )


def _purchase_failed(event, context):
    reason = event.data.get("reason") or ""
    if not reason:
        return sentence(
            _("The payment of purchase %(number)s failed."), number=_number(event, context)
        )
    return sentence(
        _("The payment of purchase %(number)s failed: %(reason)s"),
        number=_number(event, context),
        reason=reason,
    )


def _purchase_refunded(event, context):
    values = {"number": _number(event, context), "amount": context.money(event, "amount")}
    owed = context.money(event, "owed")
    if owed is None or not owed.amount:
        return sentence(_("Purchase %(number)s was refunded: %(amount)s."), **values)
    return sentence(
        _(
            "Purchase %(number)s was refunded: %(amount)s. The company balance did not hold "
            "%(owed)s of it, which is now owed."
        ),
        owed=owed,
        **values,
    )


def _bank_transfer_confirmed(event, context):
    return sentence(
        _(
            "%(actor)s confirmed the bank transfer for purchase %(number)s "
            "(%(amount)s, reference %(reference)s)."
        ),
        number=_number(event, context),
        amount=context.money(event, "amount"),
        reference=event.data.get("reference", ""),
    )


def _needs_attention(event, context):
    return sentence(
        _("The payment of purchase %(number)s could not be credited: %(reason)s"),
        number=_number(event, context),
        reason=event.data.get("reason") or "",
    )


def _attention_handled(event, context):
    return sentence(
        _("%(actor)s dealt with the payment of purchase %(number)s."),
        number=_number(event, context),
    )


def _transfer_corrected(event, context):
    try:
        kind = str(Transfer.Kind(event.data.get("kind")).label).lower()
    except ValueError:
        kind = ""
    return sentence(
        _("%(actor)s corrected a transfer (%(kind)s) by %(amount)s: %(memo)s"),
        kind=kind,
        amount=context.money(event, "amount"),
        memo=event.data.get("memo") or "",
    )


def _setup_started(event, context):
    return sentence(_("%(actor)s opened Stripe to replace the payment method."))


def _payment_method_saved(event, context):
    label = event.data.get("label") or _("a card")
    if event.data.get("enabled"):
        return sentence(
            _("The payment method %(label)s was saved, and automatic recharge is on."),
            label=label,
        )
    return sentence(_("The payment method %(label)s was saved."), label=label)


def _auto_recharge_started(event, context):
    return sentence(
        _(
            "Automatic recharge started purchase %(number)s of %(amount)s: the company balance "
            "(%(balance)s) fell below %(threshold)s."
        ),
        number=_number(event, context),
        amount=context.money(event, "amount"),
        balance=context.money(event, "balance"),
        threshold=context.money(event, "threshold"),
    )


def _auto_recharge_disabled(event, context):
    return sentence(
        _(
            "Automatic recharge was turned off: the payment of purchase %(number)s was refused "
            "(%(reason)s)."
        ),
        number=_number(event, context),
        reason=(event.data.get("reason") or "—").rstrip("."),
    )


def _auto_recharge_updated(event, context):
    if not event.data.get("enabled"):
        return sentence(_("%(actor)s turned automatic recharge off."))
    values = {
        "amount": context.money(event, "amount"),
        "threshold": context.money(event, "threshold"),
        "maximum": context.money(event, "monthly_max"),
    }
    if event.data.get("was_enabled"):
        template = _(
            "%(actor)s changed automatic recharge: %(amount)s when the company balance falls "
            "below %(threshold)s, at most %(maximum)s a month."
        )
    else:
        template = _(
            "%(actor)s turned automatic recharge on: %(amount)s when the company balance falls "
            "below %(threshold)s, at most %(maximum)s a month."
        )
    return sentence(template, **values)


def _credit_settings_updated(event, context):
    labels = {
        "billing_name": _("billing name"),
        "billing_address": _("billing address"),
        "vat_number": _("VAT number"),
        "purchasers": _("finance members allowed to buy"),
    }
    parts = [str(label) for key, label in labels.items() if key in event.data]
    if "low_balance_warning" in event.data:
        level = context.money(event, "low_balance_warning")
        if level is not None and level.amount:
            parts.append(_("low-balance warning at %(level)s") % {"level": level})
        else:
            parts.append(_("no low-balance warning"))
    return sentence(
        _("%(actor)s changed the credit settings: %(changes)s."), changes=names_text(parts)
    )


SENTENCES = {
    "credit.allocated": _allocated,
    "credit.taken_back": _taken_back,
    "credit.cap_set": _cap_set,
    "credit.cap_cleared": _cap_cleared,
    "credit_rule.created": _rule_change(lambda: _("%(actor)s created the credit rule “%(rule)s”.")),
    "credit_rule.paused": _rule_change(lambda: _("%(actor)s paused the credit rule “%(rule)s”.")),
    "credit_rule.resumed": _rule_change(lambda: _("%(actor)s resumed the credit rule “%(rule)s”.")),
    "credit_rule.deleted": _rule_change(lambda: _("%(actor)s deleted the credit rule “%(rule)s”.")),
    "credit_rule.ran": _rule_ran,
    RUN_SHORT_VERB: _rule_short,
    "credit_rule.member_recharged": _member_recharged,
    "credit.low_balance_warned": _low_balance_warned,
    "purchase.started": _purchase_started,
    "purchase.paid": _purchase_paid,
    "purchase.failed": _purchase_failed,
    "purchase.refunded": _purchase_refunded,
    "purchase.bank_transfer_confirmed": _bank_transfer_confirmed,
    "purchase.needs_attention": _needs_attention,
    "purchase.attention_handled": _attention_handled,
    "transfer.corrected": _transfer_corrected,
    "payment_method.setup_started": _setup_started,
    "payment_method.saved": _payment_method_saved,
    "auto_recharge.started": _auto_recharge_started,
    "auto_recharge.disabled": _auto_recharge_disabled,
    "auto_recharge.updated": _auto_recharge_updated,
    "credit_settings.updated": _credit_settings_updated,
}
