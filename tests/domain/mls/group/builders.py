"""Builders for group tests: seeds, key packages and groups of several members that all agree."""

from __future__ import annotations

from typing import Sequence

from mlsgroup.domain.mls.credentials import BasicCredential
from mlsgroup.domain.mls.group import (
    GroupState,
    KeyPackageBundle,
    StagedCommit,
    commit,
    create_group,
    generate_key_package,
    join_group,
    merge_commit,
    process_message,
)

GROUP_ID = b"G" * 16
NOT_AFTER = 2**40


def seed(n: int) -> bytes:
    """A distinct 32-byte seed per number."""
    return n.to_bytes(4, "big") * 8


def key_package(name: bytes, n: int, suite: int = 1) -> KeyPackageBundle:
    return generate_key_package(suite, BasicCredential(name), seed(n), not_before=0, not_after=NOT_AFTER)


def group(names: Sequence[bytes], suite: int = 1, *, base: int = 1000, group_id: bytes = GROUP_ID) -> list[GroupState]:
    """The states of a group whose creator is ``names[0]`` and who added the others in one commit."""
    creator = create_group(suite, group_id, key_package(names[0], base, suite), seed=seed(base + 1))
    if len(names) == 1:
        return [creator]
    bundles = [key_package(name, base + 10 + i, suite) for i, name in enumerate(names[1:])]
    staged = commit(creator, adds=[b.key_package for b in bundles], seed=seed(base + 2))
    return [merge_commit(creator, staged)] + [join_group(staged.welcome, b) for b in bundles]


def deliver(staged: StagedCommit, committer: GroupState, others: Sequence[GroupState]) -> list[GroupState]:
    """Every member's state after ``staged`` (made by ``committer``) is merged: committer first."""
    merged = [merge_commit(committer, staged)]
    for other in others:
        processed = process_message(other, staged.message)
        merged.append(merge_commit(other, processed.output))
    return merged
