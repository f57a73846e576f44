"""Transparency: a Merkle commitment for every posted run and proofs for
each person's lines (the month figures and chart shown on /transparency/
are ``payouts/transparency_report.py``).

Leaves are ``SHA-256(0x00 || salt || line)`` where ``line`` is the
canonical text ``kind|YYYY-MM|user id|name=value|...`` (amounts in cents,
names sorted) and ``salt`` is ``HMAC-SHA256(run secret, kind:user id)``: a
proof reveals one person's salt and nobody else's. Three kinds, in this
order, each by user id:

- ``supporter``: one per supporter line, ``charity``, ``flattrs``, ``taken``;
- ``creator``: one per creator line, ``fee``, ``flattrs``, ``gross``, ``net``
  (net = gross less fee, before anything is passed on);
- ``onward``: one per creator line that passed on or received onward money
  (``onward_out > 0`` or ``onward_in > 0``): ``in`` (cents received onward)
  and ``out`` (cents passed on), e.g. ``onward|2026-08|42|in=135|out=259``
  salted with ``HMAC(run secret, "onward:42")``. A run without onward
  shares has no onward leaf: its leaves and root are those of the format
  before the kind existed.
 Inner nodes are
``SHA-256(0x01 || left || right)``; an odd node is carried up unchanged.
The published root is ``SHA-256("open-flattr-chain-v1" || previous root ||
Merkle root)``, where the previous root is the root of the commitment
posted just before, whatever its month (posting order: a month posted late
chains after newer months already published); the first commitment chains
64 zeros. Each root fixes every commitment published before it, in the
order they were published: one chain, never a fork.

``scripts/verify_statement.py`` checks a proof with the standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from payouts.models import CommitmentNode, PayoutRun, RunCommitment

CHAIN_PREFIX = b"open-flattr-chain-v1"
# Lines read (and hashed) at a time when building a run's tree.
PAGE = 50_000
GENESIS = "0" * 64
SUPPORTER_FIELDS = ("taken", "flattrs", "charity")
CREATOR_FIELDS = ("gross", "fee", "net", "flattrs")
# An onward leaf's amounts and the creator line's columns they come from.
ONWARD_FIELDS = {"in": "onward_in", "out": "onward_out"}
# Stored nodes start at this level: a proof rehashes one block of
# 2**BLOCK_LEVEL leaves and reads the rest of its path (CommitmentNode).
BLOCK_LEVEL = 8
# (kind, table, id column, amount names sorted, their columns, which rows),
# in leaf order; a kind's number in CommitmentNode is its place here.
SIDES = (
    (
        "supporter",
        "payouts_supporterline",
        "supporter_id",
        sorted(SUPPORTER_FIELDS),
        sorted(SUPPORTER_FIELDS),
        "",
    ),
    (
        "creator",
        "payouts_creatorline",
        "creator_id",
        sorted(CREATOR_FIELDS),
        sorted(CREATOR_FIELDS),
        "",
    ),
    (
        "onward",
        "payouts_creatorline",
        "creator_id",
        sorted(ONWARD_FIELDS),
        [ONWARD_FIELDS[name] for name in sorted(ONWARD_FIELDS)],
        " AND (onward_in > 0 OR onward_out > 0)",
    ),
)


def line_text(*, kind: str, period: str, user_id: int, amounts: dict[str, int]) -> str:
    return "|".join(
        [kind, period, str(user_id), *(f"{k}={int(v)}" for k, v in sorted(amounts.items()))]
    )


def line_salt(*, secret: str, kind: str, user_id: int) -> bytes:
    return hmac.new(bytes.fromhex(secret), f"{kind}:{user_id}".encode(), hashlib.sha256).digest()


def leaf_hash(*, salt: bytes, text: str) -> bytes:
    return hashlib.sha256(b"\x00" + salt + text.encode()).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def chain_root(*, previous_root: str, merkle_root: str) -> str:
    data = CHAIN_PREFIX + bytes.fromhex(previous_root) + bytes.fromhex(merkle_root)
    return hashlib.sha256(data).hexdigest()


def merkle_levels(leaves: list[bytes]) -> list[list[bytes]]:
    levels = [leaves or [hashlib.sha256(b"").digest()]]
    # node_hash, inlined: a million calls at posting.
    sha256 = hashlib.sha256
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [
            sha256(b"\x01" + below[i] + below[i + 1]).digest() for i in range(0, len(below) - 1, 2)
        ]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def merkle_path(levels: list[list[bytes]], index: int) -> list[dict[str, str]]:
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(
                {"side": "left" if sibling < index else "right", "hash": level[sibling].hex()}
            )
        index //= 2
    return path


class MerkleFold:
    """The Merkle root of leaves added in order, and the paths of the leaves
    added as targets: the tree of ``merkle_levels`` (an odd node carried up
    unchanged), held as one block of leaves and one node per level, never
    whole (ten million lines at a 10M payday). A full block is an aligned
    subtree of the whole tree: its root is pushed on a stack of complete
    subtrees, merged with its left neighbour while they are of one level;
    the last, partial block and the stack fold from the right at the end."""

    def __init__(self, *, block: int = 1 << 16, keep: int | None = None) -> None:
        if block < 1 or block & (block - 1):
            raise ValueError("a block is a power of two")
        if keep is not None and not 0 <= keep <= block.bit_length() - 1:
            raise ValueError("the level kept is within a block")
        self.block = block
        # The nodes of level ``keep``, in order (an odd node carried up).
        self.keep = keep
        self.kept: list[bytes] = []
        self.count = 0
        self.paths: dict[int, list[dict[str, str]]] = {}
        self._base = 0  # the index of the block's first leaf
        self._leaves: list[bytes] = []
        self._targets: list[int] = []
        self._stack: list[tuple[int, bytes, list[int]]] = []  # (level, hash, targets below)

    def extend(self, leaves: list[bytes], *, targets: Iterable[int] = ()) -> None:
        """Add ``leaves`` in order; ``targets``: positions in ``leaves``
        whose paths are wanted."""
        self._targets += [self.count + i for i in targets]
        self.count += len(leaves)
        start = 0
        while start < len(leaves):
            room = self.block - len(self._leaves)
            self._leaves += leaves[start : start + room]
            start += room
            if len(self._leaves) == self.block:
                self._flush()

    def root(self) -> bytes:
        """The root, once every leaf is added (the fold ends here)."""
        if self._leaves or not self._stack:
            self._flush()
        node = self._stack.pop()
        while self._stack:
            node = self._merge(self._stack.pop(), node)
        self._stack = [node]
        return node[1]

    def _flush(self) -> None:
        levels = merkle_levels(self._leaves)
        if self.keep is not None:
            self.kept += levels[min(self.keep, len(levels) - 1)]
        block = [index for index in self._targets if index < self._base + len(self._leaves)]
        for index in block:
            self.paths[index] = merkle_path(levels, index - self._base)
        node = (len(levels) - 1, levels[-1][0], block)
        while self._stack and self._stack[-1][0] == node[0]:
            node = self._merge(self._stack.pop(), node)
        self._stack.append(node)
        self._base += len(self._leaves)
        self._leaves = []
        self._targets = self._targets[len(block) :]

    def _merge(
        self, left: tuple[int, bytes, list[int]], right: tuple[int, bytes, list[int]]
    ) -> tuple[int, bytes, list[int]]:
        for index in right[2]:
            self.paths[index].append({"side": "left", "hash": left[1].hex()})
        for index in left[2]:
            self.paths[index].append({"side": "right", "hash": right[1].hex()})
        return max(left[0], right[0]) + 1, node_hash(left[1], right[1]), left[2] + right[2]


def _tree(
    run: PayoutRun,
    secret: str,
    *,
    user_id: int | None = None,
    keep: int | None = None,
    firsts: list[tuple[int, int]] | None = None,
) -> tuple[list[tuple[int, str, dict[str, int], bytes]], MerkleFold]:
    """The lines of ``user_id`` as ``(index, kind, amounts, salt)``, and the
    run's lines folded into their Merkle tree (their paths its targets).
    With ``keep``, the fold keeps that level's nodes; ``firsts`` receives
    the ``(kind number, user id)`` of the first leaf of every block of
    ``2**keep`` leaves.

    ``line_salt``, ``line_text`` and ``leaf_hash`` of every line, unrolled:
    the lines are read in leaf order (supporters, creators, then the onward
    leaves of the creator lines that passed on or received, by user id) a
    page at a time, their amounts already in the text's (sorted) order,
    and hashed with the standard library's one-shot HMAC
    (tests/payouts/test_transparency.py checks the root against those
    definitions and the proofs against the independent verifier)."""
    mine: list[tuple[int, str, dict[str, int], bytes]] = []
    fold = MerkleFold(keep=keep)
    key = bytes.fromhex(secret)
    step = 1 << (keep or 0)
    # A page of lines at a time, by key (user ids after the last page's): a
    # million lines never sit at once in the client library's memory (a
    # server-side cursor does the same 20-40% slower).
    with connection.cursor() as cursor:
        for number, (kind, table, id_column, names, columns, where) in enumerate(SIDES):
            page = (
                f"SELECT {id_column}, {', '.join(columns)} FROM {table}"  # noqa: S608 - constants
                f" WHERE run_id = %s AND {id_column} > %s{where}"
                f" ORDER BY {id_column} LIMIT {PAGE}"
            )
            after = 0
            while True:
                cursor.execute(page, [run.pk, after])
                if not (rows := cursor.fetchall()):
                    break
                after = rows[-1][0]
                leaves = _leaves(key, run.label, number, rows)
                if firsts is not None:
                    firsts += [
                        (number, rows[i][0]) for i in range((-fold.count) % step, len(rows), step)
                    ]
                targets = [i for i, row in enumerate(rows) if row[0] == user_id]
                for i in targets:
                    salt = hmac.digest(key, f"{kind}:{rows[i][0]}".encode(), "sha256")
                    amounts = dict(zip(names, rows[i][1:], strict=True))
                    mine.append((fold.count + i, kind, amounts, salt))
                fold.extend(leaves, targets=targets)
    return mine, fold


def _leaves(key: bytes, period: str, number: int, rows: list[tuple]) -> list[bytes]:
    """The leaf hashes of ``rows`` (user id, then the amounts in name
    order) of kind ``SIDES[number]``."""
    kind, names = SIDES[number][0], SIDES[number][3]
    text = "|".join((kind, period, "{}", *(f"{name}={{}}" for name in names)))
    prefix = f"{kind}:"
    digest, sha256 = hmac.digest, hashlib.sha256
    return [
        sha256(
            b"\x00"
            + digest(key, f"{prefix}{row[0]}".encode(), "sha256")
            + text.format(*row).encode()
        ).digest()
        for row in rows
    ]


def _level_sizes(leaves: int) -> list[int]:
    """How many nodes each level of a tree of ``leaves`` leaves has."""
    sizes = [max(leaves, 1)]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def _nodes(
    commitment: RunCommitment, kept: list[bytes], firsts: list[tuple[int, int]]
) -> list[CommitmentNode]:
    """The stored nodes: level ``BLOCK_LEVEL`` (``kept``, each naming its
    block's first leaf) and every level above it, up to the Merkle root."""
    if len(kept) != len(firsts):
        raise RuntimeError(f"{len(kept)} block nodes for {len(firsts)} blocks")
    levels = merkle_levels(kept)
    if levels[-1][0].hex() != commitment.merkle_root:
        raise RuntimeError(f"the lines of {commitment.run.label} no longer match their commitment")
    nodes = [
        CommitmentNode(
            commitment=commitment,
            level=BLOCK_LEVEL,
            position=i,
            hash=node,
            kind=first[0],
            user_id=first[1],
        )
        for i, (node, first) in enumerate(zip(kept, firsts, strict=True))
    ]
    nodes += [
        CommitmentNode(commitment=commitment, level=BLOCK_LEVEL + up, position=i, hash=node)
        for up, level in enumerate(levels[1:], start=1)
        for i, node in enumerate(level)
    ]
    return nodes


def store_tree(commitment: RunCommitment) -> None:
    """Store the nodes a proof reads (CommitmentNode) for a commitment
    made before they were kept: the whole tree is rebuilt once."""
    firsts: list[tuple[int, int]] = []
    _mine, fold = _tree(commitment.run, commitment.secret, keep=BLOCK_LEVEL, firsts=firsts)
    fold.root()
    CommitmentNode.objects.bulk_create(
        _nodes(commitment, fold.kept, firsts), batch_size=5000, ignore_conflicts=True
    )


def _figures(run: PayoutRun) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM payouts_thingline WHERE run_id = %s AND amount > 0",
            [run.pk],
        )
        things = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM payouts_supporterline WHERE run_id = %s AND taken > 0",
            [run.pk],
        )
        gave = cursor.fetchone()[0]
    return {"things_flattred": things, "supporters_gave": gave}


