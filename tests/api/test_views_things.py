import pytest

from buttons.models import Thing
from tests.api.conftest import ApiClient, assert_error
from tests.factories import FlattrFactory, ThingFactory, UserFactory

THING_KEYS = {
    "type",
    "resource",
    "link",
    "id",
    "url",
    "flattrs",
    "flattrs_user_count",
    "title",
    "description",
    "tags",
    "language",
    "category",
    "created_at",
    "owner",
    "hidden",
    "image",
}


@pytest.mark.django_db
class TestGetThing:
    def test_public_shape_is_flattrs(self, anon, thing):
        FlattrFactory(thing=thing)
        body = anon.get(f"/things/{thing.pk}").json()
        assert set(body) == THING_KEYS
        assert body["type"] == "thing"
        assert body["resource"] == f"http://testserver/rest/v2/things/{thing.pk}"
        assert body["tags"] == ["podcast", "audio"]
        assert body["flattrs"] == 1 and body["flattrs_user_count"] == 1
        assert isinstance(body["created_at"], int)
        assert body["owner"] == {
            "type": "user",
            "resource": "http://testserver/rest/v2/users/cleo",
            "link": "http://testserver/u/cleo/",
            "username": "cleo",
        }

    def test_authenticated_caller_sees_flattred_and_subscribed(self, api, thing):
        body = api.get(f"/things/{thing.pk}").json()
        assert body["flattred"] is False and body["subscribed"] is False
        assert "last_flattr_at" not in body
        api.post(f"/things/{thing.pk}/flattr")
        assert api.get(f"/things/{thing.pk}").json()["flattred"] is True

    def test_token_read_takes_counts_from_the_counters_not_an_aggregate(
        self, api, thing, django_assert_max_num_queries
    ):
        FlattrFactory(thing=thing)
        FlattrFactory(thing=thing)
        api.get(f"/things/{thing.pk}")  # warm the cached fragment
        with django_assert_max_num_queries(3) as ctx:
            body = api.get(f"/things/{thing.pk}").json()
        assert body["flattrs"] == 2 and body["flattrs_user_count"] == 2
        assert body["flattred"] is False and body["subscribed"] is False
        assert not any("COUNT(DISTINCT" in q["sql"] for q in ctx.captured_queries)

    def test_owner_sees_last_flattr_and_updated_at(self, creator_api, thing):
        body = creator_api.get(f"/things/{thing.pk}").json()
        assert body["last_flattr_at"] == 0
        assert isinstance(body["updated_at"], int)

    def test_unclaimed_thing_has_null_owner(self, anon):
        unclaimed = ThingFactory(owner=None)
        assert anon.get(f"/things/{unclaimed.pk}").json()["owner"] is None

    def test_full_expands_the_owner(self, anon, thing):
        owner = anon.get(f"/things/{thing.pk}", {"full": "1"}).json()["owner"]
        assert owner["username"] == "cleo" and "firstname" in owner

    def test_removed_thing_is_not_found(self, anon):
        removed = ThingFactory(removed=True, hidden=True)
        assert_error(anon.get(f"/things/{removed.pk}"), 404, "not_found")

    def test_several_ids_answer_a_list_in_order(self, anon, thing):
        other = ThingFactory()
        body = anon.get(f"/things/{other.pk},{thing.pk},999999").json()
        assert [t["id"] for t in body] == [other.pk, thing.pk]

    def test_over_a_hundred_ids_is_invalid_parameters(self, anon):
        ids = ",".join(str(i) for i in range(1, 102))
        assert_error(anon.get(f"/things/{ids}"), 400, "invalid_parameters")

    def test_no_id_found_is_not_found(self, anon):
        assert_error(anon.get("/things/999998,999999"), 404, "not_found")

    def test_thing_flattrs_lists_supporters(self, anon, thing, supporter):
        supporter.flattrs_public = True  # anonymous ones: tests/api/test_privacy.py
        supporter.save(update_fields=["flattrs_public"])
        FlattrFactory(thing=thing, supporter=supporter)
        body = anon.get(f"/things/{thing.pk}/flattrs").json()
        assert body[0]["type"] == "flattr"
        assert body[0]["owner"]["username"] == "sam"
        assert body[0]["thing"]["flattrs"] == 1


