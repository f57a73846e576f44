"""The API follows the web's auto-submit rules: the creator's policy, and
unlisted things kept out of search and profiles."""

import pytest

from buttons.models import AutoSubmitPolicy, Flattr, Thing
from tests.api.conftest import ApiClient
from tests.factories import ThingFactory


@pytest.mark.django_db
def test_auto_submit_off_refuses_flattr_by_url_and_creates_nothing(api, creator):
    AutoSubmitPolicy.objects.create(owner=creator, enabled=False)
    auto = f"https://flattr.com/submit/auto?user_id={creator.username}&url=https://c.example/1"
    response = api.post("/flattr", {"url": auto})
    assert response.status_code == 403
    assert not Thing.objects.exists() and not Flattr.objects.exists()


@pytest.mark.django_db
def test_unlisted_things_stay_out_of_search_and_profiles(creator):
    ThingFactory(owner=creator, title="Quiet game", tags="game", unlisted=True)
    listed = ThingFactory(owner=creator, title="Loud game", tags="game")
    anon = ApiClient()
    found = anon.get("/things/search", {"query": "game"}).json()["things"]
    assert [t["id"] for t in found] == [listed.pk]
    mine = anon.get(f"/users/{creator.username}/things").json()
    assert [t["id"] for t in mine] == [listed.pk]
