"""Placeholder: filled by the directory/lists work."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


member_list = _todo


member_bulk = _todo


member_detail = _todo


member_role = _todo


member_status = _todo


member_lists = _todo
