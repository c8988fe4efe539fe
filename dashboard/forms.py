"""The reports' query string, and the forms built on it.

`ReportQueryForm` reads what every report page and download is asked for: the period
(`month=2026-11` for a monthly report, `year=2026` for an annual one) and the filters (`list`,
`department`, `member`, `category`). Bound to `request.GET` with the organization:

    form = ReportQueryForm(request.GET, organization=request.org)
    form.is_valid()                      # errors stay on the form, to show
    period = form.period(kind="month")   # or form.period(request.org, "year")
    filters = form.filters()             # a ReportFilters of the valid values

A value that does not fit is dropped and its error kept on the form: the page falls back (the
current month or year in the organization's time zone, "everyone", "every category") and says
why; a download refuses instead (see dashboard.views.reports). Nothing here raises on odd input:
NUL bytes, 10 KB of text, "2026-13" or a year 99999 are field errors.

- `ReportDownloadForm` adds what a file is asked for: `report` (month or year), `format`
  (csv, xlsx or pdf) and `table` (which table a CSV holds; "summary" by default).
- `ExportRequestForm` is the request of a long export in the background (call and message
  records): the same period and filters, categories narrowed to calls and messages, and
  whether to email the requester when the file is ready.
"""

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from credit.services.rollups import NUMBER, SMS, SUBSCRIPTION, VOICEMAIL
from dashboard.periods import FIRST_YEAR, MONTH, YEAR, Period
from dashboard.reports import ReportFilters
from dashboard.selectors.filters import (
    CALLS,
    category_name,
    report_call_categories,
    report_member_lists,
)
from members.forms.picker import MemberPickerField
from members.selectors.directory import member_departments
from organizations.models import Member, Organization
from usage.selectors.usage import CALL_PREFIX

# The member picker's scope for reports (registered by dashboard.apps).
PICKER_SCOPE = "reports"
# The query string's filters, as the report pages' links keep them.
FILTER_PARAMETERS = ("list", "department", "member", "category")
DEPARTMENT_MAX_LENGTH = Member._meta.get_field("department").max_length
# Categories that are not calls to one country.
CATEGORIES = ("", CALLS, SMS, NUMBER, VOICEMAIL, SUBSCRIPTION)
# What call and message records can be narrowed to.
RECORD_CATEGORIES = ("", CALLS, SMS)
# "call:FR"; "call:ZZ" for destinations of no known country.
_CALL = re.compile(r"call:([A-Za-z]{2})", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)
_TABLE = re.compile(r"[a-z][a-z0-9_]{0,39}", re.ASCII)


def _reach() -> int:
    """The last year a report reaches (next year, see Period.within_reach)."""
    return timezone.now().year + 1


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthField(forms.Field):
    """A calendar month written "2026-11" (what a browser's month input sends), within the
    reports' reach, as the date of its first day."""

    widget = MonthInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value) -> datetime.date | None:
        value = str(value or "").strip()
        if not value:
            return None
        match = _MONTH.fullmatch(value)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError(_("Choose a month, like 2026-03."), code="invalid")
        start = datetime.date(int(match[1]), int(match[2]), 1)
        if not Period(MONTH, start).within_reach():
            raise forms.ValidationError(
                _("Choose a month between January %(first)d and December %(last)d."),
                code="out_of_reach",
                params={"first": FIRST_YEAR, "last": _reach()},
            )
        return start

    def prepare_value(self, value):
        return f"{value:%Y-%m}" if isinstance(value, datetime.date) else value


class YearField(forms.Field):
    """A year written "2026", within the reports' reach, as the date of January 1."""

    widget = forms.NumberInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "min": FIRST_YEAR, "max": _reach(), "step": 1}

    def to_python(self, value) -> datetime.date | None:
        value = str(value or "").strip()
        if not value:
            return None
        if _YEAR.fullmatch(value) is None:
            raise forms.ValidationError(_("Choose a year, like 2026."), code="invalid")
        start = datetime.date(int(value), 1, 1) if int(value) >= 1 else None
        if start is None or not Period(YEAR, start).within_reach():
            raise forms.ValidationError(
                _("Choose a year between %(first)d and %(last)d."),
                code="out_of_reach",
                params={"first": FIRST_YEAR, "last": _reach()},
            )
        return start

    def prepare_value(self, value):
        return str(value.year) if isinstance(value, datetime.date) else value


class CategoryField(forms.ChoiceField):
    """What was spent on: "" (everything), "calls" (every destination), "call:FR" (calls to a
    country; "call:ZZ" where none is known), "sms", "number", "voicemail" or "subscription".

    Calls to any country are accepted, not only those offered (the countries the company has
    called), so that a link stays valid. `allowed` narrows the other categories."""

    def __init__(self, *, allowed=CATEGORIES, **kwargs):
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"].setdefault("invalid_choice", _("Choose a category in the list."))
        super().__init__(required=False, **kwargs)
        self.allowed = tuple(allowed)

    def to_python(self, value) -> str:
        value = super().to_python(value).strip()
        match = _CALL.fullmatch(value)
        return f"{CALL_PREFIX}{match[1].upper()}" if match else value

    def valid_value(self, value) -> bool:
        match = _CALL.fullmatch(value)
        if match is not None:
            return CALLS in self.allowed and (match[1] == "ZZ" or match[1] in countries)
        return value in self.allowed