@pytest.mark.django_db
class TestLookup:
    def test_found_is_302_with_location_and_message(self, anon, thing):
        response = anon.get("/things/lookup", {"url": thing.url})
        assert response.status_code == 302
        location = f"http://testserver/rest/v2/things/{thing.pk}"
        assert response["Location"] == location
        assert response.json() == {"message": "found", "location": location}

    def test_not_found_is_404_with_flattrs_body(self, anon):
        response = anon.get("/things/lookup", {"url": "https://nowhere.example/"})
        body = assert_error(response, 404, "not_found")
        assert (body["message"], body["description"]) == ("not_found", "No thing was found")

    def test_auto_submit_url_is_looked_up(self, anon, thing):
        auto = f"https://flattr.com/submit/auto?user_id=cleo&url={thing.url}&title=x"
        response = anon.get("/things/lookup", {"url": auto})
        assert response.status_code == 302
        assert response["Location"].endswith(f"/things/{thing.pk}")

    def test_auto_submit_url_of_another_owner_is_not_found(self, anon, thing):
        UserFactory(username="other")
        auto = f"https://flattr.com/submit/auto?user_id=other&url={thing.url}"
        assert anon.get("/things/lookup", {"url": auto}).status_code == 404

    @pytest.mark.parametrize("url", ["", "not a url", "ftp://x.example/", "javascript:alert(1)"])
    def test_malformed_url_is_invalid_parameters(self, anon, url):
        assert_error(anon.get("/things/lookup", {"url": url}), 400, "invalid_parameters")


@pytest.mark.django_db
class TestSearch:
    @pytest.fixture
    def things(self, creator):
        return {
            "game": ThingFactory(owner=creator, title="A game", tags="game", language="en_GB"),
            "games": ThingFactory(owner=creator, title="Games", tags="games, software"),
            "photo": ThingFactory(
                owner=creator, title="Photos", tags="photo, flickr", category="images"
            ),
            "illus": ThingFactory(
                owner=creator, title="Drawings", tags="photo, flickr, illustrations"
            ),
            "hidden": ThingFactory(owner=creator, title="Secret game", tags="game", hidden=True),
            "unlisted": ThingFactory(owner=creator, title="Quiet game", tags="game", unlisted=True),
        }

    def ids(self, anon, **params):
        body = anon.get("/things/search", params).json()
        return {t["id"] for t in body["things"]}

    def test_query_searches_titles_and_skips_hidden_and_unlisted(self, anon, things):
        assert self.ids(anon, query="game") == {things["game"].pk, things["games"].pk}

    def test_tags_or_and_not(self, anon, things):
        assert self.ids(anon, tags="game | games ! software") == {things["game"].pk}
        assert self.ids(anon, tags="photo & flickr ! illustrations") == {things["photo"].pk}

    def test_category_and_language_filters(self, anon, things):
        assert self.ids(anon, category="images") == {things["photo"].pk}
        assert things["game"].pk in self.ids(anon, language="en_GB")

    def test_user_filter_and_paging(self, anon, things):
        body = anon.get("/things/search", {"user": "cleo", "count": 2, "page": 2}).json()
        assert body["total_items"] == 4
        assert body["items"] == 2 and body["page"] == 2

    def test_sort_by_flattrs(self, anon, things):
        FlattrFactory.create_batch(2, thing=things["photo"])
        body = anon.get("/things/search", {"sort": "flattrs_week"}).json()
        assert body["things"][0]["id"] == things["photo"].pk

    @pytest.mark.parametrize(
        "params", [{"category": "cooking"}, {"language": "xx_XX"}, {"sort": "random"}]
    )
    def test_invalid_filters_are_invalid_parameters(self, anon, params):
        assert_error(anon.get("/things/search", params), 400, "invalid_parameters")


