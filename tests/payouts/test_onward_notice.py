"""The creator's monthly e-mail carries the onward amounts: what they passed
on and to whom, what they keep, what they received onward and from whom
(issue 26)."""

import pytest
from django.core import mail

from buttons.models import Thing
from notifications import emails
from notifications.models import Email, Event, NotificationSettings
from payouts import notices, services
from payouts.models import PayoutRun, UnclaimedLine
from payouts.onward import onward_set
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P

pytestmark = pytest.mark.django_db


def post(run, admin_user, django_capture_on_commit_callbacks):
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_post(run_id=run.pk)


@pytest.fixture
def month(settings, admin_user, django_capture_on_commit_callbacks):
    """Sophie gives 900: 300 to each of Claire's two things and Dora's song.
    Claire (net 540) passes 10% to Bob (54), 33% to Dora's song (178) and 5%
    to an unclaimed thing (27, held); Dora (net 270) passes 50% to Claire
    (135); Bob only receives. Ada (net 90) has no onward shares."""
    settings.FLATTR_FEE_PERCENT = 10
    claire = UserFactory(username="claire")
    dora = UserFactory(username="dora")
    bob = UserFactory(username="bob")
    ada = UserFactory(username="ada")
    sophie = supporter(budget=900, balance=5000)
    song = thing(owner=dora, title="Dora's song")
    for t in (thing(owner=claire), thing(owner=claire), song):
        flattr(sophie, t, P)
    flattr(supporter(budget=100, balance=1000), thing(owner=ada), P)
    onward_set(
        creator=claire,
        entries=[("@bob", 10), (str(song.pk), 33), ("https://lib.example.net/", 5)],
    )
    onward_set(creator=dora, entries=[("@claire", 50)])
    run = services.payout_run_compute(period=P)
    post(run, admin_user, django_capture_on_commit_callbacks)
    held = Thing.objects.get(pk=UnclaimedLine.objects.get(run=run).thing_id)
    return {"claire": claire, "dora": dora, "bob": bob, "ada": ada, "held": held, "run": run}


def data_of(user):
    return Event.objects.get(type="payout.posted", recipient=user).data


def rendered(user, language):
    NotificationSettings.objects.update_or_create(user=user, defaults={"language": language})
    email = Email.objects.get(event__type="payout.posted", event__recipient=user)
    message = emails.email_render(email=email)
    return message.subject, message.body, message.alternatives[0][0]


def test_the_creator_event_carries_what_was_passed_on_kept_and_received(month):
    claire = data_of(month["claire"])
    assert (claire["net_cents"], claire["onward_out_cents"], claire["kept_cents"]) == (
        540,
        54 + 178 + 27,
        540 - 259,
    )
    assert (claire["onward_in_cents"], claire["credited_cents"]) == (135, 281 + 135)
    assert claire["onward_to"] == [
        {"label": "Dora's song", "cents": 178, "held": False},
        {"label": "bob", "cents": 54, "held": False},
        {"label": month["held"].title or month["held"].url, "cents": 27, "held": True},
    ]
    assert claire["onward_from"] == [{"label": "dora", "cents": 135}]
    assert claire["onward_to_more"] == claire["onward_from_more"] == 0
    dora = data_of(month["dora"])
    assert (dora["onward_out_cents"], dora["kept_cents"], dora["onward_in_cents"]) == (
        135,
        135,
        178,
    )
    assert dora["onward_to"] == [{"label": "claire", "cents": 135, "held": False}]
    assert dora["onward_from"] == [{"label": "claire", "cents": 178}]
    # Bob only receives onward money (gross 0): he is told too.
    bob = data_of(month["bob"])
    assert (bob["gross_cents"], bob["onward_in_cents"], bob["credited_cents"]) == (0, 54, 54)
    assert (bob["onward_to"], bob["onward_from"]) == ([], [{"label": "claire", "cents": 54}])
    ada = data_of(month["ada"])
    assert (ada["net_cents"], ada["onward_out_cents"], ada["onward_in_cents"]) == (90, 0, 0)
    assert (ada["kept_cents"], ada["onward_to"], ada["onward_from"]) == (90, [], [])


def test_the_email_shows_the_onward_amounts_to_the_cent_in_english_and_french(month):
    label = month["held"].title or month["held"].url
    subject, text, html = rendered(month["claire"], "en")
    assert subject == "You earned 4.16 € in 2026-09"
    for shown in (text, html):
        assert "You passed on 2.59\xa0€ to:" in shown
        assert "Dora's song: 1.78\xa0€" in shown or "Dora&#x27;s song: 1.78\xa0€" in shown
        assert "bob: 0.54\xa0€" in shown
        assert f"{label}: 0.27\xa0€" in shown and "held until its creator joins" in shown
        assert "You keep 2.81\xa0€." in shown
        assert "You received 1.35\xa0€ onward from:" in shown and "dora: 1.35\xa0€" in shown
        assert "Net, added to your earnings" not in shown
    assert "Added to your earnings: 4.16\xa0€" in text
    subject, text, html = rendered(month["claire"], "fr")
    assert subject == "Vous avez gagné 4,16 € en 2026-09"
    for shown in (text, html):
        assert "Vous avez transmis 2,59\xa0€ à :" in shown
        assert "bob: 0,54\xa0€" in shown
        assert "retenu jusqu’à l’arrivée de son créateur" in shown
        assert "Vous gardez 2,81\xa0€." in shown
        assert "Vous avez reçu 1,35\xa0€ transmis par :" in shown and "dora: 1,35\xa0€" in shown
    assert "Ajouté à vos gains: 4,16\xa0€" in text
    _, text, _ = rendered(month["bob"], "en")
    assert "You passed on" not in text and "You keep" not in text
    assert "You received 0.54\xa0€ onward from:" in text and "claire: 0.54\xa0€" in text


def test_a_creator_without_onward_shares_gets_no_onward_paragraph(month):
    for language, added in (
        ("en", "Net, added to your earnings"),
        ("fr", "Net, ajouté à vos gains"),
    ):
        subject, text, html = rendered(month["ada"], language)
        assert "0.90" in subject or "0,90" in subject
        for shown in (text, html):
            assert added in shown
            for absent in ("passed on", "onward", "transmis", "gardez", "2.59", "1.35"):
                assert absent not in shown


def test_at_most_twenty_names_each_way(settings, admin_user, django_capture_on_commit_callbacks):
    settings.FLATTR_FEE_PERCENT = 0
    bob = UserFactory(username="bob")
    fan = supporter(budget=2200, balance=5000)
    for i in range(22):
        giver = UserFactory(username=f"giver{i:02d}")
        flattr(fan, thing(owner=giver), P)
        onward_set(creator=giver, entries=[("@bob", 1 + i)])
    post(services.payout_run_compute(period=P), admin_user, django_capture_on_commit_callbacks)
    data = data_of(bob)
    assert data["onward_in_cents"] == sum(1 + i for i in range(22))
    assert len(data["onward_from"]) == 20 and data["onward_from_more"] == 2
    assert data["onward_from"][0] == {"label": "giver21", "cents": 22}
    assert data["onward_from"][-1] == {"label": "giver02", "cents": 3}
    _, text, _ = rendered(bob, "en")
    assert "- and 2 more" in text
    assert len(mail.outbox) == 24  # the supporter, 22 givers and Bob, each once
    # Publishing again (a retried task) sends nothing twice.
    run = PayoutRun.objects.get(period=P)
    assert notices.run_statements_publish(run_id=run.pk) == 0
