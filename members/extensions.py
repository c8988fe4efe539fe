"""Places in the directory and on a member's details page that apps above this one fill in.

The members app cannot import the apps built on it (credit, subscriptions), yet people look for
a member's balance and features in the directory and on the member's page. Those apps register
here, usually from their AppConfig.ready():

- a directory column: a label, a cell template and `values(organization, members)`, which
  returns {member id: value} for the members of the page. It is called once per page, so it
  must answer with one query for all of them (never one per member);
- a member details panel: a template and `context(request, member)`, whose dict the template
  receives as `panel`;
- a bulk action of the directory: a button that sends the selected members (`members=<id>`,
  posted with the CSRF token) to another app's page, which takes it from there;
- a scope of the member picker (members.forms.picker): the members a picker may offer,
  `members(organization)`, a queryset of the organization's members;
- a removal question: what happens to what a member holds in another app (their features)
  when they are removed. `form(request, member, data)` returns the question as a form (bound
  to `data` when given), or None when there is nothing to ask; `apply(organization=, actor=,
  member=, answer=)` runs inside the removal's transaction, after the member row is locked,
  with the form's cleaned data, or `answer=None` when nobody was asked (a bulk removal, a
  member leaving), where it does the safe default.

Each entry names the lowest role that sees it. Registering a key again replaces the entry.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise

from organizations.models import Member, Organization
from organizations.roles import Role


@dataclass(frozen=True)
class DirectoryColumn:
    key: str
    label: str | Promise
    cell_template: str
    values: Callable[[Organization, Sequence[Member]], Mapping[int, Any]]
    role: Role = Role.FINANCE
    # Bootstrap classes for the header and the cells (alignment, hiding on small screens).
    css_class: str = ""


@dataclass(frozen=True)
class MemberDetailPanel:
    key: str
    template: str
    context: Callable[[HttpRequest, Member], dict]
    role: Role = Role.FINANCE


@dataclass(frozen=True)
class DirectoryBulkAction:
    key: str
    label: str | Promise
    # A URL name under /o/<org_slug>/ that takes a POST of `members`.
    url_name: str
    role: Role = Role.ADMIN


@dataclass(frozen=True)
class RemovalQuestion:
    key: str
    # The form's template (it receives the form as `question`).
    template: str
    form: Callable[[HttpRequest, Member, Any], Any]
    apply: Callable[..., None]


DIRECTORY_COLUMNS: dict[str, DirectoryColumn] = {}
MEMBER_DETAIL_PANELS: dict[str, MemberDetailPanel] = {}
DIRECTORY_BULK_ACTIONS: dict[str, DirectoryBulkAction] = {}
MEMBER_PICKER_SCOPES: dict[str, Callable[[Organization], QuerySet[Member]]] = {}
REMOVAL_QUESTIONS: dict[str, RemovalQuestion] = {}


def register_directory_column(
    key: str,
    *,
    label: str | Promise,
    cell_template: str,
    values: Callable[[Organization, Sequence[Member]], Mapping[int, Any]],
    role: Role = Role.FINANCE,
    css_class: str = "",
) -> None:
    DIRECTORY_COLUMNS[key] = DirectoryColumn(key, label, cell_template, values, role, css_class)


def register_member_detail_panel(
    key: str,
    *,
    template: str,
    context: Callable[[HttpRequest, Member], dict],
    role: Role = Role.FINANCE,
) -> None:
    MEMBER_DETAIL_PANELS[key] = MemberDetailPanel(key, template, context, role)


def register_directory_bulk_action(
    key: str, *, label: str | Promise, url_name: str, role: Role = Role.ADMIN
) -> None:
    DIRECTORY_BULK_ACTIONS[key] = DirectoryBulkAction(key, label, url_name, role)


def register_member_picker_scope(
    key: str, members: Callable[[Organization], QuerySet[Member]]
) -> None:
    MEMBER_PICKER_SCOPES[key] = members


def directory_columns(
    organization: Organization, role: Role, members: Sequence[Member]
) -> list[DirectoryColumn]:
    """The columns `role` may see; each member of the page gets `extension_cells`, a list of
    {"column", "value"} in the same order (one call of each column's `values`)."""
    columns = [column for column in DIRECTORY_COLUMNS.values() if Role(role).at_least(column.role)]
    values = [column.values(organization, members) if members else {} for column in columns]
    for member in members:
        member.extension_cells = [
            {"column": column, "value": found.get(member.pk)}
            for column, found in zip(columns, values, strict=True)
        ]
    return columns


def member_detail_panels(request, member: Member) -> list[dict]:
    """The panels the visitor may see, each as {"key", "template", "context"}."""
    role = Role(request.member.role)
    return [
        {"key": panel.key, "template": panel.template, "context": panel.context(request, member)}
        for panel in MEMBER_DETAIL_PANELS.values()
        if role.at_least(panel.role)
    ]


def directory_bulk_actions(role: Role) -> list[DirectoryBulkAction]:
    return [
        action for action in DIRECTORY_BULK_ACTIONS.values() if Role(role).at_least(action.role)
    ]


def register_removal_question(
    key: str,
    *,
    template: str,
    form: Callable[[HttpRequest, Member, Any], Any],
    apply: Callable[..., None],
) -> None:
    REMOVAL_QUESTIONS[key] = RemovalQuestion(key, template, form, apply)


def removal_questions(request, member: Member, data=None) -> list[dict]:
    """The questions to ask before `member` is removed, each as {"key", "template", "form"},
    with the forms bound to `data` when given (a POST)."""
    questions = []
    for question in REMOVAL_QUESTIONS.values():
        form = question.form(request, member, data)
        if form is not None:
            questions.append({"key": question.key, "template": question.template, "form": form})
    return questions


def removal_answers_apply(
    *, organization: Organization, actor: Member | None, member: Member, answers: dict | None
) -> None:
    """Run every removal question's `apply` with its answer (None when not asked)."""
    for question in REMOVAL_QUESTIONS.values():
        answer = (answers or {}).get(question.key)
        question.apply(organization=organization, actor=actor, member=member, answer=answer)
