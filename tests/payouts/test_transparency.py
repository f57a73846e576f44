import copy
import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, transaction

from payouts import services, transparency
from payouts.models import RunCommitment
from tests.concurrency import at_once
from tests.factories import UserFactory
from tests.payouts.helpers import flattr, supporter, thing

pytestmark = pytest.mark.django_db
AUG, SEP = dt.date(2026, 8, 1), dt.date(2026, 9, 1)
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_statement.py"


@pytest.fixture
def boss():
    return UserFactory(is_staff=True, is_superuser=True)


def post_month(period, boss, *people):
    run = services.payout_run_compute(period=period)
    services.payout_run_approve(run=run, actor=boss, queue=False)
    return services.payout_run_post(run_id=run.pk)


@pytest.fixture
def month(boss):
    creator = UserFactory()
    fans = [supporter(budget=200 + i, balance=1000) for i in range(5)]
    song, post = thing(owner=creator), thing(owner=UserFactory())
    for fan in fans:
        flattr(fan, song, AUG, minute=1)
        flattr(fan, post, AUG, minute=2)
    run = post_month(AUG, boss)
    return run, creator, fans


def verify(proof: dict, tmp_path, *extra) -> subprocess.CompletedProcess:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    # -I -S: the standard library only, no site-packages.
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), str(path), *extra],
        capture_output=True,
        text=True,
    )


def test_posting_publishes_a_root_over_every_line_chained_from_genesis(month):
    run, creator, fans = month
    commitment = RunCommitment.objects.get(run=run)
    assert commitment.leaves == run.supporter_lines.count() + run.creator_lines.count() == 7
    assert commitment.previous_root == transparency.GENESIS
    assert commitment.root == transparency.chain_root(
        previous_root=transparency.GENESIS, merkle_root=commitment.merkle_root
    )


def test_next_months_root_chains_the_previous_one(month, boss):
    run, creator, fans = month
    flattr(fans[0], thing(owner=creator), SEP)
    september = post_month(SEP, boss)
    first, second = RunCommitment.objects.get(run=run), RunCommitment.objects.get(run=september)
    assert second.previous_root == first.root
    assert second.root == transparency.chain_root(
        previous_root=first.root, merkle_root=second.merkle_root
    )


OCT = dt.date(2026, 10, 1)


def chain_in_order():
    """The commitments from the genesis root on, each the one chained to
    the one before; fails on a fork (two chained to one root)."""
    by_previous: dict[str, list[RunCommitment]] = {}
    for commitment in RunCommitment.objects.all():
        by_previous.setdefault(commitment.previous_root, []).append(commitment)
    forks = {root: [c.run.label for c in cs] for root, cs in by_previous.items() if len(cs) > 1}
    assert not forks, f"two commitments chained to one root: {forks}"
    chain, root = [], transparency.GENESIS
    while root in by_previous:
        [commitment] = by_previous[root]
        chain.append(commitment.run.label)
        root = commitment.root
    return chain


def test_an_older_month_posted_after_a_newer_one_chains_to_the_last_posted(
    month, boss, client, tmp_path
):
    """The payout demo closes the latest past month without a run, so an
    older month is often posted after newer ones: the chain follows posting
    order, never two months chained to one root."""
    run, creator, fans = month
    flattr(fans[0], thing(owner=creator), OCT)
    post_month(OCT, boss)
    flattr(fans[1], thing(owner=creator), SEP)
    september = post_month(SEP, boss)
    october = RunCommitment.objects.get(period=OCT)
    assert RunCommitment.objects.get(run=september).previous_root == october.root
    assert chain_in_order() == ["2026-08", "2026-10", "2026-09"]

    months = {m["period"]: m for m in client.get("/transparency.json").json()["months"]}
    assert [months[p]["previous_period"] for p in ("2026-08", "2026-10", "2026-09")] == [
        "",
        "2026-08",
        "2026-10",
    ]
    page = client.get("/transparency/").content.decode()
    assert f"published just before it, that of 2026-10: {october.root}" in page

    client.force_login(fans[1])
    proof = client.get("/months/2026-09/proof.json").json()
    assert (proof["previous_root"], proof["previous_period"]) == (october.root, "2026-10")
    result = verify(proof, tmp_path, "--previous-root", october.root)
    assert result.returncode == 0, result.stdout
    august = RunCommitment.objects.get(period=AUG).root
    result = verify(proof, tmp_path, "--previous-root", august)
    assert result.returncode == 1 and "not to the root" in result.stdout


