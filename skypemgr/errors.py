"""The one exception services raise for things a person did wrong or cannot do.

Views turn it into a form error or a message; it is never a 500.
"""


class ApplicationError(Exception):
    """A refusal with a stable machine code and a message a person can read."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return str(self.message)


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"


class NotFoundError(ApplicationError):
    code = "not_found"
