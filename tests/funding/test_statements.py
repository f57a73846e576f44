"""The monthly statements of an after-mode run (issue 24, item 8): each
supporter is told their shares with each share's part of the fee, what is
charged and to what, and their pledges; each creator what the run expects
for them and how it reaches them. Published once per run and person, in
English and French."""

from collections import defaultdict

import pytest
from django.core import mail
from django.urls import reverse

from buttons.models import Thing
from funding.models import Charge
from ledger.models import AccountKind
from notifications.emails import email_render
from notifications.models import Email, Event, EventType, NotificationSettings
from payments.withdrawals.models import PayoutAccount, PayoutAccountStatus
from payouts import notices
from payouts.models import CreatorLine, PayoutRun, SupporterLine
from payouts.onward import onward_set
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready

pytestmark = pytest.mark.django_db


def text(s: str) -> str:
    return s.replace("\xa0", " ")


@pytest.fixture
def month(after, admin_user):
    """Sophie (budget 2.00) flattred four of Claire's things and one
    unclaimed thing in September: 0.40 each, 1.60 charged, 0.40 pledged."""
    claire = UserFactory(username="claire", display_name="Claire")
    ready(claire)
    sophie = UserFactory(username="sophie", monthly_budget_cents=200, display_name="Sophie")
    for minute in range(4):
        flattr(sophie, thing(owner=claire, title=f"Song {minute}"), P, minute=minute)
    flattr(sophie, thing(owner=None, title="Orphan post"), P, minute=9)
    return claire, sophie


def posted() -> PayoutRun:
    """The month computed, approved and posted (charging not started: the
    posting's on-commit work does not run inside the test's transaction)."""
    approve()
    run = PayoutRun.objects.get()
    assert run.status == "posted" and run.funding == "after"
    return run


def publish(run: PayoutRun) -> int:
    return notices.run_statements_publish(run_id=run.pk)


def statement(user) -> dict:
    return Event.objects.get(type=EventType.SUPPORTER_STATEMENT, recipient=user).data


def earnings(user) -> dict:
    return Event.objects.get(type=EventType.PAYOUT_POSTED, recipient=user).data


def rendered(type_, user, language="en") -> tuple[str, str, str]:
    NotificationSettings.objects.update_or_create(user=user, defaults={"language": language})
    event = Event.objects.get(type=type_, recipient=user)
    message = email_render(email=Email(event=event, to=user.email))
    return text(message.subject), text(message.body), text(message.alternatives[0][0])


# --- Supporters -----------------------------------------------------------------


def test_the_supporter_is_told_shares_fee_parts_charge_card_and_pledge(month):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    run = posted()
    assert publish(run) == 2
    data = statement(sophie)
    assert data["funding"] == "after"
    assert (data["taken_cents"], data["flattrs"]) == (200, 5)
    assert sorted(s["amount_cents"] for s in data["shares"]) == [40] * 5
    assert [s["title"] for s in data["shares"] if s["held"]] == ["Orphan post"]
    # Each claimed share's part of the fee adds up to Claire's fee, to the cent.
    fee = CreatorLine.objects.get(run=run, creator=claire).fee
    assert fee == 16
    assert sum(s["fee_cents"] for s in data["shares"] if not s["held"]) == fee
    assert all(s["fee_cents"] == 0 for s in data["shares"] if s["held"])
    # What is charged is what the books say Sophie owes.
    assert (data["claimed_cents"], data["wallet_cents"], data["charge_cents"]) == (160, 0, 160)
    assert -balance(sophie, AccountKind.RECEIVABLE) == data["charge_cents"]
    assert Charge.objects.get(supporter=sophie).amount == data["charge_cents"]
    assert data["held_cents"] == 40
    assert data["method"] == {"kind": "card", "brand": "visa", "last4": "4242"}
    subject, body, html = rendered(EventType.SUPPORTER_STATEMENT, sophie)
    assert subject == "2026-09: 1.60 € to be charged for your flattrs"
    assert "your budget of 2.00 € was shared by the 5 things you flattred" in body
    assert "- Song 0: 0.40 € (0.04 € of it to the platform)" in body
    assert "- Orphan post: 0.40 € (pledged, not charged)" in body
    assert "1.60 € is charged to your Visa ending 4242." in body
    assert (
        "0.40 € is pledged to things whose creators have not joined yet: it is not charged,"
        " and it counts for their creator if they join within 6 months." in body
    )
    assert reverse("my_months") in body and reverse("my_months") in html
    assert "1.60 € is charged to your Visa ending 4242." in html
    assert "wallet gave" not in body + html


def test_a_supporter_without_a_way_to_pay_is_told_these_are_pledges(month):
    claire, sophie = month
    run = posted()
    publish(run)
    data = statement(sophie)
    assert (data["charge_cents"], data["method"], data["method_needs_replacing"]) == (
        160,
        None,
        False,
    )
    assert -balance(sophie, AccountKind.RECEIVABLE) == 160
    subject, body, html = rendered(EventType.SUPPORTER_STATEMENT, sophie)
    assert (
        "No way to pay saved: these flattrs are pledges and their 1.60 € reaches nobody."
        " Save a way to pay and it is charged then:" in body
    )
    assert reverse("payment_method") in body and reverse("payment_method") in html
    assert "is charged to your" not in body


