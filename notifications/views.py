from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications import services
from notifications.forms import NotificationSettingsForm
from notifications.models import OPTIONAL_EMAIL_TYPES


@login_required
def notification_settings(request):
    prefs = services.notification_settings_get(user=request.user)
    initial = {
        "language": prefs.language,
        "digest": prefs.digest,
        "enabled": [t.value for t in OPTIONAL_EMAIL_TYPES if t.value not in prefs.muted],
    }
    form = NotificationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.notification_settings_update(
            user=request.user,
            language=form.cleaned_data["language"],
            digest=form.cleaned_data["digest"],
            enabled_types=form.cleaned_data["enabled"],
        )
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notification_settings")
    return render(request, "notifications/settings.html", {"form": form})


@csrf_exempt  # RFC 8058: mail clients POST here without a session or token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        user, kind = services.unsubscribe_token_read(token=token)
    except services.BadUnsubscribeLink:
        return render(request, "notifications/unsubscribe_bad.html", status=400)
    if request.method == "POST":
        try:
            services.notification_unsubscribe(token=token)
        except services.BadUnsubscribeLink:
            return render(request, "notifications/unsubscribe_bad.html", status=400)
        return render(request, "notifications/unsubscribed.html", {"kind": kind.label})
    # A GET only asks: link scanners must not unsubscribe anybody.
    return render(
        request, "notifications/unsubscribe.html", {"kind": kind.label, "email": user.email}
    )
