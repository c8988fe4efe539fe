"""The form that names a new API key (the service cleans the name and has the last word)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from usage.services.api_keys import NAME_MAX_LENGTH


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("What uses the key, to tell it from the others: “Office PBX”, “Carrier”."),
        error_messages={
            "required": _("Enter a name for the key, such as the system that will use it.")
        },
    )
