"""Production URLs carry no benchmark or test hook."""

import pytest


@pytest.mark.django_db
def test_the_bench_view_exists_only_under_the_bench_settings(client, settings, monkeypatch):
    monkeypatch.setenv("FLATTR_BENCH", "1")  # the switch production code used to read
    assert client.get("/bench/ok").status_code == 404
    settings.ROOT_URLCONF = "bench.urls"
    response = client.get("/bench/ok")
    assert (response.status_code, response.content) == (200, b"ok")
