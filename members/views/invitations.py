"""Placeholder: filled by the invitations work."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


invite = _todo
invitation_list = _todo
invitation_rows = _todo
invitation_resend = _todo
invitation_revoke = _todo
invitation_bulk_revoke = _todo
invitation_open = _todo
invitation_code = _todo
invitation_signup = _todo
invitation_accept = _todo
invitation_decline = _todo
my_invitations = _todo
my_invitation_respond = _todo
