import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import PersonalToken
from tests.api.conftest import ApiClient
from tests.factories import UserFactory


@pytest.mark.django_db
class TestApiTokenCommand:
    def test_prints_only_the_token_on_its_last_line(self):
        UserFactory(email="ada@example.org", username="ada")
        out = StringIO()
        call_command("api_token", "ADA@example.org", "--scopes", "flattr,thing", stdout=out)
        raw = out.getvalue().strip().splitlines()[-1]
        assert raw.startswith("flattr_pat_") and " " not in raw
        token = PersonalToken.objects.get()
        assert token.scope == "flattr thing"
        assert ApiClient(raw).get("/user").json()["username"] == "ada"

    def test_unknown_user_fails_with_one_line(self):
        with pytest.raises(CommandError, match="No user"):
            call_command("api_token", "nobody@example.org")
        assert not PersonalToken.objects.exists()

    def test_unknown_scope_fails_and_writes_nothing(self):
        UserFactory(email="ada@example.org")
        with pytest.raises(CommandError, match="Unknown scope"):
            call_command("api_token", "ada@example.org", "--scopes", "flattr root")
        assert not PersonalToken.objects.exists()


def test_command_exits_non_zero_for_an_unknown_user(db):
    from tests.conftest import database_url_for_subprocess

    result = subprocess.run(
        [sys.executable, "manage.py", "api_token", "nobody@example.org"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DATABASE_URL": database_url_for_subprocess()},
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "No user" in result.stderr
