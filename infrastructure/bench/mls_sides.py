"""``mlsgroup bench mls``: the two implementations driven through the same benchmark rows.

Each side prepares a row untimed and hands back a ``Trial``: ``run`` is the timed work, ``check``
(untimed, once) reports what the work produced, the member count and whether a second member
reached the same exporter secret, so the rows can show both sides did the same work.

mls-rs (through ``mls_rs_uniffi``) mutates its groups in place; a row that must start from the
same state every sample reloads the group from the client's in-memory state storage
(``write_to_storage`` once, ``load_group`` per sample, untimed). Bytes cross the boundary as they
would on the wire: encoding and decoding of messages is inside the timed region on both sides.
mls-rs applies its own commit only by processing it, which its rows therefore include (ours merges
the staged commit). mls-rs KeyPackages are generated before any timing and reused: a committer
does not consume them and mls-rs lets one KeyPackage join several groups.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

from mlsgroup.domain.mls.tree_structs import RATCHET_TREE

__all__ = ["Facts", "Trial", "MlsRsSide", "EXPORTER_LABEL"]

EXPORTER_LABEL = b"mlsgroup bench"
_EXPORTER_CONTEXT = b"row"


@attrs.frozen
class Facts:
    """What a row's work produced: the group's member count and whether two members agree on the exporter."""

    members: int
    agreed: bool


@attrs.frozen
class Trial:
    """One prepared sample: ``run`` is timed, ``check`` turns its result into Facts (untimed)."""

    run: Callable[[], Any]
    check: Callable[[Any], Facts]


def _leaf_count(tree_bytes: bytes) -> int:
    nodes = RATCHET_TREE.decode(tree_bytes)
    return sum(1 for i in range(0, len(nodes), 2) if nodes[i] is not None)


class MlsRsSide:
    """mls-rs: one creator, one second member and a pool of clients with KeyPackages."""

    name = "mls-rs"

    def __init__(self, pool: int) -> None:
        import mls_rs_uniffi as m

        self._m = m
        self._creator = self._client(b"rs creator")
        self._second = self._client(b"rs second")
        self._pool = [self._client(b"rs member %d" % i) for i in range(pool + 1)]
        self._kps = [c.generate_key_package_message() for c in self._pool]
        self._welcomes: dict[int, bytes] = {}
        self._committed: dict[int, Any] = {}
        self._fixtures: dict[object, Any] = {}  # groups built once per row, reloaded per sample

    def _client(self, name: bytes) -> Any:
        m = self._m
        return m.Client(name, m.generate_signature_keypair(m.CipherSuite.CURVE25519_AES128), m.client_config_default())

    def _exporter(self, group: Any) -> bytes:
        return group.export_secret(EXPORTER_LABEL, _EXPORTER_CONTEXT, 32)

    def _members(self, group: Any) -> int:
        return _leaf_count(group.export_tree().bytes)

    def _commit(self, group: Any, output: Any) -> tuple[bytes, bytes | None]:
        group.process_incoming_message(output.commit_message)
        welcome = output.welcome_message
        return output.commit_message.to_bytes(), welcome.to_bytes() if welcome is not None else None

    def _pair(self, group_id: bytes) -> tuple[Any, Any]:
        """A two-member group (creator, second), both sides stored for reloading."""
        group = self._creator.create_group(group_id)
        # a fresh KeyPackage each time: mls-rs deletes a used one when the joiner's state is stored
        _, welcome = self._commit(group, group.add_members([self._second.generate_key_package_message()]))
        other = self._second.join_group(None, self._m.Message.from_bytes(welcome)).group
        group.write_to_storage()
        other.write_to_storage()
        return group, other

    # -- rows -----------------------------------------------------------------------------------

    def create_add(self, n: int) -> Trial:
        kps = self._kps[:n]

        def run() -> tuple[Any, bytes, bytes]:
            group = self._creator.create_group(None)
            commit, welcome = self._commit(group, group.add_members(kps))
            return group, commit, welcome

        def check(result: tuple[Any, bytes, bytes]) -> Facts:
            group, commit, welcome = result
            self._welcomes[n], self._committed[n] = welcome, group
            joiner = self._pool[0].join_group(None, self._m.Message.from_bytes(welcome)).group
            return Facts(self._members(group), self._exporter(joiner) == self._exporter(group))

        return Trial(run, check)

    def join(self, n: int) -> Trial:
        welcome, joiner_client = self._welcomes[n], self._pool[n - 1]
        m = self._m

        def run() -> Any:
            return joiner_client.join_group(None, m.Message.from_bytes(welcome)).group

        def check(group: Any) -> Facts:
            return Facts(self._members(group), self._exporter(group) == self._exporter(self._committed[n]))

        return Trial(run, check)

    def process_add(self, n: int) -> Trial:
        group_id = b"rs process %d" % n
        if group_id not in self._fixtures:
            group, _ = self._pair(group_id)
            commit, _ = self._commit(group, group.add_members(self._kps[:n]))
            self._fixtures[group_id] = (group, commit)
        committer, commit = self._fixtures[group_id]
        other = self._second.load_group(group_id)
        m = self._m

        def run() -> Any:
            other.process_incoming_message(m.Message.from_bytes(commit))
            return other

        def check(group: Any) -> Facts:
            return Facts(self._members(group), self._exporter(group) == self._exporter(committer))

        return Trial(run, check)

    def add_one(self, members: int) -> Trial:
        group_id = b"rs large %d" % members
        if group_id not in self._fixtures:
            group = self._creator.create_group(group_id)
            self._commit(group, group.add_members(self._kps[: members - 1]))
            group.write_to_storage()
            self._fixtures[group_id] = group
        group = self._creator.load_group(group_id)
        newcomer = self._pool[members]
        kp = self._kps[members]

        def run() -> tuple[Any, bytes, bytes]:
            commit, welcome = self._commit(group, group.add_members([kp]))
            return group, commit, welcome

        def check(result: tuple[Any, bytes, bytes]) -> Facts:
            committer, _, welcome = result
            joined = newcomer.join_group(None, self._m.Message.from_bytes(welcome)).group
            return Facts(self._members(committer), self._exporter(joined) == self._exporter(committer))

        return Trial(run, check)

    def messages(self, count: int, size: int) -> Trial:
        if "messages" not in self._fixtures:
            self._fixtures["messages"] = self._pair(b"rs messages")
        sender, receiver = self._fixtures["messages"]
        payload = bytes(i % 256 for i in range(size))
        m = self._m

        def run() -> list[bytes]:
            wire = [sender.encrypt_application_message(payload).to_bytes() for _ in range(count)]
            return [receiver.process_incoming_message(m.Message.from_bytes(w)).data for w in wire]

        def check(received: list[bytes]) -> Facts:
            ok = len(received) == count and all(r == payload for r in received)
            return Facts(self._members(sender), ok and self._exporter(sender) == self._exporter(receiver))

        return Trial(run, check)

    # -- message sizes for the floor ------------------------------------------------------------

    def sample_messages(self, n: int) -> tuple[bytes, bytes, bytes]:
        """A KeyPackage, and the commit and Welcome of create + add ``n`` (for sizing the floor)."""
        group = self._creator.create_group(None)
        commit, welcome = self._commit(group, group.add_members(self._kps[:n]))
        return self._kps[0].to_bytes(), commit, welcome or b""