def test_a_way_to_pay_that_needs_replacing_is_said_so(month):
    claire, sophie = month
    saved = method(sophie, "pm_card_visa")
    saved.status = "unusable"
    saved.save()
    publish(posted())
    assert statement(sophie)["method_needs_replacing"] is True
    assert (
        "Your saved way to pay needs replacing: these flattrs are pledges"
        in (rendered(EventType.SUPPORTER_STATEMENT, sophie)[1])
    )


def test_a_sepa_mandate_is_named_with_its_bank_account(month):
    claire, sophie = month
    method(sophie, "pm_sepa_debit_success")
    publish(posted())
    body = rendered(EventType.SUPPORTER_STATEMENT, sophie)[1]
    assert (
        "1.60 € is debited from your bank account ending 3000 by SEPA Direct Debit;"
        " a separate notice gives the date and the mandate reference." in body
    )


def test_a_wallet_that_covered_part_leaves_the_rest_to_charge(after, admin_user):
    claire = UserFactory()
    ready(claire)
    # 1.00 left in the wallet from before the switch to after mode.
    sophie = UserFactory(monthly_budget_cents=200, wallet_cents=100)
    method(sophie)
    for minute in range(4):
        flattr(sophie, thing(owner=claire), P, minute=minute)
    flattr(sophie, thing(owner=None), P, minute=9)
    run = posted()
    publish(run)
    data = statement(sophie)
    assert (data["claimed_cents"], data["wallet_cents"], data["charge_cents"]) == (160, 100, 60)
    assert data["wallet_cents"] + data["charge_cents"] + data["held_cents"] == data["taken_cents"]
    assert -balance(sophie, AccountKind.RECEIVABLE) == 60
    assert balance(sophie) == 0
    body = rendered(EventType.SUPPORTER_STATEMENT, sophie)[1]
    assert (
        "Of the 1.60 € for things with a creator, 1.00 € is paid first from what was left"
        " in your wallet." in body
    )
    assert "0.60 € is charged to your Visa ending 4242." in body
    assert rendered(EventType.SUPPORTER_STATEMENT, sophie)[0] == (
        "2026-09: 0.60 € to be charged for your flattrs"
    )


def test_a_wallet_that_covered_everything_charges_nothing(after, admin_user):
    claire = UserFactory()
    sophie = UserFactory(monthly_budget_cents=200, wallet_cents=500)
    flattr(sophie, thing(owner=claire), P)
    publish(posted())
    data = statement(sophie)
    assert (data["wallet_cents"], data["charge_cents"]) == (200, 0)
    subject, body, _html = rendered(EventType.SUPPORTER_STATEMENT, sophie)
    assert subject == "Where your flattrs of 2026-09 went"
    assert (
        "The 2.00 € for things with a creator is paid from what was left in your wallet:"
        " nothing is charged." in body
    )


def test_only_pledges_charge_nothing(after, admin_user):
    sophie = UserFactory(monthly_budget_cents=200)
    method(sophie)
    flattr(sophie, thing(owner=None), P, minute=1)
    flattr(sophie, thing(owner=None), P, minute=2)
    publish(posted())
    assert not Charge.objects.filter(supporter=sophie).exists()
    data = statement(sophie)
    assert (data["claimed_cents"], data["charge_cents"], data["held_cents"]) == (0, 0, 200)
    body = rendered(EventType.SUPPORTER_STATEMENT, sophie)[1]
    assert "Nothing is charged: none of these things has a creator on the platform yet." in body
    assert "2.00 € is pledged" in body


def test_to_the_cent_across_supporters_creators_and_batches(after, admin_user, monkeypatch):
    """Odd budgets over shared things, statements in batches of two: each
    creator's fee parts add up to their line's fee, each supporter's charge
    is their receivable, and charge + wallet + pledges = their budget."""
    monkeypatch.setattr(notices, "BATCH", 2)
    after.FLATTR_FEE_PERCENT = 7
    creators = [UserFactory() for _ in range(3)]
    things = [thing(owner=creators[i % 3]) for i in range(7)] + [thing(owner=None)]
    fans = []
    for i in range(7):
        fan = UserFactory(monthly_budget_cents=13 + 17 * i, wallet_cents=5 * (i % 3))
        if i % 2:
            method(fan)
        for minute, t in enumerate(things[i % 5 : i % 5 + 4]):
            flattr(fan, t, P, minute=minute)
        fans.append(fan)
    run = posted()
    publish(run)
    owner_by_url = dict(Thing.objects.values_list("url", "owner_id"))
    told: dict[int, int] = defaultdict(int)
    for fan in fans:
        data = statement(fan)
        line = SupporterLine.objects.get(run=run, supporter=fan)
        assert data["taken_cents"] == line.taken == fan.monthly_budget_cents
        assert sum(s["amount_cents"] for s in data["shares"]) == line.taken
        assert data["held_cents"] == line.pledged
        assert data["charge_cents"] + data["wallet_cents"] + data["held_cents"] == line.taken
        assert data["charge_cents"] == -balance(fan, AccountKind.RECEIVABLE)
        for share in data["shares"]:
            if not share["held"]:
                told[owner_by_url[share["url"]]] += share["fee_cents"]
    charged = dict(CreatorLine.objects.filter(run=run).values_list("creator_id", "fee"))
    assert dict(told) == {c: fee for c, fee in charged.items() if fee}