def test_two_commitments_never_share_a_predecessor(month, boss):
    run, creator, fans = month
    flattr(fans[0], thing(owner=creator), SEP)
    september = services.payout_run_compute(period=SEP)
    august = RunCommitment.objects.get(run=run)
    for previous in (transparency.GENESIS, august.previous_root):
        with pytest.raises(IntegrityError), transaction.atomic():
            RunCommitment.objects.create(
                run=september,
                period=SEP,
                leaves=1,
                merkle_root="ab" * 32,
                previous_root=previous,
                root=transparency.chain_root(previous_root=previous, merkle_root="ab" * 32),
                secret="00" * 32,
            )
    assert chain_in_order() == ["2026-08"]


@pytest.mark.django_db(transaction=True)
def test_commitments_made_at_once_chain_one_after_the_other():
    creator = UserFactory()
    runs = []
    for period in (AUG, SEP, OCT):
        flattr(supporter(budget=300), thing(owner=creator), period)
        runs.append(services.payout_run_compute(period=period))

    def commit(i):
        with transaction.atomic():
            return transparency.run_commit(run=runs[i]).pk

    results = at_once(3, commit)
    assert all(isinstance(pk, int) for pk in results), results
    assert sorted(chain_in_order()) == ["2026-08", "2026-09", "2026-10"]


def test_a_posted_commitment_cannot_be_changed_or_deleted(month):
    run, *_ = month
    for change in (
        lambda: RunCommitment.objects.filter(run=run).update(root="0" * 64),
        lambda: RunCommitment.objects.filter(run=run).delete(),
    ):
        with pytest.raises((InternalError, ProgrammingError, IntegrityError)):
            with transaction.atomic():
                change()
    assert RunCommitment.objects.get(run=run).root != "0" * 64


def test_a_downloaded_proof_verifies_with_the_script(month, client, tmp_path):
    run, creator, fans = month
    client.force_login(fans[2])
    response = client.get("/months/2026-08/proof.json")
    assert response.status_code == 200
    proof = response.json()
    [line] = proof["lines"]
    assert line["kind"] == "supporter" and line["amounts"]["taken"] == 202
    root = RunCommitment.objects.get(run=run).root
    result = verify(proof, tmp_path, "--root", root)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK: 2026-08")


