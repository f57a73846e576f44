from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import selectors, services
from accounts.forms import SettingsForm
from core.db_router import replica_reads


@login_required
def dashboard(request):
    return render(request, "accounts/dashboard.html")


@login_required
def settings_view(request):
    form = SettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_settings(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            bio=form.cleaned_data["bio"],
            website=form.cleaned_data["website"],
            monthly_budget_cents=form.cleaned_data["monthly_budget"],
            flattrs_public=form.cleaned_data["flattrs_public"],
        )
        messages.success(request, _("Your settings were saved."))
        return redirect("settings")
    return render(request, "accounts/settings.html", {"form": form})


@replica_reads
def profile(request, username: str):
    user = selectors.user_by_username(username=username)
    if user is None:
        raise Http404(_("No one is called %(name)s here.") % {"name": username})
    if user.username != username:
        return redirect(user, permanent=True)
    # Accounts is a leaf app: the public things come through the reverse
    # relation, without importing buttons.
    things = list(
        user.things.filter(hidden=False, removed=False, unlisted=False, pending=False)
        .annotate(flattr_count=Count("flattrs"))
        .order_by("-created_at")[:50]
    )
    profile_url = settings.SITE_URL + user.get_absolute_url()
    # The creator as a thing of category "people": made by the auto-submit
    # door on its first flattr, so nothing is created just by a visit.
    flattr_url = (
        reverse("auto_submit")
        + "?"
        + urlencode(
            {
                "user_id": user.username,
                "url": profile_url,
                "title": user.public_name,
                "category": "people",
                "description": user.bio[:2000],
            }
        )
    )
    return render(
        request,
        "accounts/profile.html",
        {
            "profile": user,
            "profile_things": [t for t in things if t.url != profile_url],
            "total_flattrs": sum(t.flattr_count for t in things),
            "flattr_url": flattr_url,
        },
    )