def run_commit(*, run: PayoutRun) -> RunCommitment:
    """Compute and store the run's commitment (once; call inside posting)."""
    existing = RunCommitment.objects.filter(run=run).first()
    if existing is not None:
        return existing
    secret = secrets.token_hex(32)
    firsts: list[tuple[int, int]] = []
    _mine, fold = _tree(run, secret, keep=BLOCK_LEVEL, firsts=firsts)
    merkle_root = fold.root().hex()
    figures = _figures(run)
    with transaction.atomic():
        # Posting order: the commitment chains to the one committed just
        # before it, whatever its month (a month posted late chains after
        # the newer months already published, never beside them). The lock,
        # held to the end of the posting transaction, makes a concurrent
        # commit wait and then chain to this one; the unique index on
        # previous_root (migration 0011) refuses two chained to one root.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE payouts_runcommitment IN SHARE ROW EXCLUSIVE MODE")
        existing = RunCommitment.objects.filter(run=run).first()
        if existing is not None:
            return existing
        previous = RunCommitment.objects.order_by("-id").first()
        previous_root = previous.root if previous else GENESIS
        commitment = RunCommitment.objects.create(
            run=run,
            period=run.period,
            leaves=fold.count,
            merkle_root=merkle_root,
            previous_root=previous_root,
            root=chain_root(previous_root=previous_root, merkle_root=merkle_root),
            secret=secret,
            figures=figures,
        )
        if fold.count:
            CommitmentNode.objects.bulk_create(
                _nodes(commitment, fold.kept, firsts), batch_size=5000
            )
        return commitment