@pytest.mark.django_db
class TestWriteThings:
    def test_create_answers_201_with_flattrs_body(self, creator_api, creator):
        response = creator_api.post(
            "/things",
            {
                "url": "https://cleo.example/post",
                "title": "Post",
                "category": "audio",
                "tags": "a, b",
                "language": "fr_FR",
            },
        )
        assert response.status_code == 201
        body = response.json()
        thing = Thing.objects.get(pk=body["id"])
        assert body == {
            "id": thing.pk,
            "link": f"http://testserver/rest/v2/things/{thing.pk}",
            "message": "ok",
            "description": "Thing was created successfully",
        }
        assert thing.owner == creator and thing.category == "audio"
        assert thing.tags == "a, b" and thing.language == "fr_FR"

    def test_create_accepts_tags_as_array_and_form_bodies(self, creator_api):
        response = creator_api.post(
            "/things", {"url": "https://cleo.example/f", "tags": "x,y"}, form=True
        )
        assert response.status_code == 201
        thing = Thing.objects.get(pk=response.json()["id"])
        assert thing.tags == "x, y" and thing.title == "https://cleo.example/f"
        response = creator_api.post("/things", {"url": "https://cleo.example/g", "tags": ["p"]})
        assert Thing.objects.get(pk=response.json()["id"]).tags == "p"

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"url": "not-a-url"},
            {"url": "https://x.example", "category": "cooking"},
            {"url": "https://x.example", "language": "klingon"},
            {"url": "https://x.example", "title": "t" * 201},
        ],
    )
    def test_invalid_create_changes_nothing(self, creator_api, body):
        assert_error(creator_api.post("/things", body), 400, "invalid_parameters")
        assert not Thing.objects.exists()

    def test_duplicate_url_is_invalid_parameters(self, creator_api, thing):
        assert_error(creator_api.post("/things", {"url": thing.url}), 400, "invalid_parameters")
        assert Thing.objects.count() == 1

    def test_patch_updates_the_owners_thing(self, creator_api, thing):
        response = creator_api.patch(f"/things/{thing.pk}", {"title": "New", "tags": ["t"]})
        assert response.json() == {"message": "ok", "description": "Thing was updated correctly"}
        thing.refresh_from_db()
        assert thing.title == "New" and thing.tags == "t"

    def test_patch_of_someone_elses_thing_is_forbidden(self, api, thing):
        assert_error(api.patch(f"/things/{thing.pk}", {"title": "Mine"}), 403, "forbidden")
        thing.refresh_from_db()
        assert thing.title != "Mine"

    def test_delete_removes_an_unflattred_thing(self, creator_api, thing):
        assert creator_api.delete(f"/things/{thing.pk}").status_code == 204
        assert not Thing.objects.filter(pk=thing.pk).exists()

    def test_delete_hides_a_flattred_thing(self, creator_api, thing):
        FlattrFactory(thing=thing)
        assert creator_api.delete(f"/things/{thing.pk}").status_code == 204
        thing.refresh_from_db()
        assert thing.hidden and thing.removed

    def test_delete_of_someone_elses_thing_is_forbidden(self, api, thing):
        assert_error(api.delete(f"/things/{thing.pk}"), 403, "forbidden")
        assert Thing.objects.filter(pk=thing.pk).exists()

    def test_delete_without_token_is_unauthorized(self, thing):
        assert_error(ApiClient().delete(f"/things/{thing.pk}"), 401, "unauthorized")


@pytest.mark.django_db
class TestPublicReadCache:
    def test_fast_and_general_paths_answer_the_same(self, anon, thing):
        fast = anon.get(f"/things/{thing.pk}")
        general = anon.get(f"/things/{thing.pk}", {"full": "0"})
        assert fast.json() == general.json()
        assert fast["X-RateLimit-Current"] == "1" and general["X-RateLimit-Current"] == "2"
        assert fast["Access-Control-Allow-Origin"] == "*"

    # The write paths refresh the cache on commit: the callbacks are run here
    # as a commit would.
    def test_a_new_flattr_shows_at_once_in_the_cached_read(
        self, anon, api, thing, django_capture_on_commit_callbacks
    ):
        assert anon.get(f"/things/{thing.pk}").json()["flattrs"] == 0
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"/things/{thing.pk}/flattr")
        assert anon.get(f"/things/{thing.pk}").json()["flattrs"] == 1

    def test_an_edit_shows_at_once_in_the_cached_read(
        self, anon, creator_api, thing, django_capture_on_commit_callbacks
    ):
        assert anon.get(f"/things/{thing.pk}").json()["title"] == thing.title
        with django_capture_on_commit_callbacks(execute=True):
            creator_api.patch(f"/things/{thing.pk}", {"title": "Edited"})
        assert anon.get(f"/things/{thing.pk}").json()["title"] == "Edited"

    def test_a_deleted_thing_is_gone_at_once(
        self, anon, creator_api, thing, django_capture_on_commit_callbacks
    ):
        anon.get(f"/things/{thing.pk}")
        with django_capture_on_commit_callbacks(execute=True):
            creator_api.delete(f"/things/{thing.pk}")
        assert_error(anon.get(f"/things/{thing.pk}"), 404, "not_found")
