"""Middleware of the buttons app."""


class PaymentLinkMiddleware:
    """Adds ``Link: <...>; rel="payment"`` to pages whose template declared
    one with ``{% payment_links %}`` (thing pages, creator profiles)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        links = getattr(request, "flattr_link_header", None)
        if links and "Link" not in response:
            response["Link"] = ", ".join(links)
        return response
