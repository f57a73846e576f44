"""Creators prove accounts elsewhere: a fediverse account through a local
server answering the Mastodon API, a GitHub account by OAuth; then who
owns a URL, the things and held money that become theirs."""

from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError

from buttons.models import Thing
from claims import fediverse, proof_services, proofs
from claims.models import ProofKind, ProofMethod, ProofStatus, ProvenAccount
from claims.services import creator_profile_url
from ledger.models import AccountKind
from tests.factories import ThingFactory, UserFactory
from tests.localsite import HTML, LocalSite

pytestmark = pytest.mark.django_db
JSON = {"Content-Type": "application/json; charset=utf-8"}


def mastodon_link(url: str) -> str:
    """A profile field's value as Mastodon renders a link."""
    scheme, rest = url.split("://", 1)
    return (
        f'<a href="{url}" target="_blank" rel="nofollow noopener me" translate="no">'
        f'<span class="invisible">{scheme}://</span><span class="">{rest}</span>'
        '<span class="invisible"></span></a>'
    )


class FakeInstance:
    """A local server answering ``GET /api/v1/accounts/lookup?acct=NAME``
    with Mastodon's documented Account JSON (404 ``Record not found``)."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.site = LocalSite({"/api/v1/accounts/lookup": self._lookup})

    def _lookup(self, handler):
        name = parse_qs(urlsplit(handler.path).query).get("acct", [""])[0].lower()
        account = self.accounts.get(name)
        if account is None:
            return 404, JSON, b'{"error":"Record not found"}'
        return 200, JSON, json.dumps(account).encode()

    @property
    def host(self) -> str:
        return f"{self.site.host}:{self.site.port}"

    def url(self, path: str) -> str:
        return self.site.url(path)

    def add(self, name: str, *links: str, verified: bool = False, **extra) -> dict:
        account = {
            "id": str(100 + len(self.accounts)),
            "username": name,
            "acct": name,
            "display_name": name.title(),
            "locked": False,
            "bot": False,
            "url": self.url(f"/@{name}"),
            "note": "<p>Hello</p>",
            "fields": [
                {
                    "name": "Flattr",
                    "value": mastodon_link(link),
                    "verified_at": "2026-11-02T10:00:00.000+00:00" if verified else None,
                }
                for link in links
            ],
            **extra,
        }
        self.accounts[name.lower()] = account
        return account

    def __enter__(self) -> FakeInstance:
        self.site.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.__exit__(*exc)


@pytest.fixture
def instance(allow_loopback):
    with FakeInstance() as server:
        yield server


@pytest.fixture
def ada():
    return UserFactory(username="ada")


def prove(user, instance, name="ada"):
    return proof_services.fediverse_proof_add(user=user, handle=instance.url(f"/@{name}"))


class TestHandles:
    @pytest.mark.parametrize(
        "text,base,name",
        [
            ("@ada@mastodon.example", "https://mastodon.example", "ada"),
            ("ada@Mastodon.Example", "https://mastodon.example", "ada"),
            ("https://mastodon.example/@ada", "https://mastodon.example", "ada"),
            ("https://mastodon.example/users/ada", "https://mastodon.example", "ada"),
            ("http://127.0.0.1:8080/@ada/", "http://127.0.0.1:8080", "ada"),
            ("https://pixelfed.example/ada", "https://pixelfed.example", "ada"),
        ],
    )
    def test_an_address_or_a_profile_url_names_the_instance_and_account(self, text, base, name):
        handle = fediverse.handle_parse(text)
        assert (handle.base, handle.name) == (base, name)

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "ada",
            "@ada",
            "ftp://x.example/@ada",
            "https://x.example/",
            "https://u:p@x.example/@a",
        ],
    )
    def test_anything_else_is_a_clear_error(self, text):
        with pytest.raises(ValidationError):
            fediverse.handle_parse(text)


class TestFediverseProof:
    def test_a_field_linking_the_profile_proves_the_account(self, ada, instance):
        instance.add("Ada", "https://elsewhere.example/", creator_profile_url(user=ada))
        account = prove(ada, instance, "Ada")
        assert (account.kind, account.host, account.username) == (
            ProofKind.FEDIVERSE,
            instance.host,
            "ada",
        )
        assert account.status == ProofStatus.ACTIVE
        assert account.method == ProofMethod.PROFILE_FIELD
        assert account.remote_id == "100"
        assert account.proven_at is not None
        assert account.handle == f"@ada@{instance.host}"

    def test_the_instances_own_verification_is_recorded(self, ada, instance):
        instance.add("ada", creator_profile_url(user=ada), verified=True)
        assert prove(ada, instance).method == ProofMethod.PROFILE_FIELD_VERIFIED

    def test_a_plain_text_field_with_the_http_form_of_the_profile_counts(self, ada, instance):
        account = instance.add("ada")
        account["fields"] = [
            {
                "name": "Flattr",
                "value": creator_profile_url(user=ada).rstrip("/"),
                "verified_at": None,
            }
        ]
        assert prove(ada, instance).status == ProofStatus.ACTIVE

    def test_someone_elses_profile_link_proves_nothing(self, ada, instance):
        instance.add("ada", creator_profile_url(user=UserFactory(username="bob")))
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(ada, instance)
        assert failed.value.reason_code == "link_missing"
        assert "No profile field of @ada@" in failed.value.messages[0]
        assert not ProvenAccount.objects.exists()

    def test_a_remote_account_or_pages_on_another_host_prove_nothing(self, ada, instance):
        instance.add("ada", creator_profile_url(user=ada), acct="ada@far.example")
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(ada, instance)
        assert failed.value.reason_code == "account_elsewhere"
        instance.add("ada", creator_profile_url(user=ada), url="https://victim.example/@ada")
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(ada, instance)
        assert failed.value.reason_code == "account_elsewhere"
        assert not ProvenAccount.objects.exists()

    def test_no_such_account(self, ada, instance):
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(ada, instance, "nobody")
        assert failed.value.reason_code == "no_such_account"

    @pytest.mark.parametrize(
        "route,code",
        [
            ((200, HTML, b"<html><body>Welcome</body></html>"), "not_mastodon"),
            ((404, HTML, b"<html>Not found</html>"), "not_mastodon"),
            ((200, JSON, b'{"id": "1", "username": '), "account_malformed"),
            ((200, JSON, b'["ada"]'), "account_malformed"),
            ((200, JSON, b'{"id": "1", "username": "ada", "url": "x", "fields": []}'),
             "account_malformed"),
            ((500, JSON, b"{}"), "http_status"),
            ((200, JSON, b'{"a": "' + b"x" * 300_000 + b'"}'), "account_too_large"),
        ],
    )  # fmt: skip
    def test_every_bad_answer_is_a_clear_reason(self, ada, instance, route, code):
        instance.site.routes["/api/v1/accounts/lookup"] = route
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(ada, instance)
        assert failed.value.reason_code == code
        assert failed.value.messages[0] and "%(" not in failed.value.messages[0]
        assert not ProvenAccount.objects.exists()

    def test_a_private_address_is_refused(self, ada, settings):
        settings.FETCH_ALLOWED_HOSTS, settings.FETCH_ALLOWED_NETWORKS = [], []
        with pytest.raises(proof_services.ProofFailed) as failed:
            proof_services.fediverse_proof_add(user=ada, handle="http://127.0.0.1:9/@ada")
        assert failed.value.reason_code == "address_refused"

    def test_a_slow_instance_is_cut_off(self, ada, instance, monkeypatch):
        def slow(handler):
            time.sleep(3)
            return 200, JSON, b"{}"

        monkeypatch.setattr(fediverse, "TOTAL_TIMEOUT", 1)
        instance.site.routes["/api/v1/accounts/lookup"] = slow
        started = time.monotonic()
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(ada, instance)
        assert failed.value.reason_code == "timeout"
        assert time.monotonic() - started < 2.5

    def test_the_account_has_one_creator(self, ada, instance):
        bob = UserFactory(username="bob")
        instance.add("ada", creator_profile_url(user=ada), creator_profile_url(user=bob))
        prove(ada, instance)
        with pytest.raises(proof_services.ProofFailed) as failed:
            prove(bob, instance)
        assert failed.value.reason_code == "proof_conflict"
        # The owner leaves only Bob's link: Bob's proof replaces Ada's.
        instance.add("ada", creator_profile_url(user=bob))
        assert prove(bob, instance).status == ProofStatus.ACTIVE
        old = ProvenAccount.objects.get(user=ada)
        assert (old.status, old.reason_code) == (ProofStatus.FAILED, "moved")

    def test_checking_again_keeps_or_drops_the_proof(self, ada, instance):
        instance.add("ada", creator_profile_url(user=ada))
        account = prove(ada, instance)
        assert proof_services.proven_account_recheck(account=account).status == ProofStatus.ACTIVE
        instance.add("ada")
        account = proof_services.proven_account_recheck(account=account)
        assert (account.status, account.reason_code) == (ProofStatus.FAILED, "link_missing")
        assert proofs.owner_for_url(instance.url("/@ada/1")) is None
        instance.add("ada", creator_profile_url(user=ada))
        assert proof_services.proven_account_recheck(account=account).status == ProofStatus.ACTIVE
        assert ProvenAccount.objects.count() == 1


class TestOwnerForUrl:
    @pytest.fixture
    def proven(self, ada):
        ProvenAccount.objects.create(
            user=ada,
            kind=ProofKind.FEDIVERSE,
            host="social.example",
            username="ada",
            method=ProofMethod.PROFILE_FIELD,
            proven_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
        return ada

    @pytest.mark.parametrize(
        "url",
        [
            "https://social.example/@ada/113456789",  # Mastodon, Akkoma
            "https://social.example/@Ada/113456789",
            "https://social.example/users/ada/statuses/113456789",  # ActivityPub id
            "https://social.example/@ada/statuses/01HZX",  # GoToSocial
            "https://social.example/users/ada/statuses/01HZX",  # GoToSocial AP
            "https://social.example/p/ada/712345",  # Pixelfed
            "https://social.example/web/@ada/1",
            "https://social.example/@ada",
        ],
    )
    def test_posts_of_a_proven_account_are_its_creators(
        self, proven, url, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            assert proofs.owner_for_url(url) == proven.pk

    @pytest.mark.parametrize(
        "url",
        [
            "https://social.example/@adam/1",
            "https://social.example/@ada@far.example/1",  # a remote account seen here
            "https://other.example/@ada/1",
            "https://social.example/notice/AbC",  # Pleroma: the URL names nobody
            "https://social.example/about",
            "mailto:ada@social.example",
            "not a url",
        ],
    )
    def test_other_addresses_are_nobodys(self, proven, url):
        assert proofs.owner_for_url(url) is None

    def test_an_address_naming_no_account_costs_no_query(self, proven, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert proofs.owner_for_url("https://social.example/notice/AbC") is None

    def test_a_removed_proof_owns_nothing(self, proven, instance):
        account = ProvenAccount.objects.get()
        proof_services.proven_account_remove(account=account)
        assert proofs.owner_for_url("https://social.example/@ada/1") is None


class TestGitHub:
    def test_connecting_proves_the_login_and_disconnecting_ends_it(self, ada):
        proofs.github_connected(user_id=ada.pk, login="AdaL", github_user_id=583231)
        account = ProvenAccount.objects.get()
        assert (account.kind, account.host, account.username, account.method) == (
            ProofKind.GITHUB,
            "github.com",
            "adal",
            ProofMethod.OAUTH,
        )
        assert account.remote_id == "583231"
        assert proofs.owner_for_url("https://github.com/adal/engine") == ada.pk
        assert proofs.owner_for_url("https://github.com/AdaL/engine/issues/3") == ada.pk
        assert proofs.owner_for_url("https://github.com/bob/engine") is None
        assert proofs.owner_for_url("https://gitlab.example/adal/engine") is None
        proofs.github_disconnected(user_id=ada.pk, github_user_id="583231")
        assert proofs.owner_for_url("https://github.com/adal/engine") is None
        proofs.github_connected(user_id=ada.pk, login="AdaL", github_user_id=583231)
        assert proofs.owner_for_url("https://github.com/adal/engine") == ada.pk
        assert ProvenAccount.objects.count() == 1

    def test_enterprise_host_from_the_api_url(self, ada, settings):
        settings.GITHUB_API_URL = "https://ghe.corp.example/api/v3"
        settings.GITHUB_OAUTH_URL = "https://ghe.corp.example"
        proofs.github_connected(user_id=ada.pk, login="ada", github_user_id=7)
        assert proofs.owner_for_url("https://ghe.corp.example/ada/tool") == ada.pk
        assert proofs.owner_for_url("https://github.com/ada/tool") is None

    def test_a_login_that_changed_hands_follows_the_newest_oauth(self, ada):
        bob = UserFactory(username="bob")
        proofs.github_connected(user_id=ada.pk, login="octo", github_user_id=1)
        # Ada renamed her GitHub account; someone else took "octo" and is Bob.
        proofs.github_connected(user_id=bob.pk, login="octo", github_user_id=2)
        assert proofs.owner_for_url("https://github.com/octo/x") == bob.pk
        proofs.github_connected(user_id=ada.pk, login="octo-ada", github_user_id=1)
        assert proofs.owner_for_url("https://github.com/octo-ada/x") == ada.pk
        assert proofs.owner_for_url("https://github.com/octo/x") == bob.pk

    def test_an_unknown_user_is_ignored(self):
        proofs.github_connected(user_id=999999, login="ghost", github_user_id=3)
        assert not ProvenAccount.objects.exists()


class TestThingsAndMoney:
    def test_proving_gives_the_accounts_unclaimed_things_and_no_others(self, ada, instance):
        mine = [
            ThingFactory(owner=None, url=instance.url("/@ada/1001")),
            ThingFactory(owner=None, url=instance.url("/@Ada/1002")),
            ThingFactory(owner=None, url=instance.url("/users/ada/statuses/1003")),
        ]
        others = [
            ThingFactory(owner=None, url=instance.url("/@adam/1")),
            ThingFactory(owner=None, url=instance.url("/@ada@far.example/1")),
            ThingFactory(owner=None, url="https://far.example/@ada/1"),
        ]
        owned = ThingFactory(owner=UserFactory(), url=instance.url("/@ada/1004"))
        instance.add("ada", creator_profile_url(user=ada))
        account = prove(ada, instance)
        assert account.assigned_count == 3
        assert {t.pk for t in Thing.objects.filter(owner=ada)} == {t.pk for t in mine}
        assert not Thing.objects.filter(pk__in=[t.pk for t in others], owner__isnull=False).exists()
        owned.refresh_from_db()
        assert owned.owner != ada

    def test_github_repositories_become_the_creators(self, ada):
        repo = ThingFactory(owner=None, url="https://github.com/adal/engine")
        other = ThingFactory(owner=None, url="https://github.com/adalbert/engine")
        proofs.github_connected(user_id=ada.pk, login="adal", github_user_id=9)
        repo.refresh_from_db(), other.refresh_from_db()
        assert (repo.owner, other.owner) == (ada, None)
        assert ProvenAccount.objects.get().assigned_count == 1

    def test_held_money_reaches_the_creator_at_the_next_run(self, ada, instance):
        from payouts import services as payouts
        from tests.factories import balance, flattr, platform, supporter

        staff = UserFactory(is_staff=True, is_superuser=True)
        period = dt.date(2026, 9, 1)
        post = ThingFactory(owner=None, url=instance.url("/@ada/110000000000000001"))
        other = ThingFactory(owner=None, url="https://blog.example/unclaimed")
        flattr(supporter(budget=301, balance=5000), post, period)
        flattr(supporter(budget=1000, balance=5000), post, period)
        flattr(supporter(budget=1000, balance=5000), other, period)
        run = payouts.payout_run_compute(period=period)
        payouts.payout_run_approve(run=run, actor=staff, queue=False)
        payouts.payout_run_post(run_id=run.pk)
        assert platform(AccountKind.UNCLAIMED, f"thing:{post.pk}") == 1301

        instance.add("ada", creator_profile_url(user=ada))
        prove(ada, instance)

        run = payouts.payout_run_compute(period=dt.date(2026, 10, 1))
        payouts.payout_run_approve(run=run, actor=staff, queue=False)
        payouts.payout_run_post(run_id=run.pk)
        assert balance(ada, AccountKind.EARNINGS) == 1171  # 1301 less the fee of 130.1 -> 130
        assert platform(AccountKind.UNCLAIMED, f"thing:{post.pk}") == 0
        assert platform(AccountKind.UNCLAIMED, f"thing:{other.pk}") == 1000


class TestDatabaseRules:
    def _row(self, user, **fields):
        values = {
            "user": user,
            "kind": ProofKind.FEDIVERSE,
            "host": "social.example",
            "username": "ada",
            "method": ProofMethod.PROFILE_FIELD,
            "status": ProofStatus.ACTIVE,
            "proven_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        }
        values.update(fields)
        return ProvenAccount(**values)

    @pytest.mark.parametrize(
        "fields",
        [
            {"host": "Social.example"},
            {"username": "Ada"},
            {"kind": "twitter"},
            {"status": "maybe"},
            {"kind": ProofKind.GITHUB},  # GitHub is proven by OAuth only
            {"proven_at": None},  # an active proof has a time
        ],
    )
    def test_the_database_refuses_a_bad_row(self, ada, fields):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            self._row(ada, **fields).save()

    def test_one_creator_per_active_account(self, ada):
        from django.db import IntegrityError, transaction

        self._row(ada).save()
        bob = UserFactory(username="bob")
        with pytest.raises(IntegrityError), transaction.atomic():
            self._row(bob).save()
        self._row(bob, status=ProofStatus.FAILED).save()  # a failed proof may wait
