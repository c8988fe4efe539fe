"""Forms of the online-number pages: buying numbers for members, searching what Twilio
offers, and a member's own phone settings (forwarding, greeting, caller ID)."""

import io
import re
import struct
import wave

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.fields import E164PhoneField
from credit.forms.allocation import _KeyedForm
from members.forms.picker import MemberPickerField
from organizations.models import Member, Organization
from subscriptions.models import MemberFeatures, Plan, Subscription
from subscriptions.selectors.catalog import catalog_for

ANY = "any"
AREA = re.compile(r"^[0-9]{1,6}$")
CONTAINS = re.compile(r"^[0-9*]{1,10}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
NOT_FOUND = _("Some of the chosen members were not found. Nothing was bought.")
GREETING_MAX_BYTES = 1024 * 1024


def number_offers(organization: Organization) -> dict[str, object]:
    """{country code: Offer} of the number plans priced in the organization's currency."""
    return {
        str(offer.plan.country): offer
        for offer in catalog_for(organization=organization, kind=Plan.Kind.NUMBER)
    }


class _CountryForm(forms.Form):
    country = forms.ChoiceField(
        label=_("Country"),
        error_messages={
            "required": _("Choose a country."),
            "invalid_choice": _("Numbers are not offered in this country."),
        },
    )
    area = forms.CharField(
        label=_("Area code"),
        required=False,
        max_length=6,
        help_text=_("Digits only, e.g. 415. Leave empty for any area."),
    )
    contains = forms.CharField(
        label=_("Digits in the number"),
        required=False,
        max_length=10,
        help_text=_("Digits the number should contain; * matches any digit."),
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.offers = number_offers(organization)
        self.fields["country"].choices = [
            (code, offer.plan.country.name) for code, offer in self.offers.items()
        ]

    def clean_area(self):
        area = self.cleaned_data["area"].strip()
        if area and not AREA.match(area):
            raise ValidationError(_("An area code is digits only, e.g. 415."))
        return area

    def clean_contains(self):
        contains = self.cleaned_data["contains"].strip()
        if contains and not CONTAINS.match(contains):
            raise ValidationError(_("Use digits and * only."))
        return contains

    @property
    def offer(self):
        return self.offers[self.cleaned_data["country"]]


class NumberSearchForm(_CountryForm):
    """What to look for among the numbers Twilio offers."""


class NumberBuyForm(_KeyedForm, _CountryForm):
    """Who gets a number, which one (or any in the area), and for how long."""

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
    number = forms.CharField(
        label=_("Number"),
        initial=ANY,
        max_length=20,
        error_messages={"required": _("Choose a number, or “any number”.")},
    )
    period = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        choices=[(1, _("1 month")), (12, _("12 months"))],
        initial=1,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose 1 or 12 months.")},
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, organization=organization, **kwargs)
        self.fields["member"] = MemberPickerField(
            organization=organization,
            scope="active",
            label=_("Member"),
            required=False,
            error_messages={"invalid_choice": _("This member was not found.")},
        )
        ids = self._named_ids()
        self.fields["members"].queryset = Member.objects.for_org(organization).filter(
            pk__in=ids, status=Member.Status.ACTIVE
        )
        self.order_fields(["idempotency_key", "members", "member", "country", "area"])

    def _named_ids(self) -> list[int]:
        source = self.data if self.is_bound else None
        raw = source.getlist("members") if hasattr(source, "getlist") else []
        if not self.is_bound:
            raw = self.initial.get("members", [])
        return [int(value) for value in raw if str(value).isdigit() and len(str(value)) < 18]

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if number != ANY and not E164.match(number):
            raise ValidationError(_("Choose a number from the list, or “any number”."))
        return number

    def clean(self):
        data = super().clean()
        chosen = list(data.get("members") or [])
        if data.get("member") is not None and data["member"] not in chosen:
            chosen.append(data["member"])
        if not chosen and not self.errors:
            raise ValidationError(_("Choose who gets the number."))
        if len(chosen) > 1 and data.get("number") not in (None, ANY):
            self.add_error(
                "number", _("One number can go to one member only: choose “any number”.")
            )
        if "country" in data and data.get("period") is not None:
            offer = self.offers[data["country"]]
            if data["period"] not in offer.prices:
                self.add_error("period", _("This period is not sold for this country."))
        data["targets"] = chosen
        return data

    @property
    def number_requested(self) -> str:
        number = self.cleaned_data["number"]
        return "" if number == ANY else number


class ForwardingForm(forms.Form):
    forwarding_number = E164PhoneField(
        label=_("Forward my calls to"),
        required=False,
        help_text=_("Leave empty to stop forwarding. International format, e.g. +33612345678."),
        error_messages={
            "invalid": _("Enter a valid phone number in international format, e.g. +33612345678.")
        },
    )


def audio_kind(content: bytes) -> str | None:
    """The audio type of `content` judged by what it holds (not its name): an MP3 with an
    ID3 tag or a frame header, or a WAV that the wave module can read; None otherwise."""
    if content[:3] == b"ID3" and len(content) > 10:
        size = 0
        for byte in content[6:10]:
            if byte & 0x80:
                return None
            size = (size << 7) | byte
        frame = content[10 + size : 10 + size + 2]
        return "audio/mpeg" if len(frame) == 2 and _mp3_frame(frame) else None
    if _mp3_frame(content[:2]):
        return "audio/mpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(content)) as reader:
                if reader.getnframes() > 0 and reader.getframerate() > 0:
                    return "audio/wav"
        # A crafted header makes the wave module fail in several ways.
        except (wave.Error, EOFError, ValueError, RuntimeError, struct.error):
            return None
    return None


def _mp3_frame(header: bytes) -> bool:
    return len(header) == 2 and header[0] == 0xFF and (header[1] & 0xE0) == 0xE0


class GreetingForm(forms.Form):
    greeting_text = forms.CharField(
        label=_("Greeting read to callers"),
        required=False,
        max_length=MemberFeatures._meta.get_field("greeting_text").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Spoken in your language. Leave empty for the standard greeting."),
    )
    greeting_audio = forms.FileField(
        label=_("Or a recorded greeting"),
        required=False,
        help_text=_("An MP3 or WAV file, at most 1 MB."),
    )
    remove_audio = forms.BooleanField(label=_("Remove the recorded greeting"), required=False)

    def clean_greeting_audio(self):
        upload = self.cleaned_data.get("greeting_audio")
        if not upload:
            return None
        if upload.size > GREETING_MAX_BYTES:
            raise ValidationError(_("This file is too large: at most 1 MB."))
        content = upload.read(GREETING_MAX_BYTES + 1)
        if len(content) > GREETING_MAX_BYTES:
            raise ValidationError(_("This file is too large: at most 1 MB."))
        kind = audio_kind(content)
        if kind is None:
            raise ValidationError(
                _("This file is not an MP3 or WAV recording. Choose an audio file.")
            )
        return (content, kind)


class CallerIdForm(forms.Form):
    caller_id = forms.ModelChoiceField(
        label=_("Caller ID of my calls"),
        required=False,
        queryset=Subscription.objects.none(),
        empty_label=_("The company's default"),
        error_messages={"invalid_choice": _("Choose one of your active numbers.")},
    )

    def __init__(self, *args, numbers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["caller_id"].queryset = numbers
        self.fields["caller_id"].label_from_instance = lambda sub: sub.phone_number
