"""``mlsgroup bench mls``: our implementation's half of every row (RFC 9420 sections 11-12, 6.3).

Our states are immutable values, so a row that must start from the same state every sample simply
reuses it; nothing needs reloading. Commits are PublicMessages (``handshake_wire_format="public"``)
and adds-only commits carry no UpdatePath, as mls-rs sends them, so both sides do the same work;
our committer merges its staged commit where mls-rs processes its own. Seeds are fresh random bytes
drawn before the timed region.
"""

from __future__ import annotations

import os
from typing import Any

from mlsgroup.domain.mls import group as mls
from mlsgroup.domain.mls.credentials import BasicCredential
from mlsgroup.domain.mls.group.key_package_bundles import MAX_U64

from .mls_sides import EXPORTER_LABEL, Facts, Trial

__all__ = ["OursSide"]

_SUITE = 1
_CONTEXT = b"row"
_WIRE_FORMAT = "public"


def _seed() -> bytes:
    return os.urandom(32)


def _bundle(name: bytes) -> mls.KeyPackageBundle:
    return mls.generate_key_package(_SUITE, BasicCredential(name), _seed(), not_before=0, not_after=MAX_U64)


class OursSide:
    """Ours: one creator, one second member and a pool of KeyPackage bundles."""

    name = "ours"

    def __init__(self, pool: int) -> None:
        self._creator = _bundle(b"ours creator").signer
        self._second = _bundle(b"ours second")
        self._bundles = [_bundle(b"ours member %d" % i) for i in range(pool + 1)]
        self._kp_messages = [b.message() for b in self._bundles]
        self._welcomes: dict[int, bytes] = {}
        self._committed: dict[int, mls.GroupState] = {}
        self._fixtures: dict[object, Any] = {}

    @staticmethod
    def _exporter(state: mls.GroupState) -> bytes:
        return mls.export_secret(state, EXPORTER_LABEL, _CONTEXT, 32)

    def _commit(self, state: mls.GroupState, seed: bytes, **changes: Any) -> tuple[mls.GroupState, mls.StagedCommit]:
        staged = mls.commit(state, seed=seed, handshake_wire_format=_WIRE_FORMAT, **changes)
        return mls.merge_commit(state, staged), staged

    def _pair(self) -> tuple[mls.GroupState, mls.GroupState]:
        state = mls.create_group(_SUITE, os.urandom(16), self._creator, seed=_seed())
        state, staged = self._commit(state, _seed(), adds=[self._second.key_package])
        return state, mls.join_group(staged.welcome, self._second)

    def _kps(self, start: int, stop: int) -> list:
        """Freshly decoded KeyPackages, as a committer gets them from the wire (no warm caches)."""
        return [mls.decode_key_package_message(m) for m in self._kp_messages[start:stop]]

    def _facts(self, state: mls.GroupState, other: mls.GroupState) -> Facts:
        return Facts(len(state.members()), self._exporter(state) == self._exporter(other))

    # -- rows -----------------------------------------------------------------------------------

    def create_add(self, n: int) -> Trial:
        kps, group_id, seeds = self._kps(0, n), os.urandom(16), (_seed(), _seed())

        def run() -> tuple[mls.GroupState, mls.StagedCommit]:
            state = mls.create_group(_SUITE, group_id, self._creator, seed=seeds[0])
            return self._commit(state, seeds[1], adds=kps)

        def check(result: tuple[mls.GroupState, mls.StagedCommit]) -> Facts:
            state, staged = result
            self._welcomes[n], self._committed[n] = staged.welcome, state
            return self._facts(state, mls.join_group(staged.welcome, self._bundles[0]))

        return Trial(run, check)

    def join(self, n: int) -> Trial:
        welcome, bundle = self._welcomes[n], self._bundles[n - 1]

        def run() -> mls.GroupState:
            return mls.join_group(welcome, bundle)

        return Trial(run, lambda state: self._facts(state, self._committed[n]))

    def process_add(self, n: int) -> Trial:
        key = ("process", n)
        if key not in self._fixtures:
            committer, other = self._pair()
            committer, staged = self._commit(committer, _seed(), adds=self._kps(0, n))
            self._fixtures[key] = (committer, other, staged.message)
        committer, other, message = self._fixtures[key]

        def run() -> mls.GroupState:
            processed = mls.process_message(other, message)
            return mls.merge_commit(processed.new_state, processed.output)

        return Trial(run, lambda state: self._facts(state, committer))

    def add_one(self, members: int) -> Trial:
        key = ("large", members)
        if key not in self._fixtures:
            state = mls.create_group(_SUITE, os.urandom(16), self._creator, seed=_seed())
            self._fixtures[key], _ = self._commit(state, _seed(), adds=self._kps(0, members - 1))
        state, kps, bundle, seed = self._fixtures[key], self._kps(members, members + 1), self._bundles[members], _seed()

        def run() -> tuple[mls.GroupState, mls.StagedCommit]:
            return self._commit(state, seed, adds=kps)

        def check(result: tuple[mls.GroupState, mls.StagedCommit]) -> Facts:
            committed, staged = result
            return self._facts(committed, mls.join_group(staged.welcome, bundle))

        return Trial(run, check)

    def messages(self, count: int, size: int) -> Trial:
        if "messages" not in self._fixtures:
            self._fixtures["messages"] = self._pair()
        sender, receiver = self._fixtures["messages"]
        payload = bytes(i % 256 for i in range(size))
        seeds = [_seed() for _ in range(count)]

        def run() -> tuple[list[bytes], mls.GroupState, mls.GroupState]:
            state, wire = sender, []
            for seed in seeds:
                state, message = mls.encrypt_application(state, payload, seed)
                wire.append(message)
            other, received = receiver, []
            for message in wire:
                processed = mls.process_message(other, message)
                other = processed.new_state
                received.append(processed.output.data)
            return received, state, other

        def check(result: tuple[list[bytes], mls.GroupState, mls.GroupState]) -> Facts:
            received, state, other = result
            ok = len(received) == count and all(r == payload for r in received)
            facts = self._facts(state, other)
            return Facts(facts.members, ok and facts.agreed)

        return Trial(run, check)
