"""A statement proof from the stored nodes (CommitmentNode): one block of
lines rehashed and the path above it read, never the whole month's tree;
the answer is byte for byte the proof of the whole tree."""

import json

import pytest
from django.db import connection
from django.http import JsonResponse
from django.test.utils import CaptureQueriesContext

from payouts import transparency
from payouts.models import CommitmentNode, RunCommitment
from payouts.onward import onward_set
from tests.factories import UserFactory
from tests.payouts.helpers import flattr, supporter, thing
from tests.payouts.test_transparency import AUG, SEP, post_month, verify

pytestmark = pytest.mark.django_db


def whole_tree_proof(commitment: RunCommitment, user_id: int) -> dict | None:
    """The proof as built before the nodes were stored: the whole tree
    folded, the user's lines its targets."""
    run = commitment.run
    lines, fold = transparency._tree(run, commitment.secret, user_id=user_id)
    assert fold.root().hex() == commitment.merkle_root
    if not lines:
        return None
    previous = transparency.previous_commitment(commitment)
    return {
        "format": "open-flattr-statement-proof",
        "version": 1,
        "period": run.label,
        "hash": "sha256",
        "leaves": commitment.leaves,
        "merkle_root": commitment.merkle_root,
        "previous_root": commitment.previous_root,
        "previous_period": previous.run.label if previous else None,
        "root": commitment.root,
        "lines": [
            {
                "kind": kind,
                "user_id": user_id,
                "amounts": amounts,
                "salt": salt.hex(),
                "index": index,
                "path": fold.paths[index],
            }
            for index, kind, amounts, salt in lines
        ],
    }


@pytest.fixture
def boss():
    return UserFactory(is_staff=True, is_superuser=True)


def people_month(boss, period=AUG):
    """13 supporters, 4 creators who also give (a user with a supporter, a
    creator and an onward leaf) and onward shares between creators:
    24 leaves."""
    creators = [supporter(budget=300, balance=2000) for _ in range(4)]
    fans = [supporter(budget=200 + i, balance=1000) for i in range(13)]
    things = [thing(owner=c) for c in creators]
    for i, fan in enumerate([*fans, *creators]):
        flattr(fan, things[i % 4], period, minute=1)
        flattr(fan, things[(i + 1) % 4], period, minute=2)
    onward_set(creator=creators[0], entries=[(f"@{creators[1].username}", 20)])
    onward_set(creator=creators[2], entries=[(f"@{creators[0].username}", 10)])
    run = post_month(period, boss)
    return RunCommitment.objects.get(run=run), [*fans, *creators, boss]


@pytest.mark.parametrize("level", [0, 1, 2, 3, 8])
def test_the_stored_nodes_give_the_whole_trees_proof_byte_for_byte(
    boss, monkeypatch, tmp_path, level
):
    monkeypatch.setattr(transparency, "BLOCK_LEVEL", level)
    commitment, users = people_month(boss)
    assert commitment.leaves == 24  # 24, 12, 6, 3 (one carried up), 2, 1
    assert CommitmentNode.objects.filter(commitment=commitment).exists()
    kinds = set()
    for user in users:
        new = transparency.proof_for(commitment=commitment, user_id=user.pk)
        old = whole_tree_proof(commitment, user.pk)
        assert json.dumps(new, indent=2) == json.dumps(old, indent=2)
        if new is not None:
            kinds.add(tuple(line["kind"] for line in new["lines"]))
            result = verify(new, tmp_path, "--root", commitment.root)
            assert result.returncode == 0, result.stdout
    assert ("supporter", "creator", "onward") in kinds
    assert transparency.proof_for(commitment=commitment, user_id=boss.pk) is None


def test_the_downloaded_proof_is_the_whole_trees_answer(boss, client):
    commitment, users = people_month(boss)
    for user in users[10:16]:
        client.force_login(user)
        response = client.get("/months/2026-08/proof.json")
        assert response.status_code == 200
        expected = JsonResponse(
            whole_tree_proof(commitment, user.pk), json_dumps_params={"indent": 2}
        )
        assert response.content == expected.content


def test_a_commitment_without_nodes_stores_them_at_its_first_proof(boss, monkeypatch):
    monkeypatch.setattr(transparency, "BLOCK_LEVEL", 2)
    commitment, users = people_month(boss)
    stored = sorted(
        CommitmentNode.objects.filter(commitment=commitment).values_list(
            "level", "position", "hash", "kind", "user_id"
        )
    )
    CommitmentNode.objects.filter(commitment=commitment).delete()
    proofs = [transparency.proof_for(commitment=commitment, user_id=u.pk) for u in users]
    again = sorted(
        CommitmentNode.objects.filter(commitment=commitment).values_list(
            "level", "position", "hash", "kind", "user_id"
        )
    )
    assert [(a, b, bytes(c), d, e) for a, b, c, d, e in again] == [
        (a, b, bytes(c), d, e) for a, b, c, d, e in stored
    ]
    assert proofs == [whole_tree_proof(commitment, u.pk) for u in users]


def test_a_proof_reads_a_few_rows_whatever_the_months_size(boss, monkeypatch):
    """Queries do not grow with the lines: with blocks of 2 leaves a
    supporter's proof is the same handful of statements in a month of 24
    leaves and in one of 3."""
    monkeypatch.setattr(transparency, "BLOCK_LEVEL", 1)
    big, users = people_month(boss)
    fan = users[5]
    with CaptureQueriesContext(connection) as big_queries:
        assert transparency.proof_for(commitment=big, user_id=fan.pk)
    flattr(fan, thing(owner=users[0]), SEP)
    small = RunCommitment.objects.get(run=post_month(SEP, boss))
    with CaptureQueriesContext(connection) as small_queries:
        assert transparency.proof_for(commitment=small, user_id=fan.pk)
    assert len(big_queries) == len(small_queries) <= 7
    assert not any("ORDER BY supporter_id LIMIT 50000" in q["sql"] for q in big_queries)
