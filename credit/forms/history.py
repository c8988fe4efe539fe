"""The credit history's query string: the filters (member, type, dates), where the page starts
(keyset positions, a day to go to), and an export's file format.

A value that does not fit is dropped and shown as the field's error; the other filters still
apply, on the page and in an export alike.
"""

from django import forms
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from credit.models import Transfer
from credit.selectors.history import Position
from members.forms.picker import MemberPickerField
from organizations.models import Organization

# The query string's filters (the picker's text included): kept by every link of the page.
FILTER_PARAMETERS = ("member", "member_q", "kind", "date_from", "date_to")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PositionField(forms.Field):
    """A place in the history, as `Position.token` writes it."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("This link is out of date: the newest are shown.")}

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value) -> Position | None:
        value = str(value or "").strip()
        if not value:
            return None
        position = Position.from_token(value)
        if position is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return position


class HistoryFilterForm(forms.Form):
    """The history's filters and the page's position, read from the query string."""

    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *Transfer.Kind.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Until"), required=False, widget=DateInput)
    # Older than `before`, or newer than `after`; `day`: from the end of that day back.
    before = PositionField()
    after = PositionField()
    day = forms.DateField(label=_("Go to a day"), required=False, widget=DateInput)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["member"] = MemberPickerField(
            organization=organization,
            scope="credit-history",
            label=_("Member"),
            required=False,
            empty_label=_("Everyone"),
        )
        self.order_fields(["member", "kind", "date_from", "date_to"])

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Choose a day after the first one."))
        return data

    def filters(self) -> dict:
        """The valid filters (call after is_valid())."""
        data = self.cleaned_data
        return {
            "member": data.get("member"),
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }

    def position(self) -> dict:
        """Where the page starts: `before` or `after` for `transfer_history_page`."""
        data = self.cleaned_data
        if data.get("after"):
            return {"after": data["after"]}
        if data.get("before"):
            return {"before": data["before"]}
        if data.get("day"):
            return {"before": Position.end_of_day(data["day"], self.organization)}
        return {}

    def is_filtered(self) -> bool:
        return any(self.filters().values())

    def filter_pairs(self) -> list[tuple[str, str]]:
        """The filters as the query string gave them (no position): what the exports and
        "go to a day" carry."""
        getlist = getattr(self.data, "getlist", None)
        return [
            (name, value)
            for name in FILTER_PARAMETERS
            for value in (getlist(name) if getlist else [])
        ]

    def filter_query(self) -> str:
        return urlencode(self.filter_pairs())


class HistoryExportForm(HistoryFilterForm):
    format = forms.ChoiceField(
        choices=[("csv", "CSV"), ("xlsx", "XLSX")],
        error_messages={
            "required": _("Choose CSV or XLSX."),
            "invalid_choice": _("Choose CSV or XLSX."),
        },
    )