class ReportQueryForm(forms.Form):
    """The period and filters of a report (see the module docstring)."""

    month = MonthField(label=_("Month"))
    year = YearField(label=_("Year"))
    department = forms.CharField(
        label=_("Department"), required=False, max_length=DEPARTMENT_MAX_LENGTH
    )
    category = CategoryField(label=_("Category"))

    # Which categories the form offers and accepts.
    categories = CATEGORIES

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["list"] = forms.ModelChoiceField(
            label=_("List"),
            required=False,
            queryset=report_member_lists(organization),
            empty_label=_("Every list"),
            error_messages={"invalid_choice": _("This list was not found.")},
        )
        self.fields["member"] = MemberPickerField(
            organization=organization,
            scope=PICKER_SCOPE,
            label=_("Member"),
            required=False,
            empty_label=_("Everyone"),
        )
        category = self.fields["category"]
        category.allowed = self.categories
        # Read when the form is shown, never to validate: a download asks no query for it.
        category.choices = self._category_choices
        self.fields["department"].widget.attrs["list"] = "report-departments"
        self.order_fields(["month", "year", "list", "department", "member", "category"])

    def _category_choices(self) -> list[tuple[str, str]]:
        choices = [("", _("Every category"))]
        if CALLS in self.categories:
            choices.append((CALLS, category_name(CALLS)))
            choices += [
                (category, category_name(category))
                for category in report_call_categories(organization=self.organization)
            ]
        choices += [(category, category_name(category)) for category in self.categories[2:]]
        return choices

    def departments(self) -> list[str]:
        """The departments to suggest (the page shows them as the field's datalist)."""
        return member_departments(organization=self.organization)

    def _valid(self) -> dict:
        return getattr(self, "cleaned_data", {})

    def period(self, organization: Organization | None = None, kind: str = MONTH) -> Period:
        """The month or year asked for (`kind`: "month" or "year"); when none is asked, or
        what was asked is not valid, the current one in the organization's time zone. An
        annual report asked with a month only covers that month's year."""
        organization = organization or self.organization
        data = self._valid()
        if kind == YEAR:
            start = data.get("year") or data.get("month")
            return Period.year_of(start) if start else Period.current(YEAR, organization)
        start = data.get("month")
        return Period.month_of(start) if start else Period.current(MONTH, organization)

    def filters(self) -> ReportFilters:
        """The valid filters (call after is_valid(); an invalid one is left out)."""
        data = self._valid()
        member_list, member = data.get("list"), data.get("member")
        return ReportFilters(
            member_list_id=member_list.pk if member_list else None,
            department=data.get("department") or "",
            member_id=member.pk if member else None,
            category=data.get("category") or "",
        )

    def filter_pairs(self) -> list[tuple[str, str]]:
        """The valid filters as query-string pairs (what a page's links carry)."""
        filters = self.filters()
        pairs = [
            ("list", filters.member_list_id),
            ("department", filters.department),
            ("member", filters.member_id),
            ("category", filters.category),
        ]
        return [(name, str(value)) for name, value in pairs if value]

    def filter_query(self) -> str:
        return urlencode(self.filter_pairs())

    def is_filtered(self) -> bool:
        return self.filters().any


class ReportDownloadForm(ReportQueryForm):
    """A report as a file: `report` (month, the default, or year), `format` and `table`."""

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
    table = forms.CharField(
        label=_("Table"),
        required=False,
        max_length=40,
        error_messages={"max_length": _("This report has no such table.")},
    )

    def clean_table(self) -> str:
        table = self.cleaned_data.get("table") or ""
        if table and _TABLE.fullmatch(table) is None:
            raise forms.ValidationError(_("This report has no such table."), code="invalid")
        return table

    @property
    def kind(self) -> str:
        return self._valid().get("report") or MONTH


class ExportRequestForm(ReportQueryForm):
    """The request of a file of call and message records, made in the background."""

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

    categories = RECORD_CATEGORIES

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label = _("Calls or messages")
        self.fields["month"].initial = Period.current(MONTH, self.organization).start
        self.fields["year"].initial = Period.current(YEAR, self.organization).start
        self.order_fields(["report", "month", "year", "list", "department", "member"])

    def clean(self):
        data = super().clean()
        kind = data.get("report")
        # The period's own field must be valid: a request is not made for a period guessed.
        if kind == MONTH and "month" not in self.errors and not data.get("month"):
            self.add_error("month", _("Choose a month, like 2026-03."))
        if kind == YEAR and "year" not in self.errors and not data.get("year"):
            self.add_error("year", _("Choose a year, like 2026."))
        return data
