"""Sign-up by email or by mobile number in one form, and sign-in with our wording."""

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.utils import filter_users_by_email
from allauth.core import context as allauth_context
from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(AllauthSignupForm):
    """allauth's signup form asking for exactly one of email or mobile number.

    `via` says which the person chose; the other field is ignored, so a browser that kept a
    value in the hidden tab cannot attach an unverified second address.
    """

    VIA_CHOICES = (("email", _("Email")), ("phone", _("Mobile number")))

    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    via = forms.ChoiceField(choices=VIA_CHOICES, initial="email", widget=forms.HiddenInput)

    field_order = ["via", "name", "email", "phone", "username", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Email")
        self.fields["phone"].label = _("Mobile number")
        self.fields["username"].help_text = _(
            "Optional. Colleagues can invite you by it; we make one up if you leave it empty."
        )

    @property
    def via_value(self) -> str:
        """'email' or 'phone': the posted choice, else the ?via= of the link that led here."""
        if self.is_bound:
            value = self.data.get("via")
        else:
            request = allauth_context.request
            value = request.GET.get("via") if request is not None else None
        return value if value in ("email", "phone") else "email"

    def validate_unique_email(self, value: str) -> str:
        """An address that already has an account passes like a new one: the page answers the
        same, and its owner is emailed instead (allauth's enumeration prevention; see
        accounts.stages for why both wait for the inbox)."""
        if filter_users_by_email(value):
            self.account_already_exists = True
            return value
        return super().validate_unique_email(value)

    def clean(self):
        via = self.via_value
        ignored = "phone" if via == "email" else "email"
        # The field not chosen is blanked before allauth's checks look at it, and forgotten:
        # an address left in the hidden tab says nothing about this sign-up.
        self.cleaned_data[ignored] = ""
        self.errors.pop(ignored, None)
        if ignored == "email":
            self.account_already_exists = False
        if via == "email" and not self.cleaned_data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter your email address."))
        if via == "phone" and not self.cleaned_data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter your mobile number."))
        return super().clean()

    def save(self, request):
        user = super().save(request)
        name = self.cleaned_data.get("name", "").strip()
        if name:
            first, _sep, last = name.partition(" ")
            user.first_name, user.last_name = first[:150], last[:150]
            user.save(update_fields=["first_name", "last_name"])
        return user


class LoginForm(AllauthLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Email, mobile number or username")
        self.fields["login"].widget.attrs["placeholder"] = _("Email, mobile number or username")
        if "remember" in self.fields:
            self.fields["remember"].label = _("Remember me")
