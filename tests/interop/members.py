"""One group member driven through either implementation, behind the same small interface.

``OursMember`` wraps our pure state machine (``mlsgroup.domain.mls.group``): it keeps its
``GroupState`` and merges its own staged commits. ``RsMember`` wraps an mls-rs client and group
(``mls_rs_uniffi``), which applies its own commit only by processing it. Both speak encoded
MLSMessages, so the test moves bytes between them exactly as a delivery service would.

mls-rs removes members by ``SigningIdentity`` and its binding exposes no accessor for one, so an
``RsMember`` learns the identity of every member whose message or commit it processed
(``identities``, keyed by member name); mls-rs members' own identities come from their clients.
"""

from __future__ import annotations

import os
from typing import Any, Optional

import attrs

from mlsgroup.domain.mls import group as mls
from mlsgroup.domain.mls.credentials import BasicCredential
from mlsgroup.domain.mls.group.key_package_bundles import MAX_U64
from mlsgroup.domain.mls.messages import MLSMessage

SUITE = 1
EXPORTER_LABEL = b"interop exporter"
EXPORTER_CONTEXT = b"mlsgroup <-> mls-rs"


@attrs.frozen
class Received:
    """What a member got from a message: a commit (and whether it removed the receiver) or data."""

    kind: str  # "commit" | "application" | "proposal"
    removed: bool = False
    data: bytes = b""
    epoch: Optional[int] = None  # ours reports it; mls-rs does not expose epochs


@attrs.frozen
class Committed:
    """A commit as sent: the encoded MLSMessage and the Welcome for the members it adds."""

    message: bytes
    welcome: Optional[bytes]


def _seed() -> bytes:
    return os.urandom(32)


class OursMember:
    """A member on our implementation; ``wire_format`` is the wire format of its handshakes."""

    impl = "ours"

    def __init__(self, name: str, wire_format: str = "public") -> None:
        self.name = name
        self.wire_format = wire_format
        self.bundle = mls.generate_key_package(
            SUITE, BasicCredential(name.encode()), _seed(), not_before=0, not_after=MAX_U64
        )
        self.state: Optional[mls.GroupState] = None

    # -- membership -----------------------------------------------------------------------------

    def key_package(self) -> bytes:
        return self.bundle.message()

    def create(self, group_id: bytes) -> None:
        self.state = mls.create_group(SUITE, group_id, self.bundle.signer, seed=_seed())

    def join(self, welcome: bytes, ratchet_tree: Optional[bytes] = None) -> None:
        self.state = mls.join_group(welcome, self.bundle, ratchet_tree=ratchet_tree)

    def leaf_of(self, name: str) -> int:
        for leaf, member in self.state.members().items():
            if member.credential.identity == name.encode():
                return leaf
        raise LookupError(f"{name} is not a member in {self.name}'s view")

    def _commit(self, **changes: Any) -> Committed:
        staged = mls.commit(self.state, seed=_seed(), handshake_wire_format=self.wire_format, **changes)
        self.state = mls.merge_commit(self.state, staged)
        return Committed(staged.message, staged.welcome)

    def add(self, key_packages: list[bytes]) -> Committed:
        return self.change(key_packages, [])

    def remove(self, names: list[str]) -> Committed:
        return self.change([], names)

    def change(self, key_packages: list[bytes], names: list[str]) -> Committed:
        """One commit adding and removing members."""
        adds = [mls.decode_key_package_message(kp) for kp in key_packages]
        return self._commit(adds=adds, removes=[self.leaf_of(n) for n in names])

    def update(self) -> Committed:
        return self._commit(update_path=True)

    def commit_pending(self) -> Committed:
        return self._commit()

    def propose_remove(self, name: str) -> bytes:
        self.state, message = mls.propose_remove(self.state, self.leaf_of(name), seed=_seed(), wire_format=self.wire_format)
        return message

    def propose_update(self) -> bytes:
        self.state, message = mls.propose_update(self.state, seed=_seed(), wire_format=self.wire_format)
        return message

    # -- messages -------------------------------------------------------------------------------

    def send(self, data: bytes) -> bytes:
        self.state, message = mls.encrypt_application(self.state, data, _seed())
        return message

    def process(self, message: bytes, sender: object = None) -> Received:
        processed = mls.process_message(self.state, message)
        output = processed.output
        if isinstance(output, mls.StagedCommit):
            self.state = mls.merge_commit(processed.new_state, output)
            return Received("commit", removed=not self.state.is_active, epoch=output.epoch)
        self.state = processed.new_state
        if isinstance(output, mls.ApplicationMessage):
            return Received("application", data=output.data, epoch=output.epoch)
        if isinstance(output, mls.ProposalReceived):
            return Received("proposal", epoch=output.epoch)
        raise AssertionError(f"unexpected output {output!r}")

    # -- agreement ------------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        return self.state.epoch

    def exporter(self) -> bytes:
        return mls.export_secret(self.state, EXPORTER_LABEL, EXPORTER_CONTEXT, 32)

    def member_names(self) -> set[str]:
        return {m.credential.identity.decode() for m in self.state.members().values()}


