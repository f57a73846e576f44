"""Machine-readable counters: ``count.json`` and the SVG badge."""

from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from buttons import counters, services
from buttons.models import Thing
from buttons.views.common import thing_or_404

GONE = "gone"


@require_GET
@cache_control(public=True, max_age=30)
def count_json(request, pk: int):
    month, total, known = counters.snapshot(
        thing_id=pk, period=services.current_period(), page="card"
    )
    if known is None:
        removed = Thing.objects.filter(pk=pk).values_list("removed", flat=True).first()
        if removed is not None:
            known = GONE if removed else True
            counters.store_page(thing_id=pk, page="card", value=known)
    if not known:
        response = JsonResponse({"error": "not_found", "message": "No such thing."}, status=404)
    elif known == GONE:
        response = JsonResponse(
            {"error": "gone", "message": "This thing was removed by its creator."}, status=410
        )
    else:
        response = JsonResponse({"thing": pk, "count": total, "month": month})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _badge(label: str, value: str, title: str) -> str:
    left, right = 46, 10 + 7 * len(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" role="img" '
        f'aria-label="{escape(label)}: {escape(value)}"><title>{escape(title)}</title>'
        f'<rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="#e8590c"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">{escape(label)}</text><text x="{left + 5}" y="14">{escape(value)}</text></g></svg>'
    )


@require_GET
@cache_control(public=True, max_age=300)
def badge_svg(request, pk: int):
    thing = thing_or_404(pk)
    if thing.removed:
        value = _("removed")
        return HttpResponse(
            _badge("flattr", value, value), content_type="image/svg+xml; charset=utf-8", status=410
        )
    _month, total = counters.counts(thing_id=pk, period=services.current_period())
    svg = _badge("flattr", str(total), f"{thing.title}: {total}")
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
