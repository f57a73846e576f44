"""The admin lists connected accounts with their poll state, fast, and
never shows a token."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from likes.models import AccountKind, AccountStatus, ConnectedAccount, InstanceApp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "tok-visible-nowhere-123"


def _accounts(n):
    for i in range(n):
        ConnectedAccount.objects.create(
            user=UserFactory(),
            kind=AccountKind.MASTODON,
            url=f"https://m{i}.example",
            remote_login=f"alice{i}@m{i}.example",
            access_token=TOKEN,
            status=AccountStatus.ERROR if i % 2 else AccountStatus.ACTIVE,
            last_error_code="timeout" if i % 2 else "",
        )


def test_list_and_page_show_poll_state_never_tokens(client, staff):
    _accounts(3)
    InstanceApp.objects.create(base_url="https://m0.example", client_id="cid", client_secret=TOKEN)
    client.force_login(staff)
    listing = client.get(reverse("admin:likes_connectedaccount_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "alice0@m0.example" in html and "Next poll" in html
    account = ConnectedAccount.objects.first()
    page = client.get(reverse("admin:likes_connectedaccount_change", args=[account.pk]))
    assert page.status_code == 200
    app = InstanceApp.objects.get()
    app_page = client.get(reverse("admin:likes_instanceapp_change", args=[app.pk]))
    for response in (listing, page, app_page):
        assert TOKEN not in response.content.decode()
        assert "access_token" not in response.content.decode()
    filtered = client.get(
        reverse("admin:likes_connectedaccount_changelist") + "?status__exact=error"
    ).content.decode()
    assert "alice1@m1.example" in filtered and "alice0@m0.example" not in filtered


def test_list_queries_do_not_grow_with_rows(client, staff):
    client.force_login(staff)
    url = reverse("admin:likes_connectedaccount_changelist")
    _accounts(2)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _accounts(20)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
    assert not any("access_token" in q["sql"] for q in many)


def test_likes_list(client, staff):
    client.force_login(staff)
    assert client.get(reverse("admin:likes_like_changelist")).status_code == 200
