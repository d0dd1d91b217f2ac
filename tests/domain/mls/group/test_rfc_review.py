"""Regression tests from a review of the group state machine against RFC 9420: each test forges
a message (built with the library, then altered and re-signed, with a valid membership tag and
confirmation tag where the check under test comes after them) or drives a path the review found
wrong, and names the section it enforces.
"""

import attrs
import pytest

from mlsgroup.domain.mls.credentials import BasicCredential, X509Credential
from mlsgroup.domain.mls.enums import CredentialType, ExtensionType
from mlsgroup.domain.mls.extensions import Extension, RequiredCapabilities
from mlsgroup.domain.mls.group import (
    CapabilityNotSupported,
    InvalidGroupInfo,
    MemberAlreadyInGroup,
    ProposalReceived,
    StagedCommit,
    commit,
    create_group,
    default_capabilities,
    encrypt_application,
    generate_key_package,
    join_group,
    merge_commit,
    process_message,
    propose_psk,
    propose_update,
)
from mlsgroup.domain.mls.group.key_package_bundles import sign_leaf_node
from mlsgroup.domain.mls.proposals import Add, GroupContextExtensions, Remove, Update
from mlsgroup.domain.mls.secret_tree import RatchetType
from mlsgroup.domain.mls.tree_errors import DuplicateKeyError, LeafNodeValidationError
from mlsgroup.domain.mls.tree_structs import UpdateSource

from .builders import NOT_AFTER, deliver, group, key_package, seed
from .commit_forgery import forge_commit
from .forgery import forge_public

OTHER_EXTENSION = 0xFF01  # a non-default extension type the test groups require


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol"], base=7000)


def rejects(state, message, error, **kwargs):
    before = state.encode()
    with pytest.raises(error):
        process_message(state, message, **kwargs)
    assert state.encode() == before


def update_leaf(state, **changes):
    """A signed Update LeafNode for ``state``'s member with a fresh encryption key and ``changes``."""
    _, public = state.suite.hpke_key_pair(b"\x5a" * 32)
    leaf = attrs.evolve(state.own_leaf(), encryption_key=public, source=UpdateSource(), signature=b"", **changes)
    return sign_leaf_node(state.suite_id, state.signature_private, leaf, state.group_id, state.own_leaf_index)


def test_forged_commit_helper_makes_acceptable_commits(members):
    alice, bob, carol = members
    forged = forge_commit(bob, [Remove(2)])
    assert isinstance(process_message(alice, forged.message).output, StagedCommit)


# -- 7.3: signature keys are unique among the members ----------------------------------------------


def test_update_path_leaf_may_not_take_another_members_signature_key(members):
    """12.4.2 / 7.3: the UpdatePath LeafNode is validated like any leaf, so its signature_key must
    be unique in the group; bob's path leaf claims carol's key (signed with it)."""
    alice, bob, carol = members
    carol_leaf = carol.own_leaf()
    template = attrs.evolve(bob.own_leaf(), signature_key=carol_leaf.signature_key, credential=carol_leaf.credential)
    forged = forge_commit(bob, leaf_node=template, leaf_signer=carol.signature_private)
    rejects(alice, forged.message, DuplicateKeyError)
    # the same commit is also refused by a member it removes (the path is validated before the removal)
    forged = forge_commit(bob, [Remove(0)], leaf_node=template, leaf_signer=carol.signature_private)
    rejects(alice, forged.message, DuplicateKeyError)


# -- 13.4: no list of extensions holds two extensions of one type ----------------------------------


def _twice_application_id():
    return (Extension(ExtensionType.APPLICATION_ID, b"\x01a"), Extension(ExtensionType.APPLICATION_ID, b"\x01b"))


def test_update_leaf_with_duplicate_extension_types_is_invalid(members):
    alice, bob, _ = members
    leaf = update_leaf(bob, extensions=_twice_application_id())
    rejects(alice, forge_public(bob, Update(leaf)), LeafNodeValidationError)


def test_update_path_leaf_with_duplicate_extension_types_is_invalid(members):
    alice, bob, _ = members
    template = attrs.evolve(bob.own_leaf(), extensions=_twice_application_id())
    rejects(alice, forge_commit(bob, leaf_node=template).message, LeafNodeValidationError)


def test_group_info_with_duplicate_extension_types_is_invalid(members):
    """12.4.3 / 13.4: the joiner rejects a GroupInfo whose extensions list one type twice."""
    _, bob, _ = members
    dave = key_package(b"dave", 7100)
    twice = (Extension(0xFF0A, b"first"), Extension(0xFF0A, b"second"))
    forged = forge_commit(bob, [Add(dave.key_package)], group_info_extensions=twice)
    with pytest.raises(InvalidGroupInfo):
        join_group(forged.welcome, dave)
    # the same commit with distinct GroupInfo extensions is a valid invitation
    fine = forge_commit(bob, [Add(dave.key_package)], group_info_extensions=twice[:1])
    assert join_group(fine.welcome, dave).epoch == bob.epoch + 1


