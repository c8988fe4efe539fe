"""Placeholder: filled by the directory/lists work."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


list_list = _todo


list_detail = _todo


list_delete = _todo