class RsMember:
    """A member on mls-rs (cipher suite 1, in-memory state storage)."""

    impl = "mls-rs"

    def __init__(self, name: str, *, ratchet_tree_extension: bool = True) -> None:
        import mls_rs_uniffi as m

        self._m = m
        self.name = name
        config = m.client_config_default()
        config.use_ratchet_tree_extension = ratchet_tree_extension
        self.client = m.Client(name.encode(), m.generate_signature_keypair(m.CipherSuite.CURVE25519_AES128), config)
        self.group: Any = None
        self.identities: dict[str, Any] = {name: self.client.signing_identity()}
        self.last_commit: Any = None

    def key_package(self) -> bytes:
        return self.client.generate_key_package_message().to_bytes()

    def create(self, group_id: bytes) -> None:
        self.group = self.client.create_group(group_id)

    def join(self, welcome: bytes, ratchet_tree: Optional[bytes] = None) -> None:
        tree = None if ratchet_tree is None else self._m.RatchetTree(bytes=ratchet_tree)
        self.group = self.client.join_group(tree, self._m.Message.from_bytes(welcome)).group

    def _apply(self, output: Any) -> Committed:
        self.last_commit = output
        result = self.group.process_incoming_message(output.commit_message)
        if not result.is_commit():
            raise AssertionError(f"mls-rs did not apply its own commit: {result}")
        welcome = output.welcome_message
        return Committed(output.commit_message.to_bytes(), None if welcome is None else welcome.to_bytes())

    def add(self, key_packages: list[bytes]) -> Committed:
        return self._apply(self.group.add_members([self._m.Message.from_bytes(kp) for kp in key_packages]))

    def remove(self, names: list[str]) -> Committed:
        return self._apply(self.group.remove_members([self.identities[n] for n in names]))

    def update(self) -> Committed:
        return self._apply(self.group.commit())

    commit_pending = update  # mls-rs commits every pending proposal it holds

    def propose_add(self, key_package: bytes) -> bytes:
        (message,) = self.group.propose_add_members([self._m.Message.from_bytes(key_package)])
        return message.to_bytes()

    def propose_remove(self, name: str) -> bytes:
        (message,) = self.group.propose_remove_members([self.identities[name]])
        return message.to_bytes()

    def send(self, data: bytes) -> bytes:
        return self.group.encrypt_application_message(data).to_bytes()

    def process(self, message: bytes, sender: Optional[str] = None) -> Received:
        result = self.group.process_incoming_message(self._m.Message.from_bytes(message))
        if result.is_application_message():
            if sender is not None:
                self.identities[sender] = result.sender
            return Received("application", data=result.data)
        if result.is_commit():
            if sender is not None:
                self.identities[sender] = result.committer
            return Received("commit", removed=result.effect.is_removed())
        if result.is_received_proposal():
            return Received("proposal")
        raise AssertionError(f"unexpected mls-rs output {result}")

    def exporter(self) -> bytes:
        return self.group.export_secret(EXPORTER_LABEL, EXPORTER_CONTEXT, 32)

    def tree(self) -> bytes:
        return self.group.export_tree().bytes


def epoch_of(message: bytes) -> int:
    """The epoch an encoded PublicMessage or PrivateMessage was sent in (mls-rs exposes no epoch)."""
    body = MLSMessage.decode(message).body
    return body.content.epoch if hasattr(body, "content") else body.epoch