def previous_commitment(commitment: RunCommitment) -> RunCommitment | None:
    """The commitment this one chains to (posted just before it), if any."""
    if commitment.previous_root == GENESIS:
        return None
    return RunCommitment.objects.filter(root=commitment.previous_root).first()


def _block_lines(
    commitment: RunCommitment, user_id: int
) -> list[tuple[int, str, dict[str, int], bytes, list[dict[str, str]]]] | None:
    """The user's lines as ``(index, kind, amounts, salt, path)`` from the
    stored nodes: for each kind, the block whose first leaf comes before
    the user's line is read and rehashed (at most 2**BLOCK_LEVEL lines),
    its root checked against the stored node, and the path above it read
    from the stored levels. None when the commitment has no stored nodes."""
    run, key = commitment.run, bytes.fromhex(commitment.secret)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k.kind, b.position, b.kind, b.user_id,"
            " EXISTS (SELECT FROM payouts_commitmentnode WHERE commitment_id = %s)"
            " FROM unnest(ARRAY[0, 1, 2]) AS k(kind) LEFT JOIN LATERAL ("
            "  SELECT position, kind, user_id FROM payouts_commitmentnode n"
            "  WHERE n.commitment_id = %s AND n.kind IS NOT NULL"
            "  AND (n.kind, n.user_id) <= (k.kind, %s)"
            "  ORDER BY n.kind DESC, n.user_id DESC LIMIT 1"
            " ) b ON true ORDER BY k.kind",
            [commitment.pk, commitment.pk, user_id],
        )
        found = cursor.fetchall()
        if not found[0][4]:
            return None
        sizes = _level_sizes(commitment.leaves)
        blocks: dict[int, list[tuple[int, tuple]]] = {}
        mine = []
        for number, position, first_kind, first_user, _stored in found:
            if position is None:
                continue
            if position not in blocks:
                blocks[position] = _block_rows(
                    cursor, run, position, first_kind, first_user, sizes[0]
                )
            rows = blocks[position]
            local = next(
                (i for i, (n, row) in enumerate(rows) if n == number and row[0] == user_id), None
            )
            if local is not None:
                mine.append((number, position, local))
        if not mine:
            return []
        wanted = {(BLOCK_LEVEL, position) for _n, position, _l in mine}
        for _n, position, local in mine:
            index = (position << BLOCK_LEVEL) + local
            for level in range(BLOCK_LEVEL, len(sizes) - 1):
                if (sibling := (index >> level) ^ 1) < sizes[level]:
                    wanted.add((level, sibling))
        places = sorted(wanted)
        cursor.execute(
            "SELECT level, position, hash FROM payouts_commitmentnode"
            " WHERE commitment_id = %s AND (level, position) IN"
            " (SELECT * FROM unnest(%s::smallint[], %s::integer[]))",
            [commitment.pk, [level for level, _p in places], [p for _l, p in places]],
        )
        stored = {(level, position): bytes(node) for level, position, node in cursor.fetchall()}
    lines = []
    for number, position, local in mine:
        rows = blocks[position]
        levels = merkle_levels(
            [
                leaf
                for n in range(len(SIDES))
                for leaf in _leaves(key, run.label, n, [row for kind, row in rows if kind == n])
            ]
        )
        if levels[-1][0] != stored.get((BLOCK_LEVEL, position)):
            raise RuntimeError(f"the lines of {run.label} no longer match their commitment")
        index = (position << BLOCK_LEVEL) + local
        path = merkle_path(levels, local)
        for level in range(BLOCK_LEVEL, len(sizes) - 1):
            sibling = (index >> level) ^ 1
            if sibling < sizes[level]:
                side = "left" if sibling < index >> level else "right"
                path.append({"side": side, "hash": stored[(level, sibling)].hex()})
        kind, names = SIDES[number][0], SIDES[number][3]
        row = rows[local][1]
        lines.append(
            (
                index,
                kind,
                dict(zip(names, row[1:], strict=True)),
                hmac.digest(key, f"{kind}:{user_id}".encode(), "sha256"),
                path,
            )
        )
    return lines


