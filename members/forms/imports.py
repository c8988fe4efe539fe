"""Forms of the bulk import: the upload, and the filter of the preview's rows.

The form checks what a file looks like from outside (present, size, extension); what is in it
is the service's business (members.services.imports).
"""

import os

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from members.services.imports import EXTENSIONS, MAX_FILE_SIZE, MAX_ROWS


class MemberImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        max_length=255,
        # An empty file reaches the service, which says so in the same words as for a file
        # with nothing but blank lines.
        allow_empty_file=True,
        widget=forms.FileInput(
            attrs={
                "accept": ".csv,.txt,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
        error_messages={
            "required": _("Choose the file to import."),
            "max_length": _("The file's name is too long; rename it and try again."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "A .csv or .xlsx file of at most 5 MB and %(rows)s rows; the first row names the "
            "columns."
        ) % {"rows": number_format(MAX_ROWS, force_grouping=True)}

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        extension = os.path.splitext(uploaded.name or "")[1].lower()
        if extension == ".xls":
            raise forms.ValidationError(
                _("Excel 97-2003 files (.xls) cannot be read. Save the file as .xlsx or as CSV.")
            )
        if extension not in EXTENSIONS:
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if uploaded.size > MAX_FILE_SIZE:
            raise forms.ValidationError(
                _("The file is larger than 5 MB. Split it into several files.")
            )
        return uploaded


class ImportRowsFilterForm(forms.Form):
    """Which rows of the preview to show."""

    SHOW_CHOICES = [("", _("All rows")), ("invalid", _("Invalid")), ("valid", _("Valid"))]

    show = forms.ChoiceField(choices=SHOW_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, required=False)

    def clean(self):
        # Whatever the query string says, the page shows something.
        cleaned = super().clean()
        return {"show": cleaned.get("show") or "", "page": cleaned.get("page") or 1}
