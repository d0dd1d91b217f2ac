"""Interoperability with AWS mls-rs (RFC 9420 sections 10-12, 6): mixed groups of our members and
mls-rs members commit, join, remove, update and exchange application messages, and agree on the
exporter secret in every epoch.

What the binding (PyPI ``agentvault-mls-rs-uniffi``, module ``mls_rs_uniffi``) offers and does:

* Only cipher suite 1 (``CipherSuite.CURVE25519_AES128``); ``Client(id, keypair, config)`` makes a
  basic credential with identity ``id``; ``client_config_default()`` has in-memory state storage
  and ``use_ratchet_tree_extension=True`` (Welcome GroupInfos carry the tree). With it False, a
  commit's ``CommitOutput.ratchet_tree`` holds the tree to pass to ``join_group(tree, welcome)``.
* ``CommitOutput``: ``commit_message``, ``welcome_message`` (one Welcome for all adds, or None),
  ``ratchet_tree`` (only without the extension), ``group_info`` (None). ``JoinInfo``: ``group`` and
  ``group_info_extensions``. A group applies its own commit only by ``process_incoming_message``
  on it. mls-rs handshakes (commits, proposals) are PublicMessages; application messages are
  PrivateMessages (padded). Adds-only commits carry no UpdatePath; ``commit()`` with nothing
  pending is a self-update with a path, and with received proposals pending commits them by
  reference.
* ``ReceivedMessage``: ``APPLICATION_MESSAGE(sender: SigningIdentity, data)``,
  ``COMMIT(committer, effect)`` with ``CommitEffect.NEW_EPOCH(applied, unused)`` / ``REMOVED`` /
  ``RE_INIT``, ``RECEIVED_PROPOSAL(sender, proposal)``. ``SigningIdentity`` and ``Proposal`` are
  opaque (only ``==``): the members to remove must be named by identities taken from messages.
* No epoch or member accessor: the epoch is read from mls-rs's own messages (PublicMessage /
  PrivateMessage headers, decoded with our codec), membership from ``export_tree()``.
* mls-rs accepts our handshakes as PublicMessage and as PrivateMessage; both are tested.
* A KeyPackage stays usable after a join until the joiner writes its state to storage.

Skipped when ``mls_rs_uniffi`` is not importable, unless MLSGROUP_REQUIRE_INTEROP=1 (CI), which
turns its absence into an error.
"""

from __future__ import annotations

import os

import pytest

REQUIRED = os.environ.get("MLSGROUP_REQUIRE_INTEROP") == "1"
try:
    import mls_rs_uniffi  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the platform
    if REQUIRED:
        raise RuntimeError(
            "MLSGROUP_REQUIRE_INTEROP=1 but mls_rs_uniffi is not importable: pip install -e '.[interop]'"
        ) from exc
    pytest.skip("mls_rs_uniffi is not installed (pip install -e '.[interop]')", allow_module_level=True)

from mlsgroup.domain.mls import group as mls
from mlsgroup.domain.mls.errors import MembershipTagError, MlsError
from mlsgroup.domain.mls.tree_structs import RATCHET_TREE

from .members import Committed, OursMember, Received, RsMember, epoch_of

pytestmark = pytest.mark.interop

WIRE_FORMATS = ["public", "private"]


class MixedGroup:
    """The members of one group, the epoch they should all be in, and the checks run every epoch."""

    def __init__(self, creator: OursMember | RsMember, group_id: bytes = b"interop group id") -> None:
        creator.create(group_id)
        self.members = [creator]
        self.epoch = 0

    def names(self) -> set[str]:
        return {m.name for m in self.members}

    def commit(self, committer, committed: Committed, *, joining=(), removed=()) -> None:
        """Deliver ``committed`` to every other member, welcome ``joining``, then check the epoch."""
        assert epoch_of(committed.message) == self.epoch
        for member in self.members:
            if member is committer:
                continue
            got = member.process(committed.message, sender=committer.name)
            assert got.kind == "commit", (member.name, got)
            assert got.removed == (member.name in removed), (member.name, got)
        self.members = [m for m in self.members if m.name not in removed]
        if joining:
            assert committed.welcome is not None
        for newcomer in joining:
            newcomer.join(committed.welcome)
            self.members.append(newcomer)
        self.epoch += 1
        self.check()

    def propose(self, proposer, message: bytes) -> None:
        for member in self.members:
            if member is not proposer:
                assert member.process(message, sender=proposer.name).kind == "proposal"

    def check(self) -> None:
        """Every member sends to every other; all agree on epoch, membership and exporter."""
        for sender in self.members:
            data = f"{sender.name} says hello in epoch {self.epoch}".encode()
            wire = sender.send(data)
            assert epoch_of(wire) == self.epoch, sender.name
            for receiver in self.members:
                if receiver is not sender:
                    got = receiver.process(wire, sender=sender.name)
                    expected_epoch = self.epoch if isinstance(receiver, OursMember) else None
                    assert got == Received("application", data=data, epoch=expected_epoch), receiver.name
        for member in self.members:
            if isinstance(member, OursMember):
                assert member.epoch == self.epoch, member.name
                assert member.member_names() == self.names(), member.name
            else:
                assert _tree_names(member.tree()) == self.names(), member.name
        exporters = {m.name: m.exporter() for m in self.members}
        assert len(set(exporters.values())) == 1, exporters


def _tree_names(tree_bytes: bytes) -> set[str]:
    nodes = RATCHET_TREE.decode(tree_bytes)
    return {nodes[i].credential.identity.decode() for i in range(0, len(nodes), 2) if nodes[i] is not None}


# -- (a) mls-rs creates the group and adds us ---------------------------------------------------------


