"""Forms for inviting people, filtering invitations, and answering an invitation."""

import re

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from members.models import Invitation, MemberList
from members.services.invitations import Invitee
from organizations.roles import Role

MAX_LINES = 500
AUTO = "auto"
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")


def detect_channel(line: str) -> str:
    if "@" in line:
        return Invitation.Channel.EMAIL
    if PHONE_LIKE.match(line):
        return Invitation.Channel.PHONE
    return Invitation.Channel.USERNAME


class InviteForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Invite by"),
        choices=[
            (AUTO, _("Whatever each line is (email, mobile number or username)")),
            *Invitation.Channel.choices,
        ],
        initial=AUTO,
        widget=forms.RadioSelect,
    )
    addresses = forms.CharField(
        label=_("People to invite"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"))
    lists = forms.ModelMultipleChoiceField(
        label=_("Add them to lists"),
        queryset=MemberList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organization, actor, **kwargs):
        super().__init__(*args, **kwargs)
        roles = [Role.MEMBER, Role.FINANCE]
        if actor.role == Role.OWNER:
            roles += [Role.ADMIN, Role.OWNER]
        self.fields["role"].choices = [(role.value, role.label) for role in roles]
        self.fields["role"].initial = Role.MEMBER
        self.fields["lists"].queryset = MemberList.objects.for_org(organization)
        self.fields["addresses"].help_text = _(
            "One per line: email addresses, mobile numbers (as dialled in %(country)s, or + and "
            "the country code) or usernames. Up to 500 at once; import a file for more."
        ) % {"country": organization.country.name}

    def clean_addresses(self):
        lines = [line.strip() for line in self.cleaned_data["addresses"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError(_("Add at least one person to invite."))
        if len(lines) > MAX_LINES:
            raise forms.ValidationError(
                _("Invite up to %(max)d people at once, or import a file.") % {"max": MAX_LINES}
            )
        return lines

    def invitees(self) -> list[Invitee]:
        channel = self.cleaned_data["channel"]
        return [
            Invitee(channel=detect_channel(line) if channel == AUTO else channel, address=line)
            for line in self.cleaned_data["addresses"]
        ]


class InvitationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *Invitation.Status.choices],
        required=False,
    )
    channel = forms.ChoiceField(
        label=_("Sent via"),
        choices=[("", _("Every channel")), *Invitation.Channel.choices],
        required=False,
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    page = forms.IntegerField(min_value=1, required=False)


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the text message"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits of the code.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}
        ),
    )


class InvitationSignupForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    username = forms.CharField(
        label=_("Username (optional)"),
        max_length=150,
        required=False,
        help_text=_("Colleagues can invite you by it; we make one up if you leave it empty."),
        validators=[get_user_model().username_validator],
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation: Invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("You must type the same password each time."))
        elif first:
            user = get_user_model()(username=cleaned.get("username") or "", email="")
            if self.invitation.channel == Invitation.Channel.EMAIL:
                user.email = self.invitation.address
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