def _block_rows(
    cursor: CursorWrapper,
    run: PayoutRun,
    position: int,
    first_kind: int,
    first_user: int,
    leaves: int,
) -> list[tuple[int, tuple]]:
    """The lines of block ``position`` as ``(kind number, row)`` in leaf
    order, from its first leaf on (a block may run over into the next
    kinds)."""
    count = min(1 << BLOCK_LEVEL, leaves - (position << BLOCK_LEVEL))
    rows: list[tuple[int, tuple]] = []
    for number in range(first_kind, len(SIDES)):
        if len(rows) >= count:
            break
        _kind, table, id_column, _names, columns, where = SIDES[number]
        cursor.execute(
            f"SELECT {id_column}, {', '.join(columns)} FROM {table}"  # noqa: S608 - constants
            f" WHERE run_id = %s AND {id_column} >= %s{where}"
            f" ORDER BY {id_column} LIMIT {count - len(rows)}",
            [run.pk, first_user if number == first_kind else 0],
        )
        rows += [(number, row) for row in cursor.fetchall()]
    return rows


def proof_for(*, commitment: RunCommitment, user_id: int) -> dict | None:
    """The user's lines in the run with their salts and Merkle paths, or None
    when the user has no line in it. Reads one block of lines per kind and
    the stored nodes above it (stored at posting; ``store_tree`` stores
    them once for a commitment made before they were)."""
    run = commitment.run
    if not commitment.leaves:
        return None
    found = _block_lines(commitment, user_id)
    if found is None:
        store_tree(commitment)
        found = _block_lines(commitment, user_id) or []
    mine = [
        {
            "kind": kind,
            "user_id": user_id,
            "amounts": amounts,
            "salt": salt.hex(),
            "index": index,
            "path": path,
        }
        for index, kind, amounts, salt, path in found
    ]
    if not mine:
        return None
    return {
        "format": "open-flattr-statement-proof",
        "version": 1,
        "period": run.label,
        "hash": "sha256",
        "leaves": commitment.leaves,
        "merkle_root": commitment.merkle_root,
        "previous_root": commitment.previous_root,
        # The month whose root previous_root is (posted just before; None
        # for the first commitment): informative, the verifier needs only
        # the roots.
        "previous_period": previous.run.label
        if (previous := previous_commitment(commitment))
        else None,
        "root": commitment.root,
        "lines": mine,
    }
