import pytest

from tests.api.conftest import assert_error
from tests.factories import FlattrFactory, ThingFactory

USER_KEYS = {
    "type",
    "resource",
    "link",
    "username",
    "url",
    "firstname",
    "lastname",
    "avatar",
    "about",
    "city",
    "country",
}


@pytest.mark.django_db
class TestUsers:
    def test_get_user_has_flattrs_shape(self, anon, creator):
        body = anon.get("/users/cleo").json()
        assert set(body) == USER_KEYS
        assert body["type"] == "user" and body["username"] == "cleo"
        assert body["firstname"] == creator.display_name

    def test_username_lookup_ignores_case(self, anon, creator):
        assert anon.get("/users/CLEO").json()["username"] == "cleo"

    def test_unknown_user_is_not_found(self, anon):
        assert_error(anon.get("/users/nobody"), 404, "not_found")

    def test_user_without_token_is_unauthorized(self, anon):
        assert_error(anon.get("/user"), 401, "unauthorized")

    def test_users_things_hide_hidden_things_but_mine_show_them(
        self, anon, creator_api, creator, thing
    ):
        hidden = ThingFactory(owner=creator, hidden=True)
        public_ids = [t["id"] for t in anon.get("/users/cleo/things").json()]
        my_ids = [t["id"] for t in creator_api.get("/user/things").json()]
        assert public_ids == [thing.pk]
        assert set(my_ids) == {thing.pk, hidden.pk}

    def test_things_paging(self, anon, creator):
        ThingFactory.create_batch(5, owner=creator)
        assert len(anon.get("/users/cleo/things", {"count": 2}).json()) == 2
        assert len(anon.get("/users/cleo/things", {"count": 2, "page": 3}).json()) == 1


@pytest.mark.django_db
class TestActivities:
    def test_outgoing_lists_flattrs_and_new_things(self, anon, creator, supporter, thing):
        creator.flattrs_public = True  # anonymous ones: tests/api/test_privacy.py
        creator.save(update_fields=["flattrs_public"])
        FlattrFactory(supporter=creator, thing=ThingFactory(title="Other's"))
        items = anon.get("/users/cleo/activities").json()["items"]
        verbs = sorted(i["verb"] for i in items)
        assert verbs == ["like", "post"]
        like = next(i for i in items if i["verb"] == "like")
        assert like["actor"]["objectType"] == "person"
        assert like["object"]["objectType"] == "bookmark"
        assert like["id"].startswith("tag:testserver,")

    def test_incoming_lists_flattrs_on_my_things(self, creator_api, supporter, thing):
        supporter.flattrs_public = True
        supporter.save(update_fields=["flattrs_public"])
        FlattrFactory(supporter=supporter, thing=thing)
        response = creator_api.get(
            "/user/activities", {"type": "incoming"}, HTTP_ACCEPT="application/stream+json"
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/stream+json")
        items = response.json()["items"]
        assert [i["actor"]["displayName"] for i in items] == ["sam"]

    def test_unknown_type_is_invalid_parameters(self, anon, creator):
        assert_error(
            anon.get("/users/cleo/activities", {"type": "sideways"}), 400, "invalid_parameters"
        )
