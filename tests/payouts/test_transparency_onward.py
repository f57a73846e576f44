"""The onward leaves of a run's Merkle commitment (issue 26): one per user
who passed on or received onward money, ``onward|YYYY-MM|user id|in=N|out=N``,
after the supporter and creator leaves; a month without onward shares keeps
the leaves and root of the format before them."""

import copy
from typing import cast

import pytest

from accounts.models import User
from payouts import services, transparency
from payouts.models import CreatorLine, RunCommitment
from payouts.onward import onward_set
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import P
from tests.payouts.test_transparency import python_merkle_root, verify

pytestmark = pytest.mark.django_db


def person(**kwargs) -> User:
    return cast(User, UserFactory(**kwargs))


def post(boss):
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=boss, queue=False)
    return services.payout_run_post(run_id=run.pk)


@pytest.fixture
def boss():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def month(settings, boss):
    """tests/payouts/test_onward.py's month, posted: Claire (net 540) passes
    on 54 to Bob, 178 to Dora's thing and 27 to an unclaimed thing and
    receives 135 from Dora (net 270, passes on 135, receives 178); Bob only
    receives (54)."""
    settings.FLATTR_FEE_PERCENT = 10
    claire = person(username="claire")
    dora = person(username="dora")
    bob = person(username="bob")
    sophie = supporter(budget=900, balance=5000, username="sophie")
    dora_thing = thing(owner=dora)
    for t in (thing(owner=claire), thing(owner=claire), dora_thing):
        flattr(sophie, t, P)
    onward_set(
        creator=claire,
        entries=[("@bob", 10), (str(dora_thing.pk), 33), ("https://lib.example.net/", 5)],
    )
    onward_set(creator=dora, entries=[("@claire", 50)])
    onward_set(creator=bob, entries=[("@claire", 50)])
    return post(boss), {"claire": claire, "dora": dora, "bob": bob, "sophie": sophie}


def python_merkle_root_with_onward(run, secret):
    """The definition in plain Python: supporter leaves, creator leaves,
    then one onward leaf per creator line with onward_in or onward_out
    above zero, each kind by user id; pairs hashed level by level, an odd
    last node carried up."""
    leaves = []
    for line in run.supporter_lines.order_by("supporter_id"):
        amounts = {"taken": line.taken, "flattrs": line.flattrs, "charity": line.charity}
        leaves.append(leaf("supporter", run, secret, line.supporter_id, amounts))
    creators = list(run.creator_lines.order_by("creator_id"))
    for line in creators:
        amounts = {"gross": line.gross, "fee": line.fee, "net": line.net, "flattrs": line.flattrs}
        leaves.append(leaf("creator", run, secret, line.creator_id, amounts))
    for line in creators:
        if line.onward_in > 0 or line.onward_out > 0:
            amounts = {"in": line.onward_in, "out": line.onward_out}
            leaves.append(leaf("onward", run, secret, line.creator_id, amounts))
    level = leaves
    while len(level) > 1:
        pairs = [transparency.node_hash(*level[i : i + 2]) for i in range(0, len(level) - 1, 2)]
        level = pairs + level[len(level) - len(level) % 2 :]
    return level[0].hex()


def leaf(kind, run, secret, user_id, amounts):
    text = "|".join(
        [kind, run.label, str(user_id), *(f"{k}={v}" for k, v in sorted(amounts.items()))]
    )
    salt = transparency.line_salt(secret=secret, kind=kind, user_id=user_id)
    return transparency.leaf_hash(salt=salt, text=text)


def test_the_root_commits_one_onward_leaf_per_giver_and_receiver(month):
    run, people = month
    commitment = RunCommitment.objects.get(run=run)
    onward = {
        line.creator_id: (line.onward_in, line.onward_out)
        for line in CreatorLine.objects.filter(run=run)
        if line.onward_in or line.onward_out
    }
    assert onward == {
        people["claire"].pk: (135, 259),
        people["dora"].pk: (178, 135),
        people["bob"].pk: (54, 0),
    }
    assert commitment.leaves == run.supporter_lines.count() + run.creator_lines.count() + 3
    assert commitment.merkle_root == python_merkle_root_with_onward(run, commitment.secret)
    # The onward leaves are committed: the old definition gives another root.
    assert commitment.merkle_root != python_merkle_root(run, commitment.secret)