# --- Creators ---------------------------------------------------------------------


def test_the_creator_is_told_expected_gross_fee_net_and_the_transfer(month):
    claire, sophie = month
    method(sophie)
    publish(posted())
    data = earnings(claire)
    assert data["funding"] == "after"
    assert (data["gross_cents"], data["fee_cents"], data["net_cents"]) == (160, 16, 144)
    assert data["account_ready"] is True
    subject, body, html = rendered(EventType.PAYOUT_POSTED, claire)
    assert subject == "You are due 1.44 € for 2026-09"
    assert "Your expected earnings for 2026-09:" in body
    assert "Net, expected: 1.44 €" in body
    assert (
        "It is transferred to your payout account as the supporters' charges are collected." in body
    )
    assert "It is transferred to your payout account" in html
    assert "added to your earnings" not in body


def test_a_creator_without_a_ready_account_is_told_it_stays_owed(month):
    claire, sophie = month
    PayoutAccount.objects.filter(user=claire).update(status=PayoutAccountStatus.PENDING)
    method(sophie)
    publish(posted())
    assert earnings(claire)["account_ready"] is False
    body = rendered(EventType.PAYOUT_POSTED, claire)[1]
    assert "once your payout account is ready; until then it is kept as owed" in body
    assert reverse("earnings") in body


def test_onward_shares_are_told_as_in_wallet_mode(month):
    """Claire (net 1.44) passes 10 % on to Bob: 0.14 to him, 1.30 kept."""
    claire, sophie = month
    bob = UserFactory(username="bob")
    onward_set(creator=claire, entries=[("@bob", 10)])
    method(sophie)
    publish(posted())
    data = earnings(claire)
    assert (data["onward_out_cents"], data["kept_cents"], data["credited_cents"]) == (14, 130, 130)
    assert data["onward_to"] == [{"label": "bob", "cents": 14, "held": False}]
    received = earnings(bob)
    assert (received["funding"], received["onward_in_cents"], received["account_ready"]) == (
        "after",
        14,
        False,
    )
    assert received["onward_from"] == [{"label": "claire", "cents": 14}]
    subject, body, _html = rendered(EventType.PAYOUT_POSTED, claire)
    assert subject == "You are due 1.30 € for 2026-09"
    assert "You passed on 0.14 € to:\n- bob: 0.14 €" in body
    assert "Expected for you: 1.30 €" in body


# --- Once, after the posting commits, in French ---------------------------------


def test_posting_publishes_each_statement_once(month, django_capture_on_commit_callbacks):
    claire, sophie = month
    method(sophie)
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    assert Event.objects.filter(type=EventType.SUPPORTER_STATEMENT).count() == 1
    assert Event.objects.filter(type=EventType.PAYOUT_POSTED).count() == 1
    sent = [m for m in mail.outbox if "2026-09" in m.subject]
    assert {m.to[0] for m in sent} >= {sophie.email, claire.email}
    before = len(mail.outbox)
    # Publishing again (a retried task) stores and sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert publish(PayoutRun.objects.get()) == 0
    assert len(mail.outbox) == before
    keys = set(Event.objects.values_list("key", flat=True))
    assert {
        f"statement:2026-09:supporter:{sophie.pk}",
        f"statement:2026-09:creator:{claire.pk}",
    } <= keys


def test_the_statements_in_french(month):
    claire, sophie = month
    method(sophie)
    publish(posted())
    subject, body, html = rendered(EventType.SUPPORTER_STATEMENT, sophie, "fr")
    assert subject == "2026-09 : 1,60 € à payer pour vos flattrs"
    assert (
        "votre budget de 2,00 € a été partagé entre les 5 créations que vous avez flattrées" in body
    )
    assert "1,60 € est débité sur votre Visa se terminant par 4242." in body
    assert "- Orphan post: 0,40 € (promesse, non prélevée)" in body
    assert "0,40 € sont promis à des créations dont les créateurs" in body
    assert "1,60 € est débité sur votre Visa" in html
    subject, body, html = rendered(EventType.PAYOUT_POSTED, claire, "fr")
    assert subject == "Il vous revient 1,44 € pour 2026-09"
    assert "Net attendu: 1,44 €" in body
    assert "au fur et à mesure" in body and "au fur et à mesure" in html
