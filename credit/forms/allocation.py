"""Forms for moving members' credit (allocate, take back, monthly spending cap).

Choice fields list only the organization's own members and lists: an id of another
organization is "not found", exactly like a missing one. Amounts are read by the shared
`AmountField` (skypemgr.amounts), in the page's language and the organization's currency.
Forms that move money carry a one-time key (`idempotency_key`), made when the form is first
shown, so that a form sent twice moves money once.
"""

import datetime
import secrets
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit.selectors.balances import Target
from members.models import MemberList
from members.selectors.directory import SORTS
from organizations.models import Member, Organization
from skypemgr.amounts import AmountField, amount_hint

NOT_FOUND = _("Some of the chosen members were not found. Nothing was moved.")


# uuid1 counts 100 ns intervals from the start of the Gregorian calendar.
_UUID_EPOCH = datetime.datetime(1582, 10, 15, tzinfo=datetime.UTC)


def new_key() -> str:
    """A form's one-time key. Time-based (uuid1, with a random node rather than the server's
    MAC address), so that the key tells when the form was made: see `issued_at`."""
    return uuid.uuid1(node=secrets.randbits(48) | 1 << 40).hex


class _KeyedForm(forms.Form):
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired: start again."),
            "invalid": _("This form has expired: start again."),
        },
    )

    @property
    def key(self) -> str:
        return self.cleaned_data["idempotency_key"].hex

    @property
    def issued_at(self) -> datetime.datetime | None:
        """When the form was made, for a key made by `new_key`; None for any other key."""
        key = self.cleaned_data["idempotency_key"]
        if key.version != 1:
            return None
        issued = _UUID_EPOCH + datetime.timedelta(microseconds=key.time // 10)
        return issued if issued <= timezone.now() + datetime.timedelta(minutes=5) else None


def _amount(organization: Organization, label, **kwargs) -> AmountField:
    return AmountField(
        currency=organization.currency,
        label=label,
        help_text=amount_hint(organization.currency),
        **kwargs,
    )


def _memo() -> forms.CharField:
    return forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("Shown in the history, such as “March travel”."),
    )


class _TargetForm(_KeyedForm):
    """Whose credit moves: the members chosen in the directory, a list, or everyone."""

    target = forms.ChoiceField(
        label=_("Members"),
        choices=Target.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whose credit moves."),
            "invalid_choice": _("Choose whose credit moves."),
        },
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Chosen members"),
        required=False,
        queryset=Member.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": NOT_FOUND,
            "invalid_pk_value": NOT_FOUND,
            "invalid_list": NOT_FOUND,
        },
    )
    member_list = forms.ModelChoiceField(
        label=_("List"),
        required=False,
        queryset=MemberList.objects.none(),
        empty_label=_("Choose a list"),
        error_messages={"invalid_choice": _("This list was not found.")},
    )
    # The preview's fingerprint of who is included: the confirmation must find the same.
    expected = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    everyone_label = _("Everyone")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        ids = self.named_member_ids()
        self.fields["members"].queryset = (
            Member.objects.for_org(organization).filter(pk__in=ids).order_by(*SORTS["name"])
        )
        self.fields["member_list"].queryset = MemberList.objects.for_org(organization)
        named = ids and self.fields["members"].queryset.exists()
        choices = [(Target.SELECTED, _("The members chosen in the directory"))] if named else []
        choices += [
            (Target.LIST, _("The members of a list")),
            (Target.EVERYONE, self.everyone_label),
        ]
        self.fields["target"].choices = choices

    def named_member_ids(self) -> list[int]:
        """The member ids the data or the initial values name (only well-formed ones)."""
        if self.is_bound:
            getlist = getattr(self.data, "getlist", None)
            raw = getlist("members") if getlist else self.data.get("members", [])
        else:
            raw = self.initial.get("members", [])
        if isinstance(raw, str | int):
            raw = [raw]
        ids = []
        for value in raw:
            value = str(getattr(value, "pk", value))
            if value.isascii() and value.isdigit() and len(value) < 12:
                ids.append(int(value))
        return ids

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == Target.SELECTED and not data.get("members") and "members" not in self.errors:
            self.add_error("members", _("Choose at least one member."))
        if target == Target.LIST and not data.get("member_list"):
            self.add_error("member_list", _("Choose a list."))
        return data


class AllocateForm(_TargetForm):
    everyone_label = _("Everyone who has joined")

    memo = _memo()

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, organization=organization, **kwargs)
        self.fields["amount"] = _amount(organization, _("Amount for each member"))
        self.order_fields(["target", "members", "member_list", "amount", "memo"])


class TakeBackHow:
    AMOUNT = "amount"
    ALL = "all"


def _how_much(amount_label, all_label) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("How much"),
        choices=[(TakeBackHow.AMOUNT, amount_label), (TakeBackHow.ALL, all_label)],
        initial=TakeBackHow.AMOUNT,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how much to take back."),
            "invalid_choice": _("Choose how much to take back."),
        },
    )


class _TakeBackAmount:
    """A take-back form's "how much": an amount (then required), or all of it."""

    amount_missing = _("Enter an amount, or choose all of it.")

    def clean(self):
        data = super().clean()
        wants_amount = data.get("how") == TakeBackHow.AMOUNT and "amount" not in self.errors
        if wants_amount and not data.get("amount"):
            self.add_error("amount", self.amount_missing)
        return data

    @property
    def amount_or_all(self):
        """The amount to take from each member, or None for all of it."""
        data = self.cleaned_data
        return None if data["how"] == TakeBackHow.ALL else data["amount"]


class TakeBackForm(_TakeBackAmount, _TargetForm):
    everyone_label = _("Everyone who holds credit")
    amount_missing = _("Enter an amount, or choose all of their credit.")

    how = _how_much(_("This amount from each member"), _("All of their credit"))
    memo = _memo()

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, organization=organization, **kwargs)
        self.fields["amount"] = _amount(organization, _("Amount"), required=False)
        self.order_fields(["target", "members", "member_list", "how", "amount", "memo"])


class MemberAllocateForm(_KeyedForm):
    memo = _memo()

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = _amount(organization, _("Amount to give"))
        self.order_fields(["amount", "memo"])


class MemberTakeBackForm(_TakeBackAmount, _KeyedForm):
    how = _how_much(_("This amount"), _("All of it"))
    memo = _memo()

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = _amount(organization, _("Amount to take back"), required=False)
        self.order_fields(["how", "amount", "memo"])


class SpendingCapForm(forms.Form):
    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cap"] = AmountField(
            currency=organization.currency,
            label=_("Monthly spending cap"),
            required=False,
            help_text=_(
                "The most this member's calls may spend in a calendar month. "
                "Leave empty for no cap."
            ),
        )
