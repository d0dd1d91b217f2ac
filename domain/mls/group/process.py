"""Processing an incoming MLSMessage (RFC 9420 6.2, 6.3.2, 12.1, 12.4.2): proposals, commits and
application messages, as PublicMessage or PrivateMessage.

``process_message`` authenticates the message (membership tag or decryption, then the signature
under the sender's key in the tree), then:

* a proposal is checked on its own (12.1), offered to the rules, and kept pending by reference;
* a commit is fully verified (proposal list, UpdatePath, key schedule, confirmation tag) and
  returned as a ``StagedCommit`` for the caller to merge: ``new_state`` stays the pre-commit state;
* application data is decrypted with the secret tree of its epoch: the current one or one of the
  last ``MAX_PAST_EPOCHS``, for late messages.

Our own messages coming back are recognised (``OwnMessageReceived``) and not processed; the
caller merges its own staged commit. (If this state had not yet used the ratchet key of our own
PrivateMessage, the returned state marks it used, so it is never reused.) Every failure raises a
typed MlsError and leaves the state as it was.
"""

from __future__ import annotations

import hmac
from typing import Mapping, Optional

import attrs

from ..commits import Commit, ProposalRef
from ..codec import encode_opaque
from ..enums import ContentType, ExtensionType, SenderType
from ..errors import AeadError, ConfirmationTagError, DecodeError, SecretTreeError
from ..extensions import EXTERNAL_SENDERS, find_extension
from ..framing import AuthenticatedContent, FramedContent, PrivateMessage, PublicMessage, SenderMember
from ..group_context import GroupContext
from ..message_protection import check_group_and_epoch, unprotect_public
from ..messages import MLSMessage
from ..private_message_protection import DecryptedMessage, unprotect_private
from ..ratchet_tree import RatchetTree
from ..secret_tree import sender_data_key_nonce
from ..treekem import merge_update_path, process_update_path
from .capabilities import GroupRequirements, check_credential_types
from .effects import commit_effect
from .epoch_transition import next_epoch, next_state
from .errors import (
    DuplicateProposal,
    EpochNotAvailable,
    NotAMember,
    PathRequired,
    UnexpectedMessage,
    UnknownProposalRef,
    UnknownSender,
    WrongEpoch,
)
from .outputs import ApplicationMessage, OwnMessageReceived, Processed, ProposalReceived, StagedCommit
from .proposals import ProposalEntry, apply_proposals, check_proposal
from .psks import psk_secret_for, resolve_psks
from .rules import validate_commit, validate_proposal
from .state import GroupState, PendingProposal

__all__ = ["process_message"]


def _signature_key_resolver(tree: RatchetTree, extensions):
    def signature_key_of(content: FramedContent) -> bytes:
        sender = content.sender
        kind = sender.TAG
        if kind == SenderType.MEMBER:
            leaf = tree.leaf(sender.leaf_index) if 0 <= sender.leaf_index < tree.n_leaves else None
            if leaf is None:
                raise UnknownSender(f"leaf {sender.leaf_index} holds no member")
            return leaf.signature_key
        if kind == SenderType.EXTERNAL:
            found = find_extension(extensions, ExtensionType.EXTERNAL_SENDERS)
            senders = () if found is None else _external_senders(found.extension_data)
            if sender.sender_index >= len(senders):
                raise UnknownSender(f"no external sender {sender.sender_index}")
            return senders[sender.sender_index].signature_key
        if kind == SenderType.NEW_MEMBER_PROPOSAL:
            return content.content.key_package.leaf_node.signature_key
        raise UnexpectedMessage("external commits (new_member_commit) are not supported")

    return signature_key_of


def _external_senders(data: bytes):
    try:
        return EXTERNAL_SENDERS.decode(data)
    except DecodeError as exc:
        raise UnknownSender(f"malformed external_senders extension: {exc}") from None


def _own_private_sender(state: GroupState, sender_data_secret: bytes, message: PrivateMessage) -> bool:
    """Whether the sender data of a PrivateMessage names our own leaf."""
    suite = state.suite
    key, nonce = sender_data_key_nonce(suite, sender_data_secret, message.ciphertext)
    try:
        sender_data = suite.aead_open(key, nonce, message.sender_data_aad(), message.encrypted_sender_data)
    except AeadError:
        return False
    return len(sender_data) == 12 and int.from_bytes(sender_data[:4], "big") == state.own_leaf_index