# -- 12.2 / 12.4.2: a commit removing us is held to the same tree rules -----------------------------


def _credential_group():
    """alice and bob support basic and X.509 credentials, carol only basic ones."""
    both = default_capabilities(1)
    basic_only = attrs.evolve(both, credentials=(CredentialType.BASIC,))
    bundles = [
        generate_key_package(1, BasicCredential(name), seed(7200 + i), not_before=0, not_after=NOT_AFTER, capabilities=caps)
        for i, (name, caps) in enumerate(((b"alice", both), (b"bob", both), (b"carol", basic_only)))
    ]
    alice = create_group(1, b"C" * 16, bundles[0], seed=seed(7210))
    staged = commit(alice, adds=[b.key_package for b in bundles[1:]], seed=seed(7211))
    return [merge_commit(alice, staged)] + [join_group(staged.welcome, b) for b in bundles[1:]]


def test_commit_removing_us_is_rejected_when_its_path_leaf_breaks_credential_support():
    """7.3: every member supports every credential type in use. bob's path leaf switches to an
    X.509 credential carol cannot handle; carol rejects it, and so must alice, whom it removes."""
    alice, bob, carol = _credential_group()
    template = attrs.evolve(bob.own_leaf(), credential=X509Credential((b"cert",)))
    rejects(carol, forge_commit(bob, [Remove(0)], leaf_node=template).message, CapabilityNotSupported)
    rejects(alice, forge_commit(bob, [Remove(0)], leaf_node=template).message, CapabilityNotSupported)


# -- 12.4: the committer covers only proposals that keep the list valid ----------------------------


def _required_group():
    """A group of three whose GroupContext requires OTHER_EXTENSION, which all of them support."""
    required = Extension(
        ExtensionType.REQUIRED_CAPABILITIES, RequiredCapabilities((OTHER_EXTENSION,), (), ()).encode()
    )
    caps = default_capabilities(1, [OTHER_EXTENSION])
    bundles = [
        generate_key_package(1, BasicCredential(name), seed(7300 + i), not_before=0, not_after=NOT_AFTER, capabilities=caps)
        for i, name in enumerate((b"alice", b"bob", b"carol"))
    ]
    alice = create_group(1, b"Q" * 16, bundles[0], extensions=[required], seed=seed(7310))
    staged = commit(alice, adds=[b.key_package for b in bundles[1:]], seed=seed(7311))
    return [merge_commit(alice, staged)] + [join_group(staged.welcome, b) for b in bundles[1:]]


def _invalid_pending_proposals(bob):
    """Proposals from bob that are each acceptable on receipt but cannot be committed."""
    lacking = update_leaf(bob, capabilities=default_capabilities(1))
    stranger = key_package(b"stranger", 7320).key_package  # does not support OTHER_EXTENSION
    stricter = Extension(ExtensionType.REQUIRED_CAPABILITIES, RequiredCapabilities((0xFF02,), (), ()).encode())
    return [Update(lacking), Add(stranger), GroupContextExtensions((stricter,))]


def test_committer_leaves_out_pending_proposals_that_would_invalidate_the_commit():
    """12.4: "SHOULD include all proposals ... valid ... as long as this results in a valid
    proposal list". A member's invalid proposal must not make every other member's commit fail."""
    alice, bob, carol = _required_group()
    for proposal in _invalid_pending_proposals(bob):
        received = process_message(alice, forge_public(bob, proposal))
        assert isinstance(received.output, ProposalReceived)
        staged = commit(received.new_state, seed=seed(7330))
        assert staged.effect.proposals == ()
        alice2, bob2, carol2 = deliver(staged, received.new_state, [bob, carol])
        assert alice2.epoch_authenticator == bob2.epoch_authenticator == carol2.epoch_authenticator


def test_committer_keeps_valid_pending_proposals_next_to_invalid_ones():
    alice, bob, carol = _required_group()
    dave = generate_key_package(
        1, BasicCredential(b"dave"), seed(7332), not_before=0, not_after=NOT_AFTER,
        capabilities=default_capabilities(1, [OTHER_EXTENSION]),
    )
    invalid = _invalid_pending_proposals(bob)
    messages = [forge_public(bob, p) for p in invalid[:1] + [Add(dave.key_package)] + invalid[1:]]
    for message in messages:
        alice = process_message(alice, message).new_state
        carol = process_message(carol, message).new_state
    staged = commit(alice, seed=seed(7333))
    assert staged.effect.proposals == (Add(dave.key_package),)
    alice2, carol2 = deliver(staged, alice, [carol])
    dave2 = join_group(staged.welcome, dave)
    assert alice2.epoch_authenticator == carol2.epoch_authenticator == dave2.epoch_authenticator


