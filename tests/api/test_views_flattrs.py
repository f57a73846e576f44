import pytest

from buttons.models import Flattr, FlattrSource, Thing
from ledger import services as ledger_services
from ledger.models import AccountKind
from tests.api.conftest import ApiClient, assert_error, token_for
from tests.factories import ThingFactory, UserFactory, fund


def verified_site(owner, host: str) -> None:
    from django.utils import timezone

    from buttons.models import VerifiedSite

    VerifiedSite.objects.create(owner=owner, host=host, verified_at=timezone.now())


@pytest.mark.django_db
class TestFlattrThing:
    def test_flattr_answers_ok_with_the_mini_thing(self, api, thing, supporter):
        response = api.post(f"/things/{thing.pk}/flattr")
        assert response.status_code == 200
        body = response.json()
        assert body["message"] == "ok"
        assert body["description"] == "Thing was successfully flattred"
        assert body["thing"]["id"] == thing.pk and body["thing"]["flattrs"] == 1
        flattr = Flattr.objects.get()
        assert flattr.supporter == supporter and flattr.source == FlattrSource.API

    def test_second_flattr_this_month_is_flattr_once_403(self, api, thing):
        api.post(f"/things/{thing.pk}/flattr")
        assert_error(api.post(f"/things/{thing.pk}/flattr"), 403, "flattr_once")
        assert Flattr.objects.count() == 1

    def test_own_thing_is_flattr_owner_403(self, creator, thing):
        fund(creator)
        client = ApiClient(token_for(creator))
        assert_error(client.post(f"/things/{thing.pk}/flattr"), 403, "flattr_owner")
        assert not Flattr.objects.exists()

    def test_empty_wallet_is_no_means_401(self, thing):
        broke = ApiClient(token_for(UserFactory()))
        assert_error(broke.post(f"/things/{thing.pk}/flattr"), 401, "no_means")
        assert not Flattr.objects.exists()

    def test_a_debt_is_owes_balance_402(self, api, thing, supporter):
        ledger_services.transaction_post(
            kind="topup_reversal",
            idempotency_key="debt",
            legs=[
                (ledger_services.wallet_account(user=supporter), -1000),
                (ledger_services.account_get(kind=AccountKind.RECEIVABLE, user=supporter), -300),
                (ledger_services.platform_account(kind=AccountKind.OUTSIDE), 1300),
            ],
        )
        fund(supporter, 500)
        assert_error(api.post(f"/things/{thing.pk}/flattr"), 402, "owes_balance")

    def test_hidden_thing_is_thing_unavailable_404(self, api):
        hidden = ThingFactory(hidden=True)
        assert_error(api.post(f"/things/{hidden.pk}/flattr"), 404, "thing_unavailable")

    def test_unknown_thing_is_not_found(self, api):
        assert_error(api.post("/things/999999/flattr"), 404, "not_found")

    def test_without_token_is_unauthorized(self, thing):
        assert_error(ApiClient().post(f"/things/{thing.pk}/flattr"), 401, "unauthorized")
        assert not Flattr.objects.exists()


@pytest.mark.django_db
class TestFlattrUrl:
    def test_a_things_url_flattrs_it(self, api, thing):
        response = api.post("/flattr", {"url": thing.url})
        assert response.status_code == 200
        assert response.json()["thing"]["id"] == thing.pk

    def test_a_link_to_our_thing_page_flattrs_it(self, api, thing):
        response = api.post(
            "/flattr", {"url": f"http://localhost/things/{thing.pk}/"}, HTTP_HOST="localhost"
        )
        assert response.json()["thing"]["id"] == thing.pk

    def test_auto_submit_url_creates_the_thing_on_flattr(self, api, creator):
        # The API knows no button page: only a site the creator verified.
        verified_site(creator, "cleo.example")
        auto = (
            "https://flattr.com/submit/auto?user_id=cleo&url=https://cleo.example/ep1"
            "&title=Episode%201&category=audio&tags=podcast,ep"
        )
        response = api.post("/flattr", {"url": auto})
        assert response.status_code == 200, response.content
        thing = Thing.objects.get(url="https://cleo.example/ep1")
        assert thing.owner == creator and thing.title == "Episode 1"
        assert thing.category == "audio"
        assert response.json()["thing"]["id"] == thing.pk
        assert Flattr.objects.filter(thing=thing).count() == 1

    def test_refused_auto_submit_flattr_creates_no_thing(self, creator):
        verified_site(creator, "cleo.example")
        broke = ApiClient(token_for(UserFactory()))
        auto = "https://flattr.com/submit/auto?user_id=cleo&url=https://cleo.example/ep2"
        assert_error(broke.post("/flattr", {"url": auto}), 401, "no_means")
        assert not Thing.objects.exists()

    def test_auto_submit_refused_by_the_creators_policy(self, api, creator):
        from buttons.services import auto_submit_policy_update

        auto_submit_policy_update(owner=creator, enabled=False, url_prefixes=[])
        auto = "https://flattr.com/submit/auto?user_id=cleo&url=https://cleo.example/ep3"
        assert_error(api.post("/flattr", {"url": auto}), 403, "auto_submit_refused")
        assert not Thing.objects.exists()

    def test_auto_submit_with_unknown_owner_makes_an_unclaimed_thing(self, api):
        # An old snippet whose creator has not joined yet: the shares wait in
        # the unclaimed holding until the site is claimed.
        auto = "https://flattr.com/submit/auto?user_id=nobody&url=https://x.example/"
        response = api.post("/flattr", {"url": auto})
        assert response.status_code == 200
        thing = Thing.objects.get()
        assert thing.owner is None
        assert thing.url == "https://x.example/"

    def test_unknown_plain_url_is_not_found(self, api):
        assert_error(api.post("/flattr", {"url": "https://nowhere.example/"}), 404, "not_found")

    @pytest.mark.parametrize("body", [{}, {"url": "nope"}, {"url": 12}])
    def test_malformed_url_is_invalid_parameters(self, api, body):
        assert_error(api.post("/flattr", body), 400, "invalid_parameters")

    def test_form_body_works(self, api, thing):
        assert api.post("/flattr", {"url": thing.url}, form=True).status_code == 200


@pytest.mark.django_db
class TestFlattrLists:
    def test_user_flattrs_and_my_flattrs(self, api, anon, thing, supporter):
        supporter.flattrs_public = True  # anonymous ones: tests/api/test_privacy.py
        supporter.save(update_fields=["flattrs_public"])
        api.post(f"/things/{thing.pk}/flattr")
        public = anon.get("/users/sam/flattrs").json()
        mine = api.get("/user/flattrs").json()
        assert public == mine
        assert public[0]["thing"]["id"] == thing.pk
        assert public[0]["owner"]["username"] == "sam"
        assert isinstance(public[0]["created_at"], int)

    def test_unknown_user_is_not_found(self, anon):
        assert_error(anon.get("/users/nobody/flattrs"), 404, "not_found")
