"""Forms of the lists pages: a list's name, who goes in or out of it, and the list page's query
(the search for people to add, the page of members)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import MemberList
from members.selectors.directory import list_candidates
from organizations.models import Member, Organization

NAME_MAX_LENGTH = MemberList._meta.get_field("name").max_length
NOT_FOUND = _("Some of the selected members were not found. Nothing was changed.")


class MemberListForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("e.g. Sales")}),
        error_messages={"required": _("Enter a name for the list.")},
    )


class ListDetailQueryForm(forms.Form):
    """The list page's query string. A value that does not fit (a NUL byte, a search over 100
    characters, a page that is not a number) is dropped and its field shows why."""

    q = forms.CharField(label=_("Find people not in the list yet"), required=False, max_length=100)
    page = forms.IntegerField(min_value=1, required=False)

    def query(self) -> tuple[str, int]:
        """(search, page number) from the valid part of the query (call after is_valid())."""
        data = self.cleaned_data
        return data.get("q") or "", data.get("page") or 1


class ListAddMembersForm(forms.Form):
    """Whom to put in the list: any current member not in it yet (invited people included)."""

    members = forms.ModelMultipleChoiceField(
        label=_("Members to add"),
        queryset=Member.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Select at least one member to add."),
            "invalid_choice": NOT_FOUND,
            "invalid_pk_value": NOT_FOUND,
            "invalid_list": NOT_FOUND,
        },
    )

    def __init__(self, *args, organization: Organization, member_list: MemberList, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = list_candidates(
            organization=organization, member_list=member_list
        )


class ListRemoveMemberForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=Member.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This member was not found."),
            "invalid_choice": _("This member was not found."),
        },
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.for_org(organization)