@pytest.mark.parametrize("wire_format", WIRE_FORMATS)
def test_we_join_an_mls_rs_group_from_its_welcome(wire_format: str) -> None:
    r1, o1, o2, r2 = RsMember("r1"), OursMember("o1", wire_format), OursMember("o2", wire_format), RsMember("r2")
    g = MixedGroup(r1)
    g.commit(r1, r1.add([o1.key_package()]), joining=[o1])
    g.commit(o1, o1.update())
    g.commit(r1, r1.add([o2.key_package(), r2.key_package()]), joining=[o2, r2])
    g.commit(o2, o2.remove(["r1"]), removed=["r1"])
    g.commit(r2, r2.update())


def test_we_join_an_mls_rs_welcome_without_the_ratchet_tree_extension() -> None:
    r1, o1 = RsMember("r1", ratchet_tree_extension=False), OursMember("o1")
    r1.create(b"tree out of band")
    r1.add([o1.key_package()])
    with pytest.raises(MlsError):
        o1.join(r1.last_commit.welcome_message.to_bytes())
    o1.join(r1.last_commit.welcome_message.to_bytes(), ratchet_tree=r1.last_commit.ratchet_tree.bytes)
    assert o1.exporter() == r1.exporter()
    assert r1.process(o1.send(b"tree was sent apart")).data == b"tree was sent apart"


# -- (b) we create the group and add mls-rs; then both sides commit for sixteen epochs -----------------


@pytest.mark.parametrize("wire_format", WIRE_FORMATS)
def test_mixed_group_over_sixteen_epochs(wire_format: str) -> None:
    o = {name: OursMember(name, wire_format) for name in ("o1", "o2", "o3", "o4", "o5", "o6")}
    r = {name: RsMember(name) for name in ("r1", "r2", "r3", "r4", "r5")}
    g = MixedGroup(o["o1"])
    g.check()
    g.commit(o["o1"], o["o1"].add([r["r1"].key_package()]), joining=[r["r1"]])  # 1: mls-rs joins our Welcome
    kps = [o["o2"].key_package(), r["r2"].key_package()]
    g.commit(r["r1"], r["r1"].add(kps), joining=[o["o2"], r["r2"]])  # 2: mls-rs adds both kinds
    g.commit(o["o2"], o["o2"].update())  # 3: our UpdatePath
    g.commit(r["r2"], r["r2"].update())  # 4: mls-rs UpdatePath
    kps = [o["o3"].key_package(), r["r3"].key_package()]
    g.commit(o["o1"], o["o1"].add(kps), joining=[o["o3"], r["r3"]])  # 5: we add both kinds
    g.commit(r["r1"], r["r1"].remove(["o2"]), removed=["o2"])  # 6: mls-rs removes one of ours
    g.commit(o["o3"], o["o3"].remove(["r2"]), removed=["r2"])  # 7: we remove an mls-rs member
    g.propose(r["r3"], r["r3"].propose_add(o["o4"].key_package()))  # 8: mls-rs proposal, our commit
    g.commit(o["o1"], o["o1"].commit_pending(), joining=[o["o4"]])
    g.propose(o["o3"], o["o3"].propose_remove("r1"))  # 9: our proposal, mls-rs commit
    g.commit(r["r3"], r["r3"].commit_pending(), removed=["r1"])
    g.commit(o["o4"], o["o4"].update())  # 10
    kps = [r["r4"].key_package(), o["o5"].key_package()]
    g.commit(r["r3"], r["r3"].add(kps), joining=[r["r4"], o["o5"]])  # 11
    kps = [r["r5"].key_package()]
    g.commit(o["o5"], o["o5"].change(kps, ["o1", "r3"]), joining=[r["r5"]], removed=["o1", "r3"])  # 12
    g.commit(r["r4"], r["r4"].update())  # 13
    g.propose(r["r4"], r["r4"].propose_add(o["o6"].key_package()))  # 14: mls-rs commits its own proposals
    g.propose(r["r4"], r["r4"].propose_remove("o3"))
    g.commit(r["r4"], r["r4"].commit_pending(), joining=[o["o6"]], removed=["o3"])
    g.propose(o["o4"], o["o4"].propose_update())  # 15: our Update proposal, mls-rs commit
    g.commit(r["r5"], r["r5"].commit_pending())
    g.propose(r["r5"], r["r5"].propose_remove("r4"))  # 16: mls-rs proposal, our commit
    g.commit(o["o6"], o["o6"].commit_pending(), removed=["r4"])
    assert g.epoch == 16 and g.names() == {"o4", "o5", "o6", "r5"}


def test_mls_rs_joins_our_welcome_without_the_ratchet_tree_extension() -> None:
    o1, r1 = OursMember("o1"), RsMember("r1")
    o1.create(b"tree out of band")
    staged = mls.commit(
        o1.state, adds=[mls.decode_key_package_message(r1.key_package())], seed=os.urandom(32),
        ratchet_tree_in_welcome=False,
    )
    o1.state = mls.merge_commit(o1.state, staged)
    with pytest.raises(mls_rs_uniffi.Error):
        r1.join(staged.welcome)
    r1.join(staged.welcome, ratchet_tree=staged.ratchet_tree)
    assert r1.exporter() == o1.exporter()
    assert o1.process(r1.send(b"hello")).data == b"hello"


# -- tampering is caught on our side ------------------------------------------------------------------


def test_we_reject_an_mls_rs_commit_with_a_broken_membership_tag() -> None:
    r1, o1 = RsMember("r1"), OursMember("o1")
    g = MixedGroup(r1)
    g.commit(r1, r1.add([o1.key_package()]), joining=[o1])
    message = bytearray(r1.update().message)
    message[-1] ^= 1  # the last byte belongs to the membership tag
    with pytest.raises(MembershipTagError):
        o1.process(bytes(message))
