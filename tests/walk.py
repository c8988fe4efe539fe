"""Helpers for the odd-input walk (tests/skypemgr/test_odd_input.py): the forms a page shows, as
a browser would submit them, and the odd values to put in them.

The walk finds its pages in the URLconf and its parameters in the pages' own forms, so a new
page or a new field is walked without anyone listing it.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# What people (and attackers) paste: a NUL byte, 10 KB, right-to-left text, emoji, numbers
# too big, too small or malformed.
ODD_VALUES = [
    "a\x00b",
    "x" * 10_000,
    "\u202eevil\u202c مرحبا بالعالم",
    "🙂👍🏽‍🧑‍💻",
    "-1",
    "9" * 40,
    "1e309",
    "",
]
# Posts also get a 100-character name and an over-long address.
ODD_POST_VALUES = [*ODD_VALUES, "N" * 100, "a" * 250 + "@example.com"]
# A choice, a box to tick or a hidden id gets fewer: nobody types in it.
ODD_CHOICE_VALUES = ["a\x00b", "x" * 10_000, "-1", "9" * 40]
CHOICE_KINDS = {"select", "radio", "checkbox", "hidden"}
# Parameters no page asks for.
UNKNOWN_PARAMETERS = ["zz", "page", "q", "next"]
# Inputs whose value a browser sends as typed; the others (buttons, files) are not filled.
TEXT_KINDS = {
    "text", "search", "email", "tel", "url", "number", "password", "hidden", "date",
    "datetime-local", "month", "time", "textarea", "select", "radio", "checkbox", "",
}  # fmt: skip


@dataclass
class Field:
    name: str
    kind: str
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    form_id: str = ""
    fields: list[Field] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def baselines(self) -> list[dict[str, list[str]]]:
        """What the form sends as shown, once per named submit button (or once)."""
        buttons = list(dict.fromkeys(self.buttons))
        return [self.sent_with(button) for button in buttons] or [self.sent()]

    def sent_with(self, button: tuple[str, str]) -> dict[str, list[str]]:
        name, value = button
        return {**self.sent(), name: [value]}

    def sent(self) -> dict[str, list[str]]:
        """What the form sends as shown, without a button."""
        data: dict[str, list[str]] = {}
        for item in self.fields:
            if item.kind not in TEXT_KINDS or item.name == "csrfmiddlewaretoken":
                continue
            values = data.setdefault(item.name, [])
            if item.kind in ("checkbox", "radio"):
                if item.checked:
                    values.append(item.value or "on")
            elif item.kind == "select":
                if item.value:
                    values.append(item.value)
                elif item.options:
                    values.append(next((o for o in item.options if o), item.options[0]))
            else:
                values.append(item.value)
        for item in self.fields:
            # A group of radio buttons or checkboxes none of which is ticked: tick the first.
            if item.kind in ("checkbox", "radio") and not data.get(item.name):
                data[item.name] = [item.value or "on"]
        return data

    def odd_values(self, name: str) -> list[str]:
        kinds = {item.kind for item in self.fields if item.name == name}
        return ODD_CHOICE_VALUES if kinds <= CHOICE_KINDS else ODD_POST_VALUES

    def field_names(self) -> list[str]:
        return list(
            dict.fromkeys(
                item.name
                for item in self.fields
                if item.kind in TEXT_KINDS and item.name != "csrfmiddlewaretoken"
            )
        )


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.orphans: list[tuple[str, Field]] = []
        self.select: Field | None = None
        self.option: str | None = None
        self.textarea: Field | None = None

    def _add(self, attrs: dict, item: Field) -> None:
        owner = attrs.get("form")
        if owner:
            self.orphans.append((owner, item))
        elif self.current is not None:
            self.current.fields.append(item)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.current = Form(
                method=(attrs.get("method") or "get").lower(),
                action=attrs.get("action", ""),
                form_id=attrs.get("id", ""),
            )
            self.forms.append(self.current)
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "image", "button"):
                if self.current is not None:
                    self.current.buttons.append((attrs["name"], attrs.get("value", "")))
                return
            item = Field(attrs["name"], kind, attrs.get("value", ""), "checked" in attrs)
            self._add(attrs, item)
        elif tag == "button" and attrs.get("name") and self.current is not None:
            if attrs.get("type", "submit").lower() == "submit":
                self.current.buttons.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select" and attrs.get("name"):
            self.select = Field(attrs["name"], "select")
            self._add(attrs, self.select)
        elif tag == "option" and self.select is not None:
            self.option = attrs.get("value")
            if self.option is not None:
                self.select.options.append(self.option)
                if "selected" in attrs:
                    self.select.value = self.option
        elif tag == "textarea" and attrs.get("name"):
            self.textarea = Field(attrs["name"], "textarea")
            self._add(attrs, self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data
        elif self.select is not None and self.option is None and data.strip():
            # An option without a value sends its text.
            self.select.options.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "option":
            self.option = None
        elif tag == "textarea":
            self.textarea = None


def page_forms(html: str, page_url: str) -> list[Form]:
    """The forms of a page, their actions made absolute paths with their query strings."""
    parser = _FormParser()
    parser.feed(html)
    by_id = {form.form_id: form for form in parser.forms if form.form_id}
    for owner, item in parser.orphans:
        if owner in by_id:
            by_id[owner].fields.append(item)
    for form in parser.forms:
        absolute = urlsplit(urljoin(page_url, form.action or page_url))
        form.action = absolute.path + (f"?{absolute.query}" if absolute.query else "")
    return parser.forms


def same_path(url: str, other: str) -> bool:
    return urlsplit(url).path == urlsplit(other).path


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def fill_route(route: str, values: dict[str, str]) -> str:
    """A path for a URL pattern's route (path() or re_path() syntax) with `values` put in."""

    def value(name: str) -> str:
        if name not in values:
            raise LookupError(f"tests.walk: no value for <{name}> in {route!r}")
        return str(values[name])

    path = _CONVERTER.sub(lambda match: value(match.group(2)), route)
    path = _GROUP.sub(lambda match: value(match.group(1)), path)
    return "/" + path.replace("^", "").replace("$", "")