@pytest.mark.parametrize("page", [1, 2])
def test_onward_leaves_read_a_page_at_a_time_give_the_same_tree(month, monkeypatch, page):
    run, people = month
    commitment = RunCommitment.objects.get(run=run)
    users = [u.pk for u in people.values()]
    whole = [transparency.proof_for(commitment=commitment, user_id=u) for u in users]
    monkeypatch.setattr(transparency, "PAGE", page)
    assert transparency._tree(run, commitment.secret)[1].root().hex() == commitment.merkle_root
    assert [transparency.proof_for(commitment=commitment, user_id=u) for u in users] == whole


def test_a_givers_and_a_receivers_proofs_verify_and_a_changed_amount_fails(month, client, tmp_path):
    run, people = month
    root = RunCommitment.objects.get(run=run).root
    proofs = {}
    for name in ("claire", "bob"):
        client.force_login(people[name])
        response = client.get(f"/months/{run.label}/proof.json")
        assert response.status_code == 200
        proofs[name] = response.json()

    claire, bob = proofs["claire"], proofs["bob"]
    assert [(line["kind"], line["amounts"]) for line in claire["lines"]] == [
        ("creator", {"fee": 60, "flattrs": 2, "gross": 600, "net": 540}),
        ("onward", {"in": 135, "out": 259}),
    ]
    assert [(line["kind"], line["amounts"]) for line in bob["lines"]] == [
        ("creator", {"fee": 0, "flattrs": 0, "gross": 0, "net": 0}),
        ("onward", {"in": 54, "out": 0}),
    ]
    for proof in (claire, bob):
        result = verify(proof, tmp_path, "--root", root)
        assert result.returncode == 0, result.stdout
        assert result.stdout.startswith(f"OK: {run.label} (creator, onward)")

    for person, name in ((claire, "out"), (claire, "in"), (bob, "in")):
        tampered = copy.deepcopy(person)
        tampered["lines"][1]["amounts"][name] += 1
        result = verify(tampered, tmp_path, "--root", root)
        assert result.returncode == 1
        assert result.stdout == "FAILED: line 2 (onward) does not lead to the Merkle root: " + (
            "its amounts, salt or path were changed\n"
        )
    # An onward line must carry exactly in and out.
    extra = copy.deepcopy(bob)
    extra["lines"][1]["amounts"]["net"] = 54
    result = verify(extra, tmp_path)
    assert (result.returncode, result.stdout) == (
        1,
        "FAILED: a 'onward' line must have exactly in, out\n",
    )


def test_a_supporter_has_no_onward_leaf(month):
    run, people = month
    commitment = RunCommitment.objects.get(run=run)
    proof = transparency.proof_for(commitment=commitment, user_id=people["sophie"].pk)
    assert proof is not None
    assert [line["kind"] for line in proof["lines"]] == ["supporter"]


def test_a_month_without_onward_shares_keeps_the_old_leaves_and_root(settings, boss):
    """A creator with a list whose shares floor to 0 cents passes nothing on:
    no onward leaf, and the root is the one the format before onward leaves
    gives (published roots stay verifiable)."""
    settings.FLATTR_FEE_PERCENT = 10
    ana, ben = person(), person()
    onward_set(creator=ana, entries=[(f"@{ben.username}", 1)])  # 1% of 84 cents: 0
    for i in range(3):
        flattr(supporter(budget=30 + i, balance=1000), thing(owner=ana), P)
    flattr(supporter(budget=70), thing(owner=ben), P)
    run = post(boss)
    commitment = RunCommitment.objects.get(run=run)
    assert not CreatorLine.objects.filter(run=run, onward_out__gt=0).exists()
    assert not CreatorLine.objects.filter(run=run, onward_in__gt=0).exists()
    assert commitment.leaves == run.supporter_lines.count() + run.creator_lines.count() == 6
    assert commitment.merkle_root == python_merkle_root(run, commitment.secret)
    proof = transparency.proof_for(commitment=commitment, user_id=ana.pk)
    assert proof is not None
    assert [line["kind"] for line in proof["lines"]] == ["creator"]
