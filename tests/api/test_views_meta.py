import pytest

from tests.api.conftest import ApiClient


@pytest.mark.django_db
class TestProbeAndLists:
    @pytest.mark.parametrize("path", ["", "/", ".json"])
    def test_root_says_hello_world(self, anon, path):
        response = anon.get(path)
        assert response.status_code == 200
        assert response.json() == {"message": "hello_world"}

    def test_categories_are_flattrs_seven(self, anon):
        body = anon.get("/categories").json()
        assert [c["id"] for c in body] == [
            "text",
            "images",
            "video",
            "audio",
            "software",
            "people",
            "rest",
        ]
        assert body[-1]["text"] == "Other"

    def test_categories_are_translated_with_accept_language(self, anon):
        body = anon.get("/categories", HTTP_ACCEPT_LANGUAGE="fr").json()
        assert body[-1]["text"] == "Autre"

    def test_languages_use_flattr_ids(self, anon):
        ids = [lang["id"] for lang in anon.get("/languages").json()]
        assert "en_GB" in ids and "fr_FR" in ids

    def test_rate_limit_resource_reports_without_counting(self, anon, settings):
        settings.FLATTR_API_RATE_LIMIT = 50
        anon.get("/categories")
        first = anon.get("/rate_limit").json()
        second = anon.get("/rate_limit").json()
        assert first["hourly_limit"] == 50
        assert first["current_hits"] == second["current_hits"] == 1
        assert first["remaining_hits"] == 49
        assert first["reset_time_in_seconds"] % 3600 == 0

    def test_rate_limit_of_a_token_is_its_own(self, api, anon):
        api.get("/user")
        api.get("/user")
        assert api.get("/rate_limit").json()["current_hits"] == 2
        assert ApiClient().get("/rate_limit").json()["current_hits"] == 0
