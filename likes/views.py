"""Settings → Connected accounts: the list, the connect flows (Mastodon,
GitHub, a feed), the switch, disconnecting, and the likes waiting to be
flattred by hand. Thin: each view parses, calls one service, renders."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buttons.services import FlattrRefused
from core.http import AuthenticatedHttpRequest
from likes import overview
from likes.connect import ConnectError
from likes.connect.accounts import account_disconnect as disconnect_service
from likes.connect.accounts import account_of, account_set_enabled
from likes.connect.feeds import feed_connect
from likes.connect.github import github_configured, github_connect_finish, github_connect_start
from likes.connect.mastodon import mastodon_connect_finish, mastodon_connect_start
from likes.connect.oauth import Pending
from likes.forms import FeedForm, MastodonForm
from likes.models import AccountKind
from likes.services import LikeError, like_flattr_by_hand


def _callback_url(name: str) -> str:
    return settings.SITE_URL + reverse(name)


def _page(
    request: AuthenticatedHttpRequest,
    *,
    mastodon_form: MastodonForm | None = None,
    feed_form: FeedForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = []
    for account in overview.accounts_of(user=request.user):
        words, badge = overview.account_state_words(account)
        rows.append(
            {
                "account": account,
                "label": overview.account_label(account),
                "state_words": words,
                "state_class": badge,
            }
        )
    return render(
        request,
        "likes/connected.html",
        {
            "rows": rows,
            "mastodon_form": mastodon_form or MastodonForm(),
            "feed_form": feed_form or FeedForm(),
            "github_ready": github_configured(),
            "waiting_count": overview.waiting_likes(user=request.user).count(),
            "likes_per_month": settings.FLATTR_LIKES_PER_MONTH,
        },
        status=status,
    )


@login_required
def connected(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def mastodon_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = MastodonForm(request.POST)
    if not form.is_valid():
        return _page(request, mastodon_form=form, status=400)
    try:
        pending, authorize_url = mastodon_connect_start(
            instance=form.cleaned_data["instance"],
            redirect_uri=_callback_url("likes_mastodon_callback"),
        )
    except ConnectError as error:
        form.add_error("instance", error.message)
        return _page(request, mastodon_form=form, status=400)
    pending.save(request.session)
    return redirect(authorize_url)


def _finish(request: AuthenticatedHttpRequest, kind: str, finish) -> HttpResponse:
    try:
        pending, code = Pending.take(request.session, kind=kind, params=request.GET.dict())
        account = finish(user=request.user, pending=pending, code=code)
    except ConnectError as error:
        messages.error(request, error.message)
        return redirect("likes_connected")
    messages.success(
        request,
        _("%(account)s is connected: what you like there from now on becomes flattrs.")
        % {"account": overview.account_label(account)},
    )
    return redirect("likes_connected")


@login_required
def mastodon_callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _finish(request, AccountKind.MASTODON, mastodon_connect_finish)


@login_required
@require_POST
def github_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        pending, authorize_url = github_connect_start(
            redirect_uri=_callback_url("likes_github_callback")
        )
    except ConnectError as error:
        messages.error(request, error.message)
        return redirect("likes_connected")
    pending.save(request.session)
    return redirect(authorize_url)


@login_required
def github_callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _finish(request, AccountKind.GITHUB, github_connect_finish)


@login_required
@require_POST
def feed_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = FeedForm(request.POST)
    if not form.is_valid():
        return _page(request, feed_form=form, status=400)
    try:
        account = feed_connect(user=request.user, url=form.cleaned_data["url"])
    except ConnectError as error:
        form.add_error("url", error.message)
        return _page(request, feed_form=form, status=400)
    messages.success(
        request,
        _("The feed “%(feed)s” is connected: its new items become flattrs.")
        % {"feed": overview.account_label(account)},
    )
    return redirect("likes_connected")


@login_required
@require_POST
def account_switch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    try:
        account = account_set_enabled(user=request.user, account_id=pk, enabled=enabled)
    except ConnectError as error:
        messages.error(request, error.message)
        return redirect("likes_connected")
    label = overview.account_label(account)
    if enabled:
        messages.success(request, _("%(account)s is on again.") % {"account": label})
    else:
        messages.success(
            request, _("%(account)s is paused: its likes are not read.") % {"account": label}
        )
    return redirect("likes_connected")


@login_required
def account_disconnect(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        account = account_of(user=request.user, account_id=pk)
    except ConnectError as error:
        messages.error(request, error.message)
        return redirect("likes_connected")
    label = overview.account_label(account)
    if request.method != "POST":
        return render(request, "likes/disconnect.html", {"account": account, "label": label})
    disconnect_service(user=request.user, account_id=pk)
    messages.success(
        request,
        _("%(account)s is disconnected and its access deleted. Flattrs already made stay.")
        % {"account": label},
    )
    return redirect("likes_connected")


@login_required
def waiting(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(overview.waiting_likes(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    rows = [
        {"like": like, "origin": overview.origin_words(like.account.kind, like.account.url)}
        for like in page
    ]
    return render(request, "likes/waiting.html", {"page": page, "rows": rows})


@login_required
@require_POST
def waiting_flattr(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        like = like_flattr_by_hand(user=request.user, like_id=pk)
    except FlattrRefused as refusal:
        messages.error(request, refusal.message)
    except LikeError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("You flattred “%(title)s”.") % {"title": like.title or like.url}
        )
    return redirect("likes_waiting")
