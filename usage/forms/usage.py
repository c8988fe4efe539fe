"""The usage pages' query string: the filters (kind, month) and where the page starts (keyset
positions). A value that does not fit is dropped and shown as the field's error; the other
filters still apply."""

import datetime
import re

from django import forms
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from usage.models import UsageRecord
from usage.selectors.usage import UsagePosition

FILTER_PARAMETERS = ("kind", "month")
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthField(forms.Field):
    """A calendar month typed as "2026-03" (what a browser's month input sends), as the date
    of its first day."""

    widget = MonthInput
    default_error_messages = {"invalid": _("Choose a month, like 2026-03.")}

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value) -> datetime.date | None:
        value = str(value or "").strip()
        if not value:
            return None
        match = _MONTH.fullmatch(value)
        if match is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        year, month = int(match[1]), int(match[2])
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return datetime.date(year, month, 1)

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            return f"{value:%Y-%m}"
        return value


class PositionField(forms.Field):
    """A place in the usage, as `UsagePosition.token` writes it."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("This link is out of date: the newest are shown.")}

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value) -> UsagePosition | None:
        value = str(value or "").strip()
        if not value:
            return None
        position = UsagePosition.from_token(value)
        if position is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return position


class UsageFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Calls or messages"),
        required=False,
        choices=[("", _("Calls and messages")), *UsageRecord.Kind.choices],
        error_messages={"invalid_choice": _("Choose calls or messages.")},
    )
    month = MonthField(label=_("Month"))
    before = PositionField()
    after = PositionField()

    def filters(self) -> dict:
        """The valid filters (call after is_valid())."""
        data = self.cleaned_data
        return {"kind": data.get("kind") or "", "month": data.get("month")}

    def position(self) -> dict:
        data = self.cleaned_data
        if data.get("after"):
            return {"after": data["after"]}
        if data.get("before"):
            return {"before": data["before"]}
        return {}

    def is_filtered(self) -> bool:
        return any(self.filters().values())

    def filter_query(self) -> str:
        """The valid filters as a query string (what the page links keep)."""
        filters = self.filters()
        pairs = [("kind", filters["kind"])] if filters["kind"] else []
        if filters["month"]:
            pairs.append(("month", f"{filters['month']:%Y-%m}"))
        return urlencode(pairs)
