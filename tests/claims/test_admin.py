"""Staff settle conflicting site claims in the admin."""

import pytest
from django.urls import reverse
from django.utils import timezone

from buttons.models import VerifiedSite
from claims.models import Claim, ClaimState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def site_claim(creator, state, **extra):
    return Claim.objects.create(
        creator=creator, kind="site", method="meta", url="https://shared.example/",
        host="shared.example", token_hash="0" * 64, token_expires_at=timezone.now(),
        state=state, **extra,
    )  # fmt: skip


def test_staff_approve_a_claim_in_review_and_the_site_changes_hands(client, staff):
    first, second = UserFactory(), UserFactory()
    old = site_claim(first, ClaimState.VERIFIED, verified_at=timezone.now())
    VerifiedSite.objects.create(owner=first, host="shared.example", verified_at=timezone.now())
    disputed = site_claim(second, ClaimState.REVIEW, reason_code="conflict")
    client.force_login(staff)
    changelist = client.get(reverse("admin:claims_claim_changelist") + "?state=review")
    assert "Another creator verified this site" in changelist.content.decode()
    response = client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "approve", "_selected_action": [disputed.pk, old.pk]},
    )
    assert response.status_code == 302
    old.refresh_from_db()
    disputed.refresh_from_db()
    assert (old.state, disputed.state) == (ClaimState.REJECTED, ClaimState.VERIFIED)
    assert disputed.reviewed_by == staff
    assert VerifiedSite.objects.get().owner == second


def test_staff_reject_leaves_the_site_with_its_owner(client, staff):
    first, second = UserFactory(), UserFactory()
    VerifiedSite.objects.create(owner=first, host="shared.example", verified_at=timezone.now())
    disputed = site_claim(second, ClaimState.REVIEW, reason_code="conflict")
    client.force_login(staff)
    client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "reject", "_selected_action": [disputed.pk]},
    )
    disputed.refresh_from_db()
    assert disputed.state == ClaimState.REJECTED
    assert VerifiedSite.objects.get().owner == first


def test_claims_cannot_be_added_or_edited_by_hand(client, staff):
    client.force_login(staff)
    assert client.get(reverse("admin:claims_claim_add")).status_code == 403


def test_staff_cannot_approve_their_own_disputed_claim(client, staff):
    """Approving gives the site, its things and their held money to the
    claim's creator: never to the staff member who approves it."""
    from django.core.exceptions import ValidationError

    from claims import services

    owner = UserFactory()
    old = site_claim(owner, ClaimState.VERIFIED, verified_at=timezone.now())
    VerifiedSite.objects.create(owner=owner, host="shared.example", verified_at=timezone.now())
    mine = site_claim(staff, ClaimState.REVIEW, reason_code="conflict")
    with pytest.raises(ValidationError, match="another staff member"):
        services.claim_review_approve(claim=mine, actor=staff)
    client.force_login(staff)
    response = client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "approve", "_selected_action": [mine.pk]},
        follow=True,
    )
    assert "another staff member" in response.content.decode()
    mine.refresh_from_db()
    old.refresh_from_db()
    assert (mine.state, mine.reviewed_by, old.state) == (
        ClaimState.REVIEW,
        None,
        ClaimState.VERIFIED,
    )
    assert VerifiedSite.objects.get().owner == owner

    colleague = UserFactory(is_staff=True, is_superuser=True)
    services.claim_review_approve(claim=mine, actor=colleague)
    mine.refresh_from_db()
    assert mine.state == ClaimState.VERIFIED
    assert VerifiedSite.objects.get().owner == staff
