"""The member picker's search while typing (htmx): the choices matching the text, as the
picker shows them (members.forms.picker). Finance reads, like the directory.

A chosen member outside the picker's scope, another organization's included, is a 404.
"""

from django.shortcuts import get_object_or_404, render

from members.forms.picker import MemberPickerQueryForm, PickerState
from members.selectors.picker import member_picker_search, picker_members


def member_picker(request):
    form = MemberPickerQueryForm(request.GET)
    if not form.is_valid():
        errors = [str(error) for errors in form.errors.values() for error in errors]
        return render(
            request, "members/_member_picker_choices.html", {"errors": errors}, status=400
        )
    data = form.cleaned_data
    chosen = None
    if data["selected"] is not None:
        chosen = get_object_or_404(
            picker_members(organization=request.org, scope=data["scope"]), pk=data["selected"]
        )
    found = member_picker_search(organization=request.org, scope=data["scope"], text=data["text"])
    state = PickerState(
        text=found.text,
        chosen=chosen,
        matches=found.members,
        more=found.more,
        nobody=bool(found.text) and not found.members,
    )
    return render(
        request,
        "members/_member_picker_choices.html",
        {"picker": {"name": data["name"], "state": state}},
    )
