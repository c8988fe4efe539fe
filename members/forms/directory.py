"""Forms of the member directory and of a member's details page.

Choice fields list only the organization's own members and lists: an id from another
organization is "not found", exactly like a missing one.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.fields import E164PhoneField
from members.models import MemberList
from members.selectors.directory import SORT_DEFAULT, DirectoryFilters, member_departments
from members.services.membership import DESTRUCTIVE_ACTIONS, BulkAction, Change
from organizations.models import Member, Organization
from organizations.roles import Role

Status = Member.Status

STATUS_FILTER_CHOICES = [
    ("", _("Current members")),
    (Status.ACTIVE, _("Active")),
    (Status.INVITED, _("Invited")),
    (Status.SUSPENDED, _("Suspended")),
    (Status.REMOVED, _("Former members")),
]
SORT_CHOICES = [
    ("name", _("Name (A to Z)")),
    ("-name", _("Name (Z to A)")),
    ("role", _("Role (owners first)")),
    ("-role", _("Role (members first)")),
    ("status", _("Status (active first)")),
    ("-status", _("Status (former members first)")),
    ("-joined", _("Joined (newest first)")),
    ("joined", _("Joined (oldest first)")),
]
NOT_FOUND = _("Some of the selected members were not found. Nothing was changed.")


def _org_lists(organization: Organization):
    return MemberList.objects.for_org(organization)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DirectoryFilterForm(forms.Form):
    """The directory's search, filters and sort, read from the query string.

    A value that does not fit (an unknown role, a list of another organization, a malformed
    date) is dropped and shown as the field's error; the other filters still apply.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, email, mobile or username")}
        ),
    )
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices]
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_FILTER_CHOICES)
    department = forms.ChoiceField(label=_("Department"), required=False)
    joined_from = forms.DateField(label=_("Joined from"), required=False, widget=DateInput)
    joined_to = forms.DateField(label=_("Joined until"), required=False, widget=DateInput)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        # "list" in the query string, as people would write it.
        self.fields["list"] = forms.ModelChoiceField(
            label=_("List"),
            required=False,
            queryset=_org_lists(organization),
            empty_label=_("All lists"),
        )
        self.fields["department"].choices = [
            ("", _("All departments")),
            *((name, name) for name in member_departments(organization=organization)),
        ]
        self.order_fields(["q", "role", "status", "list", "department"])

    def clean(self):
        data = super().clean()
        start, end = data.get("joined_from"), data.get("joined_to")
        if start and end and start > end:
            self.add_error("joined_to", _("Choose a day after the first one."))
        return data

    def filters(self) -> DirectoryFilters:
        """The valid part of the query (call after is_valid())."""
        data = self.cleaned_data
        return DirectoryFilters(
            q=data.get("q") or "",
            role=data.get("role") or "",
            status=data.get("status") or "",
            member_list=data.get("list"),
            department=data.get("department") or "",
            joined_from=data.get("joined_from"),
            joined_to=data.get("joined_to"),
            sort=data.get("sort") or SORT_DEFAULT,
        )

    def is_filtered(self) -> bool:
        """True when the visitor narrowed the directory (sorting alone does not)."""
        filters = self.filters()
        return any(
            (
                filters.q,
                filters.role,
                filters.status,
                filters.member_list,
                filters.department,
                filters.joined_from,
                filters.joined_to,
            )
        )


class BulkActionForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=Member.objects.none(),
        error_messages={
            "required": _("Select at least one member."),
            "invalid_choice": NOT_FOUND,
            "invalid_pk_value": NOT_FOUND,
            "invalid_list": NOT_FOUND,
        },
    )
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[("", _("Choose an action")), *BulkAction.choices],
        error_messages={
            "required": _("Choose an action."),
            "invalid_choice": _("Choose an action from the list."),
        },
    )
    role = forms.ChoiceField(
        label=_("New role"), required=False, choices=[("", _("Choose a role")), *Role.choices]
    )
    member_list = forms.ModelChoiceField(
        label=_("List"),
        required=False,
        queryset=MemberList.objects.none(),
        empty_label=_("Choose a list"),
        error_messages={"invalid_choice": _("This list was not found.")},
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The directory's query string, to go back to the same page, filters and all.
    return_query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = Member.objects.for_org(organization)
        self.fields["member_list"].queryset = _org_lists(organization)
        for name in ("action", "role", "member_list"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == BulkAction.CHANGE_ROLE and not data.get("role"):
            self.add_error("role", _("Choose the new role."))
        if action in (BulkAction.ADD_TO_LIST, BulkAction.REMOVE_FROM_LIST) and not data.get(
            "member_list"
        ):
            self.add_error("member_list", _("Choose a list."))
        return data

    @property
    def needs_confirmation(self) -> bool:
        return self.cleaned_data["action"] in DESTRUCTIVE_ACTIONS and not self.cleaned_data.get(
            "confirm"
        )


class MemberProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Name"),
        max_length=Member._meta.get_field("display_name").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Enter the member's name.")},
    )
    job_title = forms.CharField(
        label=_("Job title"),
        required=False,
        max_length=Member._meta.get_field("job_title").max_length,
    )
    department = forms.CharField(
        label=_("Department"),
        required=False,
        max_length=Member._meta.get_field("department").max_length,
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        country = organization.country.code or None
        self.fields["phone"] = E164PhoneField(
            required=False,
            region=country,
            help_text=_("A number in this country, or + and the country code."),
            error_messages={
                "invalid": _(
                    "Enter a valid mobile number: as dialled in this country, or with + and "
                    "the country code."
                )
            },
            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        )
        self.order_fields(["display_name", "phone", "job_title", "department"])

    @classmethod
    def initial_for(cls, member: Member) -> dict:
        return {
            "display_name": member.display_name,
            "phone": member.phone.as_e164 if member.phone else "",
            "job_title": member.job_title,
            "department": member.department,
        }


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"required": _("Choose a role."), "invalid_choice": _("Choose a role.")},
    )


STATUS_ACTIONS = [
    (Change.SUSPEND, _("Suspend")),
    (Change.REACTIVATE, _("Reactivate")),
    (Change.REMOVE, _("Remove from the organization")),
]


class MemberStatusForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=STATUS_ACTIONS,
        error_messages={
            "required": _("Choose what to do."),
            "invalid_choice": _("Choose what to do."),
        },
    )


class MemberListsForm(forms.Form):
    lists = forms.ModelMultipleChoiceField(
        label=_("Lists"),
        required=False,
        queryset=MemberList.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={
            "invalid_choice": _("Some of these lists were not found."),
            "invalid_pk_value": _("Some of these lists were not found."),
        },
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lists"].queryset = _org_lists(organization)
