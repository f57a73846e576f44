class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` (settings.PERMISSIONS_POLICY): no page of
    ours uses the camera, microphone, location and the like, so a script that
    got in cannot ask for them either."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


class PopupOpenerMiddleware:
    """Keep ``window.opener`` in the Flattr confirm popup.

    Django sends ``Cross-Origin-Opener-Policy: same-origin`` by default, which
    cuts a popup off from the cross-site button iframe that opened it. Pages
    of the popup flow (marked ``popup=1``, also through the login page's
    ``next``) send ``unsafe-none`` so the popup can report the new count with
    ``postMessage``. They still refuse to be framed.
    """

    MARKERS = ("popup=1", "popup%3D1")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self._in_popup(request):
            response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response

    def _in_popup(self, request) -> bool:
        path = request.get_full_path()
        if any(marker in path for marker in self.MARKERS):
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return bool(request.POST.get("popup")) or any(
                marker in request.POST.get("next", "") for marker in self.MARKERS
            )
        return False
