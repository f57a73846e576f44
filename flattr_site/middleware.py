class FrameAncestorsMiddleware:
    """Send CSP ``frame-ancestors`` next to X-Frame-Options.

    Pages refuse to be framed by default (``'none'``). A view that must be
    embeddable (the button iframe) marks its response with
    ``flattr_site.http.frameable`` and gets ``frame-ancestors *`` instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if getattr(response, "flattr_frameable", False):
            policy = "frame-ancestors *"
        else:
            policy = "frame-ancestors 'none'"
        response["Content-Security-Policy"] = policy
        return response