def process_message(
    state: GroupState,
    message_bytes: bytes,
    *,
    rules: object = None,
    psk_store: Optional[Mapping[bytes, bytes]] = None,
    now: Optional[int] = None,
) -> Processed:
    """Process one encoded MLSMessage (see the module docstring).

    ``rules`` (an MlsRules) may reject proposals and commits; ``psk_store`` maps external psk_id
    to secret; ``now`` enables KeyPackage lifetime checks on Adds.
    """
    message = MLSMessage.decode(message_bytes)
    body = message.body
    if isinstance(body, PrivateMessage):
        return _process_private(state, body, bytes(message_bytes), rules, psk_store, now)
    if isinstance(body, PublicMessage):
        return _process_public(state, body, bytes(message_bytes), rules, psk_store, now)
    raise UnexpectedMessage(f"an MLSMessage of wire format {message.wire_format} is not a group message")


def _check_active(state: GroupState) -> None:
    if not state.active:
        raise NotAMember("this client was removed from the group; it processes no handshake messages")


def _process_public(state, body: PublicMessage, message_bytes, rules, psk_store, now) -> Processed:
    content = body.content
    check_group_and_epoch(content.group_id, content.epoch, state.encoded_group_context)
    _check_active(state)
    authenticated = unprotect_public(
        state.suite,
        body,
        state.epoch_secrets.membership_key,
        state.encoded_group_context,
        _signature_key_resolver(state.tree, state.extensions),
    )
    sender = content.sender
    if sender.TAG == SenderType.MEMBER and sender.leaf_index == state.own_leaf_index:
        return Processed(state, OwnMessageReceived(content.content_type, content.epoch))
    # The FramedContent's encoding sits between the MLSMessage header and the auth data and tag.
    trailer = len(body.auth.encode()) + len(encode_opaque(body.membership_tag or b""))
    framed_bytes = message_bytes[4 : len(message_bytes) - trailer]
    return _handshake(state, state, authenticated, message_bytes, framed_bytes, rules, psk_store, now)


def _process_private(state, body: PrivateMessage, message_bytes, rules, psk_store, now) -> Processed:
    epoch = body.epoch
    if body.group_id == state.group_id and epoch != state.epoch:
        return _process_late(state, body)
    check_group_and_epoch(body.group_id, epoch, state.encoded_group_context)
    if body.content_type != ContentType.APPLICATION:
        _check_active(state)
    try:
        decrypted, secret_tree = unprotect_private(
            state.suite,
            body,
            state.secret_tree,
            state.epoch_secrets.sender_data_secret,
            state.encoded_group_context,
            _signature_key_resolver(state.tree, state.extensions),
        )
    except SecretTreeError:
        if _own_private_sender(state, state.epoch_secrets.sender_data_secret, body):
            return Processed(state, OwnMessageReceived(body.content_type, epoch))
        raise
    after = attrs.evolve(state, secret_tree=secret_tree)
    if decrypted.leaf_index == state.own_leaf_index:
        # Our own message, decrypted with a key we had not used in this state: consume it.
        return Processed(after, OwnMessageReceived(body.content_type, epoch))
    authenticated = decrypted.authenticated_content
    if body.content_type == ContentType.APPLICATION:
        return Processed(after, _application(state.tree, decrypted, epoch))
    return _handshake(state, after, authenticated, message_bytes, None, rules, psk_store, now)


def _application(tree: RatchetTree, decrypted: DecryptedMessage, epoch: int) -> ApplicationMessage:
    content = decrypted.authenticated_content
    framed = content.content
    leaf = framed.sender.leaf_index
    return ApplicationMessage(
        leaf, tree.leaf(leaf).credential, framed.content, framed.authenticated_data, epoch, decrypted.generation,  # type: ignore[union-attr]
        content.auth.signature, decrypted.reuse_guard, decrypted.padding,
    )


def _process_late(state: GroupState, body: PrivateMessage) -> Processed:
    """An application message of a past epoch whose secret tree we still keep."""
    if body.epoch > state.epoch or body.content_type != ContentType.APPLICATION:
        raise WrongEpoch(f"message for epoch {body.epoch}, the group is at epoch {state.epoch}")
    past = state.past_epoch(body.epoch)
    if past is None:
        raise EpochNotAvailable(f"the keys of epoch {body.epoch} are no longer kept")
    extensions = GroupContext.decode(past.group_context).extensions
    try:
        decrypted, secret_tree = unprotect_private(
            state.suite,
            body,
            past.secret_tree,
            past.sender_data_secret,
            past.group_context,
            _signature_key_resolver(past.tree, extensions),
        )
    except SecretTreeError:
        if _own_private_sender(state, past.sender_data_secret, body):
            return Processed(state, OwnMessageReceived(body.content_type, body.epoch))
        raise
    if decrypted.leaf_index == state.own_leaf_index:
        return Processed(state, OwnMessageReceived(body.content_type, body.epoch))
    updated = tuple(attrs.evolve(p, secret_tree=secret_tree) if p is past else p for p in state.past_epochs)
    output = _application(past.tree, decrypted, body.epoch)
    return Processed(attrs.evolve(state, past_epochs=updated), output)


