"""The member picker: a field to choose one member among thousands by typing a few letters.

Without JavaScript it is a text search: the person types part of a name, an email address or
a username and sends the form. One match is chosen; several are offered as choices (radio
buttons) under a message asking to choose; none is an error. With htmx the choices appear
while typing: `members:member-picker` answers with the same choices.

The chosen member travels as `<name>=<id>` (so that a link can name one), the typed text as
`<name>_q`. A chosen member the text no longer finds (the person typed another name) gives way
to the text. Which members a picker offers is its scope (members.extensions); an id outside
it, another organization's included, is "not found".
"""

import json
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from members.extensions import MEMBER_PICKER_SCOPES
from members.selectors.picker import (
    member_picker_matches,
    member_picker_search,
    picker_members,
)
from organizations.models import Member, Organization

MAX_TEXT = 100
# Longer digit strings cannot be a database id (and would overflow the column).
_MAX_ID_DIGITS = 18


def member_id_of(value) -> int | None:
    """A well-formed member id, or None."""
    value = str(getattr(value, "pk", value) or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= _MAX_ID_DIGITS:
        return int(value)
    return None


@dataclass
class PickerState:
    """What the picker shows: the text in the box, the chosen member, the other choices."""

    text: str = ""
    chosen: Member | None = None
    matches: list[Member] = field(default_factory=list)
    more: bool = False
    # The text was searched and found nobody.
    nobody: bool = False

    def choices(self) -> list[Member]:
        """The chosen member first, then the other matches."""
        others = [member for member in self.matches if self.chosen is None or member != self.chosen]
        return ([self.chosen] if self.chosen is not None else []) + others


class MemberPicker(forms.Widget):
    """A search box and, under it, the choices (radio buttons): see the module docstring."""

    template_name = "members/widgets/member_picker.html"

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.organization: Organization | None = None
        self.scope = ""
        self.url = ""
        self.empty_label = None
        # Set by MemberPickerField.clean; found from the value otherwise.
        self.state: PickerState | None = None

    def value_from_datadict(self, data, files, name):
        return (data.get(name) or "", data.get(f"{name}_q") or "")

    def render(self, name, value, attrs=None, renderer=None):
        # The project's templates (templates/members/), not the form renderer's: the choices
        # are shared with the picker's search view.
        context = self.get_context(name, value, attrs)
        return mark_safe(render_to_string(self.template_name, context))  # noqa: S308

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_q" not in data

    def _state_of(self, value) -> PickerState:
        if self.state is not None:
            return self.state
        raw, text = value if isinstance(value, tuple) else (value, "")
        member_id = member_id_of(raw)
        chosen = None
        if member_id is not None and self.organization is not None:
            chosen = (
                picker_members(organization=self.organization, scope=self.scope)
                .filter(pk=member_id)
                .first()
            )
        return PickerState(text=str(text or chosen or ""), chosen=chosen)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        state = self._state_of(value)
        widget = context["widget"]
        widget_id = widget["attrs"].get("id") or f"id_{name}"
        widget.update(
            {
                "id": widget_id,
                "url": self.url,
                "empty_label": self.empty_label,
                "invalid": "is-invalid" in widget["attrs"].get("class", ""),
                # Sent with each search: which picker asks (its radio buttons' name) and what
                # it may offer.
                "vals": json.dumps({"name": name, "scope": self.scope}),
                "picker": {"name": name, "state": state},
            }
        )
        return context


class MemberPickerField(forms.Field):
    """One member of `scope` (a key of members.extensions.MEMBER_PICKER_SCOPES), or None."""

    widget = MemberPicker
    default_error_messages = {
        "invalid_choice": _("This member was not found."),
        "nobody": _("No member matches “%(text)s”. Try part of a name or an email address."),
        "several": _("Several members match “%(text)s”: choose one below."),
        "too_long": _("Type at most %(limit)d characters."),
        "null": _("Null characters are not allowed."),
    }

    def __init__(self, *, organization: Organization, scope: str, empty_label=None, **kwargs):
        if scope not in MEMBER_PICKER_SCOPES:
            raise ValueError(f"unknown member picker scope {scope!r}")
        kwargs.setdefault("help_text", _("Type part of a name, an email address or a username."))
        super().__init__(**kwargs)
        self.organization = organization
        self.scope = scope
        self.widget.organization = organization
        self.widget.scope = scope
        self.widget.empty_label = empty_label
        self.widget.url = reverse("members:member-picker", kwargs={"org_slug": organization.slug})

    def _fail(self, code: str, state: PickerState, **params):
        self.widget.state = state
        raise ValidationError(self.error_messages[code], code=code, params=params)

    def clean(self, value) -> Member | None:
        raw, text = value if isinstance(value, tuple) else (value, "")
        text = str(text or "").strip()
        state = PickerState(text=text)
        if "\x00" in text:
            self._fail("null", PickerState())
        if len(text) > MAX_TEXT:
            self._fail("too_long", PickerState(text=text[:MAX_TEXT]), limit=MAX_TEXT)
        members = picker_members(organization=self.organization, scope=self.scope)
        if str(getattr(raw, "pk", raw) or "").strip():
            member_id = member_id_of(raw)
            chosen = members.filter(pk=member_id).first() if member_id is not None else None
            if chosen is None:
                self._fail("invalid_choice", state)
            if member_picker_matches(organization=self.organization, member=chosen, text=text):
                self.widget.state = PickerState(text=str(chosen), chosen=chosen)
                return chosen
        if text:
            found = member_picker_search(
                organization=self.organization, scope=self.scope, text=text
            )
            if len(found.members) == 1 and not found.more:
                [chosen] = found.members
                self.widget.state = PickerState(text=str(chosen), chosen=chosen)
                return chosen
            state = PickerState(
                text=text, matches=found.members, more=found.more, nobody=not found.members
            )
            self._fail("nobody" if not found.members else "several", state, text=text)
        self.widget.state = state
        if self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return None


class MemberPickerQueryForm(forms.Form):
    """A search of the picker while typing (htmx): `name` and `scope` say which picker asks;
    the text comes as `<name>_q` and the chosen member, if any, as `<name>`."""

    name = forms.RegexField(regex=r"^[A-Za-z][\w-]{0,59}\Z", max_length=60)
    scope = forms.ChoiceField(choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [(key, key) for key in MEMBER_PICKER_SCOPES]

    def clean(self):
        data = super().clean()
        name = data.get("name")
        if not name:
            return data
        text = str(self.data.get(f"{name}_q", "")).strip()
        if "\x00" in text:
            raise ValidationError(_("Null characters are not allowed."))
        if len(text) > MAX_TEXT:
            raise ValidationError(_("Type at most %(limit)d characters.") % {"limit": MAX_TEXT})
        raw = str(self.data.get(name, "")).strip()
        member_id = member_id_of(raw)
        if raw and member_id is None:
            raise ValidationError(_("This member was not found."))
        data["text"] = text
        data["selected"] = member_id
        return data
