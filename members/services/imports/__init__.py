"""Bulk import of people to invite, from a CSV or XLSX file.

Owns MemberImport. `member_import_parse` reads an uploaded file, checks every row and stores
the result for an admin to review; `member_import_run` invites the rows still valid.

Checking is set-based: one query for the organization's lists, then `invitees_check` (a
handful of queries whatever the number of rows) and one query for stale invitations. Inviting
goes through `invitations_create`, which bulk-inserts and queues the sending after commit.

- reading: an uploaded file into a header and rows, and the errors about the whole file;
- columns: the columns an import understands, in each language, and the header's mapping;
- checking: checking every row and storing the preview (`member_import_parse`);
- running: inviting the rows still valid, under the locks (`member_import_run`);
- files: the latest imports, the file of invalid rows and the template.

This package's public names are re-exported here.
"""

from members.services.imports.checking import member_import_parse
from members.services.imports.columns import (
    ADDRESS_MAX_LENGTH,
    CHANNELS,
    COLUMNS,
    EXAMPLE_EMAIL,
    EXAMPLE_PHONE,
    FIELD_MAX_LENGTHS,
    LIST_SEPARATOR,
    ROLE_ALIASES,
    Column,
    ignored_columns,
    normalized,
)
from members.services.imports.files import (
    member_import_errors_csv,
    member_import_header,
    member_import_template_csv,
    member_imports_recent,
)
from members.services.imports.reading import (
    BINARY_MAGICS,
    EXTENSIONS,
    MAX_COLUMNS,
    MAX_FILE_SIZE,
    MAX_ROWS,
    OLE_MAGIC,
    ZIP_MAGIC,
    Table,
    read_table,
)
from members.services.imports.running import member_import_run

__all__ = [
    "ADDRESS_MAX_LENGTH",
    "BINARY_MAGICS",
    "CHANNELS",
    "COLUMNS",
    "EXAMPLE_EMAIL",
    "EXAMPLE_PHONE",
    "EXTENSIONS",
    "FIELD_MAX_LENGTHS",
    "LIST_SEPARATOR",
    "MAX_COLUMNS",
    "MAX_FILE_SIZE",
    "MAX_ROWS",
    "OLE_MAGIC",
    "ROLE_ALIASES",
    "ZIP_MAGIC",
    "Column",
    "Table",
    "ignored_columns",
    "member_import_errors_csv",
    "member_import_header",
    "member_import_parse",
    "member_import_run",
    "member_import_template_csv",
    "member_imports_recent",
    "normalized",
    "read_table",
]