def _handshake(state, after, authenticated, message_bytes, framed_bytes, rules, psk_store, now) -> Processed:
    framed = authenticated.content
    if framed.content_type == ContentType.PROPOSAL:
        return _proposal(state, after, authenticated, rules, now)
    return Processed(state, _commit(state, authenticated, message_bytes, framed_bytes, rules, psk_store, now))


def _proposal(state, after, authenticated: AuthenticatedContent, rules, now) -> Processed:
    framed = authenticated.content
    proposal, sender = framed.content, framed.sender
    ref = state.suite.make_proposal_ref(authenticated.encode())
    if any(p.ref == ref for p in state.pending):
        raise DuplicateProposal("this proposal was already received")
    check_proposal(state, proposal, sender, now=now)
    validate_proposal(rules, state, proposal, sender)
    pending = PendingProposal(ref, proposal, sender)
    new_state = attrs.evolve(after, pending=after.pending + (pending,))
    return Processed(new_state, ProposalReceived(ref, proposal, sender, state.epoch))


def _entries(state: GroupState, commit: Commit, committer: int) -> list[ProposalEntry]:
    pending = state.pending_by_ref()
    entries = []
    for item in commit.proposals:
        if type(item) is ProposalRef:
            found = pending.get(item.value)
            if found is None:
                raise UnknownProposalRef(f"the commit references unknown proposal {item.value.hex()}")
            entries.append(ProposalEntry(found.proposal, found.sender, found.ref, True, found.encryption_private))
        else:
            entries.append(ProposalEntry(item, SenderMember(committer)))
    refs = [e.ref for e in entries if e.ref is not None]
    if len(set(refs)) != len(refs):
        raise DuplicateProposal("the commit references the same proposal twice")
    return entries


def _commit(
    state: GroupState, authenticated: AuthenticatedContent, message_bytes, framed_bytes, rules, psk_store, now
) -> StagedCommit:
    framed = authenticated.content
    if framed.sender.TAG != SenderType.MEMBER:
        raise UnexpectedMessage("external commits (new_member_commit) are not supported")
    committer = framed.sender.leaf_index
    commit: Commit = framed.content
    entries = _entries(state, commit, committer)
    applied = apply_proposals(state, entries, committer, now=now)
    if applied.path_required and commit.path is None:
        raise PathRequired("the commit needs an UpdatePath")
    suite = state.suite
    own = state.own_leaf_index
    if any(index == own for index, _ in applied.removed):
        # Removed members get no path secret, so the confirmation tag cannot be checked; the path
        # is still validated (leaf, lengths, parent hash) before the removal is accepted.
        tree = applied.tree
        if commit.path is not None:
            GroupRequirements(applied.extensions).check(commit.path.leaf_node)
            tree = merge_update_path(
                applied.tree, committer, commit.path, group_id=state.group_id, excluded_leaves=applied.added_leaves
            )
            check_credential_types(tree)
        effect = commit_effect(state, applied, entries, committer, tree, commit.path is not None)
        validate_commit(rules, state, effect)
        removed = attrs.evolve(state, active=False, pending=())
        return StagedCommit(message_bytes, None, removed, effect, state.epoch)

    private = state.private
    if applied.own_update_key is not None:
        private = private.with_leaf_key(applied.own_update_key)
    private = private.pruned(applied.tree)
    if commit.path is None:
        tree, commit_secret = applied.tree, bytes(suite.hash_len)
    else:
        GroupRequirements(applied.extensions).check(commit.path.leaf_node)
        old = state.group_context
        provisional = GroupContext(
            old.version, old.cipher_suite, old.group_id, old.epoch + 1, b"", old.confirmed_transcript_hash,
            applied.extensions,
        )
        processed = process_update_path(
            applied.tree,
            committer,
            commit.path,
            private,
            group_context=provisional,
            excluded_leaves=applied.added_leaves,
        )
        tree, commit_secret, private = processed.tree, bytes(processed.commit_secret), processed.private
        check_credential_types(tree)

    resolved = resolve_psks(applied.psks, psk_store, state.group_id, state.resumption_psk_map())
    if framed_bytes is None:
        confirmed_input = authenticated.confirmed_transcript_hash_input()
    else:
        confirmed_input = authenticated.wire_format.to_bytes(2, "big") + framed_bytes + encode_opaque(
            authenticated.auth.signature
        )
    epoch = next_epoch(state, tree, applied.extensions, confirmed_input, commit_secret, psk_secret_for(suite, resolved))
    if not hmac.compare_digest(epoch.confirmation_tag, authenticated.auth.confirmation_tag or b""):
        raise ConfirmationTagError("the commit's confirmation tag does not match")
    effect = commit_effect(state, applied, entries, committer, tree, commit.path is not None)
    validate_commit(rules, state, effect)
    return StagedCommit(message_bytes, None, next_state(state, tree, private, epoch), effect, state.epoch)

