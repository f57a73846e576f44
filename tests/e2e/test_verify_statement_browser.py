"""The transparency page checks a supporter's proof file in the browser
(static/js/verify_statement.js, WebCrypto only) against the published root:
a real run's proofs say OK, tampered ones say what differs."""

import copy
import datetime as dt
import json

import pytest

from payouts import services, transparency
from payouts.models import RunCommitment
from payouts.onward import onward_set
from tests.factories import UserFactory, flattr, supporter, thing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUG = dt.date(2026, 8, 1)


def _posted_month():
    boss = UserFactory(is_staff=True, is_superuser=True)
    creator = UserFactory()
    fans = [supporter(budget=200 + i, balance=1000) for i in range(5)]
    song, post = thing(owner=creator), thing(owner=UserFactory())
    for fan in fans:
        flattr(fan, song, AUG, minute=1)
        flattr(fan, post, AUG, minute=2)
    run = services.payout_run_compute(period=AUG)
    services.payout_run_approve(run=run, actor=boss, queue=False)
    return services.payout_run_post(run_id=run.pk), creator, fans


def _forged_but_consistent(proof: dict) -> dict:
    """A proof that checks on its own (a one-leaf tree, correctly chained)
    but leads to a root the platform never published."""
    forged = copy.deepcopy(proof)
    line = forged["lines"][0]
    line["amounts"]["taken"] += 100
    text = transparency.line_text(
        kind=line["kind"], period=forged["period"], user_id=line["user_id"], amounts=line["amounts"]
    )
    leaf = transparency.leaf_hash(salt=bytes.fromhex(line["salt"]), text=text).hex()
    line["path"] = []
    forged["lines"] = [line]
    forged["merkle_root"] = leaf
    forged["root"] = transparency.chain_root(
        previous_root=forged["previous_root"], merkle_root=leaf
    )
    return forged


def _check(page, proof: dict | str) -> tuple[str, str]:
    body = proof if isinstance(proof, str) else json.dumps(proof)
    page.set_input_files(
        "#verify-file",
        files=[{"name": "proof.json", "mimeType": "application/json", "buffer": body.encode()}],
    )
    page.evaluate("document.getElementById('verify-result').removeAttribute('data-outcome')")
    page.click("#verify-form button[type=submit]")
    result = page.wait_for_selector("[data-testid=verify-result][data-outcome]")
    return result.get_attribute("data-outcome"), result.inner_text()


def test_browser_verifies_real_proofs_and_names_what_a_tampered_one_changed(
    browser_context, platform_url, client
):
    run, creator, fans = _posted_month()
    root = RunCommitment.objects.get(run=run).root
    proofs = {}
    for person in (fans[1], creator):
        client.force_login(person)
        response = client.get("/months/2026-08/proof.json")
        assert response.status_code == 200
        proofs[person.pk] = response.json()
    supporter_proof, creator_proof = proofs[fans[1].pk], proofs[creator.pk]

    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{platform_url}/transparency/")

    outcome, text = _check(page, supporter_proof)
    assert outcome == "ok", text
    assert text.startswith("OK: your lines of 2026-08 (supporter)") and root in text
    outcome, text = _check(page, creator_proof)
    assert outcome == "ok" and "(creator)" in text, text

    taken = copy.deepcopy(supporter_proof)
    taken["lines"][0]["amounts"]["taken"] += 1
    outcome, text = _check(page, taken)
    assert outcome == "line_mismatch"
    assert text.startswith("Line 1 (supporter) does not lead to the Merkle root")

    salt = copy.deepcopy(supporter_proof)
    salt["lines"][0]["salt"] = "00" * 32
    assert _check(page, salt)[0] == "line_mismatch"

    chained = copy.deepcopy(supporter_proof)
    chained["previous_root"] = "11" * 32
    assert _check(page, chained)[0] == "chain_mismatch"

    outcome, text = _check(page, _forged_but_consistent(supporter_proof))
    assert outcome == "root_differs"
    assert f"the root published for 2026-08 is {root}" in text

    other_month = copy.deepcopy(supporter_proof)
    other_month["period"] = "2026-07"
    assert _check(page, other_month)[0] == "line_mismatch"

    assert _check(page, "{not json")[0] == "unreadable"
    assert _check(page, {"format": "something else"})[0] == "not_proof"
    assert errors == []


def test_the_french_page_says_ok_in_french(browser_context, platform_url, client):
    run, creator, fans = _posted_month()
    client.force_login(fans[0])
    proof = client.get("/months/2026-08/proof.json").json()
    page = browser_context.new_page()
    page.set_extra_http_headers({"Accept-Language": "fr"})
    page.goto(f"{platform_url}/transparency/")
    outcome, text = _check(page, proof)
    assert outcome == "ok"
    assert text.startswith("OK : vos lignes de 2026-08 (supporter)"), text


def test_browser_verifies_an_onward_line_and_refuses_a_changed_one(
    browser_context, platform_url, client
):
    """A creator who passed on and received onward money (issue 26): the
    proof's onward line (in, out) checks in the browser; one cent more
    passed on does not."""
    boss = UserFactory(is_staff=True, is_superuser=True)
    claire, dora = UserFactory(), UserFactory()
    fan = supporter(budget=900, balance=5000)
    flattr(fan, thing(owner=claire), AUG)
    flattr(fan, thing(owner=dora), AUG, minute=1)
    onward_set(creator=claire, entries=[(f"@{dora.username}", 10)])
    onward_set(creator=dora, entries=[(f"@{claire.username}", 20)])
    run = services.payout_run_compute(period=AUG)
    services.payout_run_approve(run=run, actor=boss, queue=False)
    run = services.payout_run_post(run_id=run.pk)
    client.force_login(claire)
    proof = client.get("/months/2026-08/proof.json").json()
    [creator_line, onward_line] = proof["lines"]
    assert (creator_line["kind"], onward_line["kind"]) == ("creator", "onward")
    net = creator_line["amounts"]["net"]
    assert onward_line["amounts"] == {"in": net // 5, "out": net // 10}

    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{platform_url}/transparency/")
    outcome, text = _check(page, proof)
    assert outcome == "ok", text
    root = RunCommitment.objects.get(run=run).root
    assert text.startswith("OK: your lines of 2026-08 (creator, onward)") and root in text

    out = copy.deepcopy(proof)
    out["lines"][1]["amounts"]["out"] += 1
    outcome, text = _check(page, out)
    assert outcome == "line_mismatch"
    assert text.startswith("Line 2 (onward) does not lead to the Merkle root")
    assert errors == []