def test_a_creators_proof_verifies_too(month, client, tmp_path):
    run, creator, fans = month
    client.force_login(creator)
    proof = client.get("/months/2026-08/proof.json").json()
    assert [line["kind"] for line in proof["lines"]] == ["creator"]
    assert verify(proof, tmp_path).returncode == 0


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p["lines"][0]["amounts"].update(taken=p["lines"][0]["amounts"]["taken"] + 1),
        lambda p: p["lines"][0]["amounts"].update(flattrs=3),
        lambda p: p["lines"][0].update(user_id=p["lines"][0]["user_id"] + 1),
        lambda p: p["lines"][0].update(salt="00" * 32),
        lambda p: p["lines"][0]["path"].pop(),
        lambda p: p["lines"][0]["path"][0].update(
            side="left" if p["lines"][0]["path"][0]["side"] == "right" else "right"
        ),
        lambda p: p.update(previous_root="11" * 32),
        lambda p: p.update(period="2026-07"),
        lambda p: p.update(lines=[]),
        lambda p: p.pop("merkle_root"),
    ],
)
def test_any_edit_to_a_proof_breaks_it(month, client, tmp_path, edit):
    run, creator, fans = month
    client.force_login(fans[0])
    proof = client.get("/months/2026-08/proof.json").json()
    assert verify(proof, tmp_path).returncode == 0
    edited = copy.deepcopy(proof)
    edit(edited)
    result = verify(edited, tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED: ") and result.stdout.count("\n") == 1


def test_a_proof_against_another_root_fails(month, client, tmp_path):
    run, creator, fans = month
    client.force_login(fans[0])
    proof = client.get("/months/2026-08/proof.json").json()
    assert verify(proof, tmp_path, "--root", "ab" * 32).returncode == 1


def test_proof_downloads_refuse_months_without_a_line(month, client):
    client.force_login(UserFactory())
    assert client.get("/months/2026-08/proof.json").status_code == 404
    assert client.get("/months/2026-07/proof.json").status_code == 404
    assert client.get("/months/not-a-month/proof.json").status_code == 404


def test_transparency_page_shows_the_month_totals_and_root(month, client):
    run, creator, fans = month
    page = client.get("/transparency/").content.decode()
    assert "2026-08" in page and RunCommitment.objects.get(run=run).root in page
    assert "<svg" in page and "10%" in page
    data = client.get("/transparency.json").json()
    [august] = data["months"]
    assert august["taken"] == run.taken == 200 + 201 + 202 + 203 + 204
    assert august["supporters_gave"] == 5 and august["things_flattred"] == 2
    assert august["fee"] + august["paid_to_creators"] == run.taken
    rows = list(csv.DictReader(io.StringIO(client.get("/transparency.csv").content.decode())))
    assert rows[0]["period"] == "2026-08" and rows[0]["root"] == august["root"]


def python_merkle_root(run, secret):
    """The commitment's definition, in plain Python: the lines' leaves in
    order (supporters then creators, by user id), pairs hashed level by
    level, an odd last node carried up."""
    leaves = []
    for kind, lines, fields in (
        ("supporter", run.supporter_lines.order_by("supporter_id"), transparency.SUPPORTER_FIELDS),
        ("creator", run.creator_lines.order_by("creator_id"), transparency.CREATOR_FIELDS),
    ):
        for line in lines:
            user_id = getattr(line, f"{kind}_id")
            text = transparency.line_text(
                kind=kind,
                period=run.label,
                user_id=user_id,
                amounts={name: getattr(line, name) for name in fields},
            )
            salt = transparency.line_salt(secret=secret, kind=kind, user_id=user_id)
            leaves.append(transparency.leaf_hash(salt=salt, text=text))
    level = leaves
    while len(level) > 1:
        pairs = [transparency.node_hash(*level[i : i + 2]) for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(level) - len(level) % 2 :]
    return level[0].hex()


def test_the_root_built_in_the_database_is_the_python_definitions(month, boss):
    run, creator, fans = month  # 7 lines: an odd node is carried up
    commitment = RunCommitment.objects.get(run=run)
    assert commitment.merkle_root == python_merkle_root(run, commitment.secret)
    # One line more or less changes the shape of the tree.
    flattr(fans[0], thing(owner=creator), SEP)
    september = post_month(SEP, boss)
    second = RunCommitment.objects.get(run=september)
    assert second.leaves == 2
    assert second.merkle_root == python_merkle_root(september, second.secret)


@pytest.mark.parametrize("block", [1, 2, 4, 8])
@pytest.mark.parametrize("batch", [1, 3, 8])
def test_the_streamed_fold_is_the_tree_of_every_level(block, batch):
    """Folded a block at a time, any number of leaves given in batches of
    any size gives the root and every path of the whole tree held level by
    level (odd nodes carried up)."""
    for count in range(0, 40):
        leaves = [bytes([i]) * 32 for i in range(count)]
        levels = transparency.merkle_levels(leaves)
        fold = transparency.MerkleFold(block=block)
        for start in range(0, count, batch):
            part = leaves[start : start + batch]
            # Every other leaf is a target: paths are kept for those only.
            fold.extend(part, targets=[i for i in range(len(part)) if (start + i) % 2])
        assert fold.root() == levels[-1][0], (count, block)
        assert fold.count == count
        assert sorted(fold.paths) == list(range(1, count, 2))
        for index, path in fold.paths.items():
            assert path == transparency.merkle_path(levels, index), (count, index)


def test_a_block_is_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        transparency.MerkleFold(block=6)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_lines_read_a_page_at_a_time_give_the_same_tree_and_proofs(month, monkeypatch, page):
    run, creator, fans = month  # 5 supporter lines and 2 creator lines
    commitment = RunCommitment.objects.get(run=run)
    whole = [transparency.proof_for(commitment=commitment, user_id=u.pk) for u in (*fans, creator)]
    monkeypatch.setattr(transparency, "PAGE", page)
    assert transparency._tree(run, commitment.secret)[1].root().hex() == commitment.merkle_root
    paged = [transparency.proof_for(commitment=commitment, user_id=u.pk) for u in (*fans, creator)]
    assert paged == whole
    assert all(proof["lines"] for proof in paged)


def test_the_command_line_verifier_downloads_as_a_python_file(client):
    response = client.get("/transparency/verify_statement.py")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-python; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="verify_statement.py"'
    assert b"".join(response.streaming_content) == SCRIPT.read_bytes()


def test_transparency_page_offers_the_browser_check_with_each_root(month, client):
    run, creator, fans = month
    page = client.get("/transparency/").content.decode()
    root = RunCommitment.objects.get(run=run).root
    assert f'data-root-period="2026-08">{root}</code>' in page
    assert 'id="verify-form"' in page and "/static/js/verify_statement.js" in page
    assert 'href="/transparency/verify_statement.py"' in page
    messages = json.loads(
        page.split('id="verify-messages" type="application/json">')[1].split("<")[0]
    )
    assert messages["ok"].startswith("OK: your lines of {period}")


def test_my_months_and_earnings_link_to_the_browser_check(month, client):
    run, creator, fans = month
    client.force_login(fans[0])
    assert 'href="/transparency/#verify"' in client.get("/months/").content.decode()
    client.force_login(creator)
    assert 'href="/transparency/#verify"' in client.get("/earnings/").content.decode()