def test_committer_leaves_out_pending_psks_it_does_not_hold(members):
    """12.4.2: every PSK of a commit must be available; we cannot commit a PSK we lack."""
    alice, bob, carol = members
    _, proposal = propose_psk(bob, b"psk unknown to alice", seed=seed(7340))
    pending = process_message(alice, proposal).new_state
    staged = commit(pending, seed=seed(7341))
    assert staged.effect.psks == ()
    with_psk = commit(pending, seed=seed(7341), psk_store={b"psk unknown to alice": b"\x01" * 32})
    assert len(with_psk.effect.psks) == 1


def test_invalid_proposals_given_by_value_still_fail():
    """The filtering covers pending proposals only; the caller's own invalid changes raise."""
    alice, bob, carol = _required_group()
    state = process_message(alice, forge_public(bob, Remove(2))).new_state
    with pytest.raises(CapabilityNotSupported):
        commit(state, adds=[key_package(b"stranger", 7350).key_package], seed=seed(7351))
    bob_again = key_package(b"bob", 7010).key_package  # the KeyPackage bob joined with
    with pytest.raises(MemberAlreadyInGroup):
        commit(group([b"alice", b"bob"], base=7000)[0], adds=[bob_again], seed=seed(7352))


# -- 9.2: consumed secrets are deleted -------------------------------------------------------------


def test_encryption_secret_is_not_kept_once_the_secret_tree_exists(members):
    """9.2: the encryption_secret is the secret tree's root; once a message key is derived from it,
    it is consumed and MUST be deleted. The state keeps only the secret tree, which forgets it."""
    alice, bob, carol = members
    for state in members:
        assert bytes(state.epoch_secrets.encryption_secret) == b""
    staged = commit(alice, seed=seed(7360))
    alice2, bob2, carol2 = deliver(staged, alice, [bob, carol])
    for state in (staged.new_state, alice2, bob2, carol2):
        assert bytes(state.epoch_secrets.encryption_secret) == b""
    bob3, message = encrypt_application(bob2, b"still works", seed(7361))
    assert process_message(alice2, message).output.data == b"still works"
    fresh = create_group(1, b"F" * 16, key_package(b"solo", 7362), seed=seed(7363))
    assert bytes(fresh.epoch_secrets.encryption_secret) == b""
    del bob3, carol2


def test_ratchet_key_of_a_private_commit_is_not_archived(members):
    """9.2: the handshake key that encrypted (committer) or decrypted (receiver) a PrivateMessage
    commit is consumed; the archived epoch, kept for late application messages, must not hold it.
    Callers merge into the state they staged or processed from, as the XMTP layer does."""
    alice, bob, carol = members
    staged = commit(bob, removes=[2], seed=seed(7370))
    assert bob.secret_tree.next_generation(1, RatchetType.HANDSHAKE) == 0
    bob2 = merge_commit(bob, staged)
    alice2 = merge_commit(alice, process_message(alice, staged.message).output)
    carol2 = merge_commit(carol, process_message(carol, staged.message).output)  # removed by it
    for state in (bob2.past_epochs[0], alice2.past_epochs[0], carol2):
        assert state.secret_tree.next_generation(1, RatchetType.HANDSHAKE) == 1
    assert not carol2.is_active
    # the application ratchets are untouched: late application messages still decrypt
    _, late = encrypt_application(bob, b"late", seed(7371))
    assert process_message(alice2, late).output.data == b"late"
    # a public commit consumes no ratchet key
    public = commit(bob, seed=seed(7372), handshake_wire_format="public")
    assert merge_commit(bob, public).past_epochs[0].secret_tree == bob.secret_tree


def test_secrets_kept_in_states_print_as_stars(members):
    """STYLE / 9.2: key material a state keeps long-term has the ``Secret`` type (repr ``***``)."""
    alice, bob, _ = members
    bob2, _ = propose_update(bob, seed=seed(7380))
    staged = commit(alice, seed=seed(7381))
    for state in (alice, bob2, staged.new_state, merge_commit(alice, staged)):
        secrets = state.epoch_secrets
        for name in ("sender_data_secret", "exporter_secret", "external_secret", "confirmation_key",
                     "membership_key", "resumption_psk", "init_secret"):
            assert repr(getattr(secrets, name)) == "***", name
        assert all(repr(psk) == "***" for _, psk in state.resumption_psks)
    assert repr(bob2.pending[0].encryption_private) == "***"
