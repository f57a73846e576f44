#!/usr/bin/env python3
"""Check an Open Flattr statement proof against a published root.

    python3 scripts/verify_statement.py proof-2026-09.json [--root HEX] [--previous-root HEX]

The proof is the JSON file downloaded from "My months" or "Earnings". Its
lines are of three kinds: ``supporter`` (charity, flattrs, taken),
``creator`` (fee, flattrs, gross, net) and ``onward`` (``in``: cents you
received onward from other creators; ``out``: cents you passed on). For
each of your lines it recomputes the leaf from the amounts and the salt,
climbs the Merkle path, and checks that the Merkle root, chained with the
previous root, gives the month's root. Give ``--root`` (copied from
/transparency/) to check against what the platform published rather than
what the file says.

The chain follows posting order: the previous root is the root of the
commitment published just before this one, whatever its month (a month
posted late chains after newer months already published; the file's
``previous_period`` names that month, and the first commitment chains 64
zeros). Give ``--previous-root`` (that month's root on /transparency/) to
check the month is chained to it: every published root then fixes every
commitment before it, in the order they were published.

Standard library only. Exits 0 and prints "OK ..." when every line checks,
1 with one line saying what is wrong otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

CHAIN_PREFIX = b"open-flattr-chain-v1"
FIELDS = {
    "supporter": ("charity", "flattrs", "taken"),
    "creator": ("fee", "flattrs", "gross", "net"),
    # Cents received onward from other creators and passed on to others.
    "onward": ("in", "out"),
}


class ProofError(Exception):
    pass


def _hex(value, what: str, size: int = 32) -> bytes:
    try:
        data = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise ProofError(f"{what} is not hexadecimal")
    if len(data) != size:
        raise ProofError(f"{what} is not {size} bytes")
    return data


def line_text(kind: str, period: str, user_id: int, amounts: dict) -> str:
    if kind not in FIELDS or sorted(amounts) != list(FIELDS[kind]):
        raise ProofError(f"a {kind!r} line must have exactly {', '.join(FIELDS.get(kind, ()))}")
    for name, value in amounts.items():
        if type(value) is not int:
            raise ProofError(f"amount {name} is not a whole number of cents")
    parts = [kind, period, str(int(user_id))]
    parts += [f"{k}={amounts[k]}" for k in sorted(amounts)]
    return "|".join(parts)


def verify(proof: dict, root: str | None = None, previous: str | None = None) -> str:
    if proof.get("format") != "open-flattr-statement-proof" or proof.get("version") != 1:
        raise ProofError("not an Open Flattr statement proof (version 1)")
    merkle_root = _hex(proof.get("merkle_root"), "merkle_root")
    previous_root = _hex(proof.get("previous_root"), "previous_root")
    lines = proof.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ProofError("the proof has no lines")
    for number, line in enumerate(lines, 1):
        text = line_text(line["kind"], proof["period"], line["user_id"], line["amounts"])
        node = hashlib.sha256(b"\x00" + _hex(line["salt"], "salt") + text.encode()).digest()
        for step in line["path"]:
            sibling = _hex(step["hash"], "a path hash")
            if step["side"] == "left":
                node = hashlib.sha256(b"\x01" + sibling + node).digest()
            elif step["side"] == "right":
                node = hashlib.sha256(b"\x01" + node + sibling).digest()
            else:
                raise ProofError(f"line {number}: a path step is neither left nor right")
        if node != merkle_root:
            raise ProofError(
                f"line {number} ({line['kind']}) does not lead to the Merkle root: "
                "its amounts, salt or path were changed"
            )
    chained = hashlib.sha256(CHAIN_PREFIX + previous_root + merkle_root).hexdigest()
    if chained != proof.get("root"):
        raise ProofError(
            "the root in the file is not the Merkle root chained with the previous root"
        )
    if root is not None and chained != root.strip().lower():
        raise ProofError(f"the proof leads to {chained}, not to the published root {root}")
    if previous is not None and previous_root.hex() != previous.strip().lower():
        raise ProofError(
            f"the month is chained to {previous_root.hex()}, not to the root {previous}"
        )
    return chained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an Open Flattr statement proof.")
    parser.add_argument("proof", help="the proof JSON file")
    parser.add_argument("--root", help="the month's root as published on /transparency/")
    parser.add_argument(
        "--previous-root",
        help="the root published just before this month's (posting order), on /transparency/",
    )
    args = parser.parse_args(argv)
    try:
        with open(args.proof, encoding="utf-8") as handle:
            proof = json.load(handle)
        if not isinstance(proof, dict):
            raise ProofError("the file does not hold a JSON object")
        root = verify(proof, args.root, args.previous_root)
    except (OSError, ValueError) as exc:
        print(f"FAILED: cannot read the proof: {exc}")  # noqa: T201
        return 1
    except (ProofError, KeyError, TypeError, AttributeError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        print(f"FAILED: {reason}")  # noqa: T201
        return 1
    lines = ", ".join(line["kind"] for line in proof["lines"])
    print(f"OK: {proof['period']} ({lines}) is in the published root {root}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
