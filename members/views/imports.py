"""Placeholder: filled by the CSV import work."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


member_import = _todo
import_detail = _todo
import_errors = _todo
import_template = _todo
