"""RFC 6962/9162 Merkle hashing and proofs: published vectors, every shape, wrong proofs."""

from __future__ import annotations

import hashlib

import pytest

from callvault.audit import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The reference leaves and tree heads of RFC 6962 test data (certificate-transparency).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOT_1 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
PROOF_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_published_vectors() -> None:
    leaves = [leaf_hash(x) for x in CT_LEAVES]
    assert root_hash([]) == hashlib.sha256(b"").digest()
    assert root_hash(leaves[:1]).hex() == ROOT_1
    assert root_hash(leaves).hex() == ROOT_8
    assert [p.hex() for p in inclusion_proof(0, leaves)] == PROOF_0_OF_8


def _recursive_root(d: list[bytes]) -> bytes:
    if len(d) == 1:
        return d[0]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _recursive_root(d[:k]) + _recursive_root(d[k:])).digest()


@pytest.mark.parametrize("n", range(1, 34))
def test_iterative_root_matches_the_recursive_definition(n: int) -> None:
    assert root_hash(_leaves(n)) == _recursive_root(_leaves(n))


def test_every_inclusion_proof_verifies_and_a_wrong_one_fails() -> None:
    for n in range(1, 20):
        leaves = _leaves(n)
        root = root_hash(leaves)
        for i in range(n):
            proof = inclusion_proof(i, leaves)
            assert verify_inclusion(leaves[i], i, n, proof, root)
            assert not verify_inclusion(leaves[(i + 1) % n], i, n, proof, root) or n == 1
            assert n == 1 or not verify_inclusion(leaves[i], i, n, proof, root_hash(leaves[:-1]))
            if proof:
                bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                assert not verify_inclusion(leaves[i], i, n, bad, root)
                assert not verify_inclusion(leaves[i], i, n, proof[:-1], root)
        assert not verify_inclusion(leaves[0], n, n, [], root)


def test_every_consistency_proof_verifies_and_a_wrong_one_fails() -> None:
    for n in range(1, 20):
        leaves = _leaves(n)
        new_root = root_hash(leaves)
        for m in range(0, n + 1):
            proof = consistency_proof(m, leaves)
            old_root = root_hash(leaves[:m])
            assert verify_consistency(m, n, old_root, new_root, proof), (m, n)
            if 0 < m < n:
                assert not verify_consistency(m, n, new_root, new_root, proof)
                assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
                flipped = [*proof[:-1], bytes([proof[-1][0] ^ 1]) + proof[-1][1:]]
                assert not verify_consistency(m, n, old_root, new_root, flipped)
                assert not verify_consistency(m, n, old_root, root_hash(leaves[:-1]), proof)


def test_a_rewritten_prefix_is_not_consistent() -> None:
    leaves = _leaves(10)
    old_root = root_hash(leaves[:6])
    rewritten = [*leaves[:3], leaf_hash(b"forged"), *leaves[4:]]
    proof = consistency_proof(6, rewritten)
    assert not verify_consistency(6, 10, old_root, root_hash(rewritten), proof)
