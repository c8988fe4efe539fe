"""Form helpers every app shares."""

from skypemgr.errors import ApplicationError


def form_error(form, error: ApplicationError, *, fallback: str | None = None) -> None:
    """Show a service's refusal on the form: under the field it names when the form has that
    field, else under `fallback` (a field name), else at the top of the form."""
    field = error.field if error.field in form.fields else fallback
    form.add_error(field, error.message)
