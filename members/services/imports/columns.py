"""The columns an import understands: their names in English and French (and the usual
aliases), the roles a cell may name, the lengths a value may have, and how a file's header row
maps to them. Reads nothing from the database.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from members.models import Invitation
from members.services.imports.reading import _file_error
from organizations.models import Member
from organizations.roles import Role

# Lengths of the Member and Invitation fields the values end up in.
ADDRESS_MAX_LENGTH = Invitation._meta.get_field("address").max_length
FIELD_MAX_LENGTHS = {
    "display_name": Member._meta.get_field("display_name").max_length,
    "department": Member._meta.get_field("department").max_length,
    "job_title": Member._meta.get_field("job_title").max_length,
}

CHANNELS = ("email", "phone", "username")

# The template's examples; a row that still has one was not filled in, and is refused.
EXAMPLE_EMAIL = "jeanne.martin@example.com"
EXAMPLE_PHONE = "+33612345678"


@dataclass(frozen=True)
class Column:
    key: str
    # The template's header, in the user's language; its translations are accepted too.
    label: Promise
    aliases: tuple[str, ...]


COLUMNS = (
    Column(
        "email",
        pgettext_lazy("import column", "email"),
        ("email", "e-mail", "courriel", "mail", "email address", "adresse e-mail"),
    ),
    Column(
        "phone",
        pgettext_lazy("import column", "phone"),
        ("phone", "mobile", "téléphone", "mobile number", "phone number", "portable", "tél"),
    ),
    Column(
        "username",
        pgettext_lazy("import column", "username"),
        ("username", "user name", "nom d'utilisateur", "identifiant"),
    ),
    Column(
        "display_name",
        pgettext_lazy("import column", "display name"),
        ("display name", "name", "full name", "nom", "nom complet", "nom affiché"),
    ),
    Column("role", pgettext_lazy("import column", "role"), ("role", "rôle")),
    Column("lists", pgettext_lazy("import column", "lists"), ("lists", "list", "listes", "liste")),
    Column(
        "department",
        pgettext_lazy("import column", "department"),
        ("department", "service", "département"),
    ),
    Column(
        "job_title",
        pgettext_lazy("import column", "job title"),
        ("job title", "poste", "fonction", "intitulé du poste"),
    ),
)

ROLE_ALIASES = {
    "owner": Role.OWNER,
    "proprietaire": Role.OWNER,
    "admin": Role.ADMIN,
    "administrator": Role.ADMIN,
    "administrateur": Role.ADMIN,
    "administratrice": Role.ADMIN,
    "finance": Role.FINANCE,
    "member": Role.MEMBER,
    "membre": Role.MEMBER,
}

LIST_SEPARATOR = re.compile(r"[;|]")


def normalized(text) -> str:
    """Lower case, no accents, spaces or punctuation: "Nom d'Utilisateur" -> "nomdutilisateur"."""
    decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(char for char in decomposed if char.isalnum())


def _column_names() -> dict[str, str]:
    """Every accepted header (normalized) -> column key, with the labels in each language."""
    names = {}
    for column in COLUMNS:
        for alias in column.aliases:
            names[normalized(alias)] = column.key
        for language in ("en", "fr"):
            with translation.override(language):
                names.setdefault(normalized(column.label), column.key)
    return names


def _roles() -> dict[str, str]:
    roles = {normalized(name): role.value for name, role in ROLE_ALIASES.items()}
    for language in ("en", "fr"):
        with translation.override(language):
            for role in Role:
                roles.setdefault(normalized(role.label), role.value)
    return roles


def _role_needs_owner(role: str) -> bool:
    # invitations_create lets only owners invite owners and admins.
    return role in (Role.OWNER, Role.ADMIN)


def _map_header(header: list[str]) -> dict[str, int]:
    """Column key -> position; ApplicationError without an email, phone or username column."""
    names = _column_names()
    positions: dict[str, int] = {}
    for position, title in enumerate(header):
        key = names.get(normalized(title))
        if key is None:
            continue
        if key in positions:
            raise _file_error(
                _("Two columns say the same thing: “%(first)s” and “%(second)s”. Keep one.")
                % {"first": header[positions[key]], "second": title},
                "duplicate_column",
            )
        positions[key] = position
    if not any(channel in positions for channel in CHANNELS):
        raise _file_error(
            _(
                "The first row must name the columns, with at least one of: email, phone, "
                "username. Download the template to see the expected columns."
            ),
            "no_identifier",
        )
    return positions


def ignored_columns(header: Sequence[str]) -> list[str]:
    """Headers of the file that no column of the import uses (they are left out)."""
    names = _column_names()
    return [title for title in header if title and normalized(title) not in names]
