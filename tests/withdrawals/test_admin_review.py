"""Reviewing a withdrawal from its admin page (issue 28, item 8): Approve…
and Reject… lead to a confirmation page, POST with CSRF, through the same
services and four-eyes rule as the list's actions."""

import pytest
from django.test import Client
from django.urls import reverse

from ledger import selectors as ledger_selectors
from payments.withdrawals.models import Withdrawal
from tests.factories import UserFactory
from tests.withdrawals.helpers import creator_with, earnings, pending, withdraw

pytestmark = pytest.mark.django_db


def _review_url(w, action):
    return reverse("admin:withdrawals_withdrawal_review", args=[w.pk, action])


def _awaiting(client, user, amount="300"):
    withdraw(client, user, amount)
    w = Withdrawal.objects.get(user=user)
    assert w.status == "awaiting_review"
    return w


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_object_page_approves_after_confirmation(
    client, test_mode, staff, django_capture_on_commit_callbacks
):
    user = creator_with(50_000)
    w = _awaiting(client, user)
    client.force_login(staff)
    page = client.get(reverse("admin:withdrawals_withdrawal_change", args=[w.pk])).content.decode()
    assert _review_url(w, "approve") in page and _review_url(w, "reject") in page

    confirm = client.get(_review_url(w, "approve"))
    assert confirm.status_code == 200
    assert "Yes, I am sure" in confirm.content.decode() and "300.00" in confirm.content.decode()
    w.refresh_from_db()
    assert w.status == "awaiting_review"

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(_review_url(w, "approve"), {"confirm": "1"}, follow=True)
    assert "Approved 1 withdrawal." in _messages(done)
    w.refresh_from_db()
    assert w.status == "paid" and w.reviewed_by == staff
    assert (earnings(user), pending(user)) == (20_000, 0)
    # Done: the page offers no second review.
    page = client.get(reverse("admin:withdrawals_withdrawal_change", args=[w.pk])).content.decode()
    assert _review_url(w, "approve") not in page
    assert ledger_selectors.ledger_problems() == []


def test_object_page_four_eyes(client, test_mode):
    """A staff member's own withdrawal: no Approve button, and a POST is refused."""
    reviewer = creator_with(50_000)
    reviewer.is_staff = reviewer.is_superuser = True
    reviewer.save()
    w = _awaiting(client, reviewer)
    page = client.get(reverse("admin:withdrawals_withdrawal_change", args=[w.pk])).content.decode()
    assert _review_url(w, "approve") not in page
    done = client.post(_review_url(w, "approve"), {"confirm": "1"}, follow=True)
    assert any("cannot approve your own withdrawal" in m for m in _messages(done))
    w.refresh_from_db()
    assert w.status == "awaiting_review" and w.reviewed_by is None
    assert (earnings(reviewer), pending(reviewer)) == (20_000, 30_000)


def test_object_page_reject_needs_a_reason(client, test_mode, staff):
    user = creator_with(50_000)
    w = _awaiting(client, user)
    client.force_login(staff)
    refused = client.post(_review_url(w, "reject"), {"confirm": "1", "reason": "  "})
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    w.refresh_from_db()
    assert w.status == "awaiting_review"

    done = client.post(
        _review_url(w, "reject"), {"confirm": "1", "reason": "verify your identity"}, follow=True
    )
    assert "Rejected 1 withdrawal." in _messages(done)
    w.refresh_from_db()
    assert w.status == "rejected" and w.reason == "verify your identity"
    assert w.reviewed_by == staff
    assert (earnings(user), pending(user)) == (50_000, 0)
    assert ledger_selectors.ledger_problems() == []


def test_object_page_review_needs_csrf_and_permission(test_mode, staff):
    user = creator_with(50_000)
    browser = Client()
    w = _awaiting(browser, user)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(_review_url(w, "approve"), {"confirm": "1"}).status_code == 403
    viewer = UserFactory(is_staff=True)  # staff without the change permission
    browser.force_login(viewer)
    assert browser.get(_review_url(w, "approve")).status_code == 403
    assert browser.get(_review_url(w, "delete")).status_code == 403
    w.refresh_from_db()
    assert w.status == "awaiting_review"


def test_list_action_message_counts_in_english_and_french(
    client, test_mode, staff, django_capture_on_commit_callbacks
):
    first, second = creator_with(50_000), creator_with(50_000)
    ids = [_awaiting(client, first).pk, _awaiting(client, second).pk]
    client.force_login(staff)
    url = reverse("admin:withdrawals_withdrawal_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            url, {"action": "approve", "_selected_action": ids, "confirm": "1"}, follow=True
        )
    assert "Approved 2 withdrawals." in _messages(done)
    third = creator_with(50_000)
    pk = _awaiting(client, third).pk
    client.force_login(staff)
    done = client.post(
        url,
        {"action": "reject", "_selected_action": [pk], "confirm": "1", "reason": "no"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "1 retrait refusé." in _messages(done)
