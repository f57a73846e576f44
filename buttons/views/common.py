"""Helpers shared by the button views."""

from django.http import Http404
from django.utils.translation import gettext as _

from buttons.models import Thing


def wants_json(request) -> bool:
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.GET.get("format") == "json"
    )


def thing_or_404(pk: int) -> Thing:
    thing = Thing.objects.select_related("owner").filter(pk=pk).first()
    if thing is None:
        raise Http404(_("No thing has the id %(id)s.") % {"id": pk})
    return thing
