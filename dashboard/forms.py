"""The reports' query string: the period (a month or a year), the filters (list, department,
member, category) and the members' table's sort and page. Every link of a report carries them,
so a report can be shared by its address.

A value that does not fit is dropped and shown as the field's error; the rest still applies
(an unknown month shows the current one).
"""

import datetime
import re

from django import forms
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from dashboard.periods import MONTH, YEAR, Period
from dashboard.reports import ReportFilters
from members.forms.picker import MemberPickerField
from members.models import MemberList
from organizations.models import Member, Organization

# What every link of a report keeps (the picker's text included).
FILTER_PARAMETERS = ("list", "department", "member", "member_q", "category")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_YEAR = re.compile(r"^\d{4}$", re.ASCII)
_CATEGORY = re.compile(r"^(|calls|call:[A-Z]{2}|sms|number|voicemail|subscription)$", re.ASCII)


class ReportQueryForm(forms.Form):
    month = forms.CharField(label=_("Month"), required=False, max_length=7)
    year = forms.CharField(label=_("Year"), required=False, max_length=4)
    department = forms.ChoiceField(label=_("Department"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100000, widget=forms.HiddenInput
    )

    def __init__(self, *args, organization: Organization, kind: str = MONTH, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.kind = kind
        # Named as in the address ("list"), which a class attribute could not be.
        self.fields["list"] = forms.ModelChoiceField(
            label=_("List"),
            required=False,
            queryset=MemberList.objects.for_org(organization),
            empty_label=_("All lists"),
        )
        departments = (
            Member.objects.for_org(organization)
            .exclude(department="")
            .values_list("department", flat=True)
            .distinct()
            .order_by("department")
        )
        self.fields["department"].choices = [("", _("All departments"))] + [
            (name, name) for name in departments
        ]
        self.fields["category"].choices = [
            ("", _("All categories")),
            ("calls", _("Calls")),
            ("sms", _("Messages (SMS)")),
            ("number", _("Online numbers")),
            ("voicemail", _("Voicemail")),
            ("subscription", _("Calling subscriptions")),
        ]
        self.fields["member"] = MemberPickerField(
            organization=organization,
            scope="reports",
            label=_("Member"),
            required=False,
            empty_label=_("Everyone"),
        )
        self.order_fields(["month", "year", "list", "department", "member", "category"])

    def clean_month(self) -> Period | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        match = _MONTH.match(value)
        if match:
            year, month = int(match[1]), int(match[2])
            if 1 <= month <= 12:
                period = Period(MONTH, datetime.date(year, month, 1))
                if period.within_reach():
                    return period
        raise forms.ValidationError(_("Choose a month as YYYY-MM, such as 2026-11."))

    def clean_year(self) -> Period | None:
        value = self.cleaned_data.get("year") or ""
        if not value:
            return None
        if _YEAR.match(value):
            period = Period(YEAR, datetime.date(int(value), 1, 1))
            if period.within_reach():
                return period
        raise forms.ValidationError(_("Choose a year such as 2026."))

    def _category_field_accepts(self) -> None:
        # "call:FR" is a valid category (a link from the categories' table) though not a choice.
        value = str(self.data.get("category", "") or "")
        if _CATEGORY.match(value) and value not in dict(self.fields["category"].choices):
            self.fields["category"].choices = [*self.fields["category"].choices, (value, value)]

    def full_clean(self):
        self._category_field_accepts()
        super().full_clean()

    def period(self) -> Period:
        """The asked-for period, or the current month or year (the organization's time zone)."""
        data = getattr(self, "cleaned_data", {})
        found = data.get("year") if self.kind == YEAR else data.get("month")
        return found or Period.current(self.kind, self.organization)

    def filters(self) -> ReportFilters:
        data = getattr(self, "cleaned_data", {})
        member_list, member = data.get("list"), data.get("member")
        return ReportFilters(
            member_list_id=member_list.pk if member_list else None,
            department=data.get("department") or "",
            member_id=member.pk if member else None,
            category=data.get("category") or "",
        )

    def sort_key(self) -> str:
        return getattr(self, "cleaned_data", {}).get("sort") or ""

    def page_number(self) -> int:
        return getattr(self, "cleaned_data", {}).get("page") or 1

    def filter_pairs(self) -> list[tuple[str, str]]:
        """The valid filters as the query string gave them: what every link carries."""
        getlist = getattr(self.data, "getlist", None)
        valid = getattr(self, "cleaned_data", {})
        return [
            (name, value)
            for name in FILTER_PARAMETERS
            if name == "member_q" or name in valid
            for value in (getlist(name) if getlist else [])
            if value
        ]

    def query(self, **changes) -> str:
        """The query string of this report with `changes` (None drops a parameter)."""
        period = self.period()
        pairs = {period.kind: period.param, **dict(self.filter_pairs())}
        if self.sort_key():
            pairs["sort"] = self.sort_key()
        pairs.update(changes)
        return urlencode({key: value for key, value in pairs.items() if value not in (None, "")})


def _kind_asked(args, kwargs) -> str:
    """The kind of period the bound data asks for ("report": month or year; month else)."""
    data = args[0] if args else kwargs.get("data")
    return YEAR if str((data or {}).get("report") or "") == YEAR else MONTH


class ReportDownloadForm(ReportQueryForm):
    """A report as a file: the report's own query string, plus `report` (month, the default,
    or year), `format` (pdf, xlsx or csv) and `table` (the table a CSV holds; the summary by
    default). dashboard.views.downloads answers 400 when any of it does not fit."""

    report = forms.ChoiceField(
        label=_("Report"),
        required=False,
        choices=[(MONTH, _("Monthly")), (YEAR, _("Annual"))],
        error_messages={"invalid_choice": _("Choose a monthly or an annual report.")},
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("pdf", "PDF"), ("xlsx", _("Excel (XLSX)")), ("csv", "CSV")],
        error_messages={
            "required": _("Choose PDF, Excel (XLSX) or CSV."),
            "invalid_choice": _("Choose PDF, Excel (XLSX) or CSV."),
        },
    )
    table = forms.RegexField(
        label=_("Table"),
        required=False,
        regex=r"^[a-z][a-z0-9_]{0,39}\Z",
        max_length=40,
        error_messages={
            "invalid": _("This report has no such table."),
            "max_length": _("This report has no such table."),
        },
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        kwargs.pop("kind", None)
        super().__init__(*args, organization=organization, kind=_kind_asked(args, kwargs), **kwargs)


# What call and message records can be narrowed to (and calls to one country).
RECORD_CATEGORIES = ("", "calls", "sms")


class ExportRequestForm(ReportQueryForm):
    """The request of every call and message of a month or a year as a file, made in the
    background: the report's period and filters, categories narrowed to calls and messages,
    and whether to email the requester when the file is ready."""

    report = forms.ChoiceField(
        label=_("Period"),
        choices=[(MONTH, _("A month")), (YEAR, _("A year"))],
        initial=MONTH,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a month or a year."),
            "invalid_choice": _("Choose a month or a year."),
        },
    )
    email_when_ready = forms.BooleanField(
        label=_("Email me when the file is ready"), required=False, initial=True
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        kwargs.pop("kind", None)
        super().__init__(*args, organization=organization, kind=_kind_asked(args, kwargs), **kwargs)
        category = self.fields["category"]
        category.label = _("Calls or messages")
        category.choices = [choice for choice in category.choices if choice[0] in RECORD_CATEGORIES]
        category.error_messages["invalid_choice"] = _("Choose calls, messages or both.")
        self.fields["month"].initial = Period.current(MONTH, organization).param
        self.fields["year"].initial = Period.current(YEAR, organization).param
        self.order_fields(["report", "month", "year", "list", "department", "member"])

    def _category_field_accepts(self) -> None:
        # Calls to one country ("call:FR") are calls too; other categories hold no records.
        value = str(self.data.get("category", "") or "")
        if value.startswith("call:"):
            super()._category_field_accepts()

    def clean(self):
        data = super().clean()
        # The period's own field must be given: an export is not made of a period guessed.
        if self.kind == MONTH and "month" not in self.errors and not data.get("month"):
            self.add_error("month", _("Choose a month as YYYY-MM, such as 2026-11."))
        if self.kind == YEAR and "year" not in self.errors and not data.get("year"):
            self.add_error("year", _("Choose a year such as 2026."))
        return data
