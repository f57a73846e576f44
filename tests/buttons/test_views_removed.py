"""A removed thing's embed, count.json and badge answer 410 Gone, without
its title."""

import pytest

from buttons import services
from tests.factories import FlattrFactory, ThingFactory


@pytest.fixture
def removed(db, django_capture_on_commit_callbacks):
    thing = ThingFactory(title="Secret old title")
    FlattrFactory(thing=thing)
    return thing


@pytest.mark.django_db
@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/embed/{pk}/",
        "/embed/{pk}/?style=compact",
        "/things/{pk}/count.json",
        "/things/{pk}/badge.svg",
    ],
)
def test_removed_thing_answers_410_without_its_title(
    client, removed, path, warm, django_capture_on_commit_callbacks
):
    url = path.format(pk=removed.pk)
    if warm:  # served and cached before the creator removed it
        assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert services.thing_remove(thing=removed) is False
    response = client.get(url)
    assert response.status_code == 410
    assert "Secret old title" not in response.content.decode()
    again = client.get(url)
    assert again.status_code == 410


@pytest.mark.django_db
def test_removed_thing_count_json_says_gone(client, removed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.thing_remove(thing=removed)
    response = client.get(f"/things/{removed.pk}/count.json")
    assert response.json()["error"] == "gone"
    assert response["Access-Control-Allow-Origin"] == "*"
