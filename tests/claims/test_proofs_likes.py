"""Proofs meet likes, against the shared fakes: a GitHub account connected
by OAuth is proven (and disconnecting ends the proof); a like of a proven
fediverse creator's post flattrs that creator."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from buttons.models import Flattr
from claims import proof_services, proofs
from claims.models import ProofKind, ProofStatus, ProvenAccount
from claims.services import creator_profile_url
from likes.flattring import RemoteLike, likes_record
from likes.models import AccountKind, ConnectedAccount
from tests.factories import ThingFactory, UserFactory, supporter
from tests.fakes import approve
from tests.likes.helpers import account

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator(client, settings):
    settings.SITE_URL = "http://testserver"
    user = UserFactory(username="ada")
    client.force_login(user)
    return user


def test_connecting_github_proves_it_and_disconnecting_ends_it(
    client, creator, github_fake, django_capture_on_commit_callbacks
):
    repo = ThingFactory(owner=None, url=github_fake.url("/octocat/hello-world"))
    response = client.post("/settings/connected/github/")
    location = approve(response["Location"])
    parts = urlsplit(location)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"{parts.path}?{parts.query}")
    proof = ProvenAccount.objects.get(user=creator)
    assert (proof.kind, proof.username, proof.status) == (
        ProofKind.GITHUB,
        "octocat",
        ProofStatus.ACTIVE,
    )
    assert proof.remote_id == str(github_fake.users["octocat"]["id"])
    assert proofs.owner_for_url(github_fake.url("/octocat/hello-world")) == creator.pk
    repo.refresh_from_db()
    assert repo.owner == creator  # it was unclaimed; the money held for it follows

    connected = ConnectedAccount.objects.get(user=creator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/settings/connected/{connected.pk}/disconnect/")
    proof.refresh_from_db()
    assert proof.status == ProofStatus.REMOVED
    assert proofs.owner_for_url(github_fake.url("/octocat/hello-world")) is None


def test_a_like_of_a_proven_creators_post_flattrs_them(creator, mastodon_fake):
    mastodon_fake.add_account(
        "ada",
        fields=[("Flattr", mastodon_fake.link_field("Flattr", creator_profile_url(user=creator)),
                 None)],
    )  # fmt: skip
    proof_services.fediverse_proof_add(user=creator, handle=mastodon_fake.url("/@ada"))
    post = mastodon_fake.add_status("ada")
    stranger = mastodon_fake.add_status("bob")

    fan = supporter()
    liked = account(fan, kind=AccountKind.MASTODON, url=mastodon_fake.base_url)
    now = timezone.now()
    outcome = likes_record(
        account=liked,
        likes=[
            RemoteLike("1", post["url"], "Ada's post", now),
            RemoteLike("2", stranger["url"], "Bob's post", now),
        ],
    )
    assert outcome.flattrs == 2
    mine = Flattr.objects.get(supporter=fan, thing__url=post["url"])
    assert mine.thing.owner == creator
    assert Flattr.objects.get(supporter=fan, thing__url=stranger["url"]).thing.owner is None
