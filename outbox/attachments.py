"""Files attached to emails, built when the email is sent rather than stored with it.

A message names its attachment by a reference, "<kind>:<id>" (say "credit.receipt:42"); the app
that owns the kind registers a builder for it (in its AppConfig.ready), which returns the file
in the language of the message, or None when there is nothing to attach any more. So the
outbox keeps no documents, and a resent message carries the document as it stands. A message
with several files names them all, separated by spaces ("dashboard.report_pdf:7
dashboard.report_csv:7").
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


Builder = Callable[[str], Attachment | None]

_builders: dict[str, Builder] = {}


def attachment_register(kind: str, builder: Builder) -> None:
    """Make `builder(id)` the maker of attachments referred to as "<kind>:<id>"."""
    _builders[kind] = builder


def attachment_build(reference: str) -> Attachment | None:
    """The file a reference names, or None (logged) when it names nothing we can build: the
    email still goes, without it."""
    kind, _, identifier = reference.partition(":")
    builder = _builders.get(kind)
    if builder is None or not identifier:
        logger.error("No attachment builder for %r", reference)
        return None
    return builder(identifier)


def attachment_references(value: str) -> list[str]:
    """The references a message's `attachment` names, in order."""
    return str(value or "").split()


def attachments_build(value: str) -> list[Attachment | None]:
    """The file of each reference `value` names, in order (None where there is nothing left
    to attach)."""
    return [attachment_build(reference) for reference in attachment_references(value)]
