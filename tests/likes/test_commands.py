"""manage.py likes_poll and the beat task."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from buttons.models import Flattr
from likes import tasks
from likes.models import AccountKind, ConnectedAccount
from tests.factories import supporter

pytestmark = pytest.mark.django_db


def _account(fake, user, **fields):
    return ConnectedAccount.objects.create(
        user=user,
        kind=AccountKind.GITHUB,
        url=fake.api_url,
        remote_login="octocat",
        access_token=fake.issue_token("octocat"),
        connected_at=timezone.now() - dt.timedelta(minutes=1),
        **fields,
    )


def _run(*args):
    out = io.StringIO()
    call_command("likes_poll", *args, stdout=out)
    return json.loads(out.getvalue())


def test_likes_poll_prints_one_json_object(github_fake, settings):
    settings.FLATTR_LIKES_PER_MONTH = 2
    user = supporter()
    # Not due: the command polls it anyway.
    account = _account(github_fake, user, next_poll_at=timezone.now() + dt.timedelta(hours=1))
    github_fake.star("octocat", at=timezone.now() - dt.timedelta(days=1))
    for _ in range(3):
        github_fake.star("octocat")
    assert _run() == {"accounts": 1, "likes_seen": 3, "flattrs": 2, "waiting": 1,
                      "skipped": {}, "errors": 0}  # fmt: skip
    assert _run("--account", str(account.pk))["likes_seen"] == 0
    assert Flattr.objects.filter(supporter=user, source="github").count() == 2


def test_likes_poll_unknown_or_off_account_is_a_clear_error(github_fake):
    with pytest.raises(CommandError, match="No connected account with id 999"):
        call_command("likes_poll", "--account", "999")
    account = _account(github_fake, supporter(), enabled=False)
    with pytest.raises(CommandError, match="is not polled: it is off"):
        call_command("likes_poll", "--account", str(account.pk))


def test_beat_task_polls_due_accounts_on_the_fetch_queue(github_fake, settings):
    assert settings.CELERY_TASK_ROUTES["likes.tasks.likes_account_poll"] == {"queue": "fetch"}
    assert settings.CELERY_BEAT_SCHEDULE["likes-poll-due"]["task"] == "likes.tasks.likes_poll_due"
    user = supporter()
    _account(github_fake, user)
    _account(github_fake, user, remote_id="2", next_poll_at=timezone.now() + dt.timedelta(hours=1))
    github_fake.star("octocat")
    assert tasks.likes_poll_due.delay().get() == 1
    assert Flattr.objects.filter(supporter=user).count() == 1
