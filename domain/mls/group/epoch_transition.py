"""The step from one epoch to the next shared by sending and receiving a commit (RFC 9420 8, 8.2, 12.4).

``next_epoch`` updates the confirmed transcript hash with the commit, builds the new GroupContext,
runs the key schedule (init secret, commit secret, PSK secret) and derives the confirmation tag and
interim transcript hash. ``next_state`` assembles the new epoch's ``GroupState``; ``merge_commit``
makes a staged commit current, archiving the old epoch's keys for late application messages.
Secrets are kept no longer than RFC 9420 9.2 allows: not the joiner, welcome and encryption
secrets once the secret tree exists, nor the ratchet key of a PrivateMessage commit.
"""

from __future__ import annotations

from typing import Optional

import attrs

from ..errors import MlsError
from ..extensions import Extension
from ..group_context import GroupContext
from ..key_schedule import EpochSecrets, advance_epoch, confirmation_tag
from ..ratchet_tree import RatchetTree
from ..messages import MLSMessage
from ..secret_tree import RatchetType, SecretTree, sender_data_key_nonce
from ..secrets import Secret
from ..transcript import confirmed_transcript_hash, interim_transcript_hash
from ..treekem import TreeKemPrivate
from .errors import StaleStagedCommit
from .outputs import StagedCommit
from .state import MAX_PAST_EPOCHS, MAX_RESUMPTION_PSKS, GroupState, PastEpoch

__all__ = ["NextEpoch", "next_epoch", "next_state", "retained_secrets", "archive", "merge_commit"]

#: The epoch secrets a state keeps as ``Secret`` values (their reprs are ``***``).
_KEPT_SECRETS = (
    "sender_data_secret",
    "exporter_secret",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
    "init_secret",
)

_PRIVATE_MESSAGE = b"\x00\x02"  # WireFormat mls_private_message in an MLSMessage header


@attrs.frozen
class NextEpoch:
    """The new epoch's context, secrets (joiner and welcome secrets included) and confirmation tag."""

    group_context: GroupContext
    secrets: EpochSecrets
    confirmation_tag: bytes
    interim_transcript_hash: bytes


def next_epoch(
    state: GroupState,
    tree: RatchetTree,
    extensions: tuple[Extension, ...],
    confirmed_input: bytes,
    commit_secret: bytes,
    psk_secret: Optional[bytes],
) -> NextEpoch:
    """The next epoch after the commit whose ConfirmedTranscriptHashInput is ``confirmed_input``."""
    suite = state.suite
    confirmed = confirmed_transcript_hash(suite, state.interim_transcript_hash, confirmed_input)
    old = state.group_context
    context = GroupContext(old.version, old.cipher_suite, old.group_id, old.epoch + 1, tree.tree_hash(), confirmed, extensions)
    secrets = advance_epoch(suite, state.epoch_secrets.init_secret, commit_secret, context.encode(), psk_secret)
    tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
    return NextEpoch(context, secrets, tag, interim_transcript_hash(suite, confirmed, tag))


def retained_secrets(secrets: EpochSecrets) -> EpochSecrets:
    """What a member keeps of an epoch's secrets once its secret tree is built (RFC 9420 9.2):
    not the joiner and welcome secrets, nor the encryption_secret, the root of the secret tree,
    which is consumed with the first message key derived from it (the tree forgets it then)."""
    kept = {name: Secret(getattr(secrets, name)) for name in _KEPT_SECRETS}
    return attrs.evolve(secrets, encryption_secret=Secret(b""), joiner_secret=None, welcome_secret=None, **kept)


def archive(state: GroupState) -> tuple[tuple[PastEpoch, ...], tuple[tuple[int, bytes], ...]]:
    """The past epochs and resumption PSKs to keep once ``state``'s epoch is over."""
    past = (
        PastEpoch(
            state.epoch,
            state.encoded_group_context,
            state.epoch_secrets.sender_data_secret,
            state.secret_tree,
            state.tree,
        ),
    ) + state.past_epochs
    resumption = ((state.epoch, state.epoch_secrets.resumption_psk),) + state.resumption_psks
    return past[:MAX_PAST_EPOCHS], resumption[:MAX_RESUMPTION_PSKS]


def next_state(state: GroupState, tree: RatchetTree, private: TreeKemPrivate, epoch: NextEpoch) -> GroupState:
    """The state of the new epoch (past epochs archived from ``state``; no pending proposals)."""
    secret_tree = SecretTree.create(state.suite, epoch.secrets.encryption_secret, tree.n_leaves)
    past, resumption = archive(state)
    return GroupState(
        group_context=epoch.group_context,
        tree=tree,
        private=private,
        signature_private=state.signature_private,
        epoch_secrets=retained_secrets(epoch.secrets),
        secret_tree=secret_tree,
        interim_transcript_hash=epoch.interim_transcript_hash,
        confirmation_tag=epoch.confirmation_tag,
        pending=(),
        past_epochs=past,
        resumption_psks=resumption,
    )


def _without_commit_key(state: GroupState, message: bytes) -> GroupState:
    """``state`` without the handshake ratchet key that protected ``message``, when that is a
    PrivateMessage of ``state``'s epoch: encrypting or decrypting the commit consumed the key, so
    it MUST be deleted (RFC 9420 9.2) rather than archived with the epoch. Staging a commit, ours
    or a received one, leaves the caller's state as it was, so the key is still there."""
    if message[2:4] != _PRIVATE_MESSAGE:
        return state
    suite = state.suite
    try:
        body = MLSMessage.decode(message).body
        key, nonce = sender_data_key_nonce(suite, state.epoch_secrets.sender_data_secret, body.ciphertext)
        sender_data = suite.aead_open(key, nonce, body.sender_data_aad(), body.encrypted_sender_data)
        leaf, generation = int.from_bytes(sender_data[:4], "big"), int.from_bytes(sender_data[4:8], "big")
        _, _, secret_tree = state.secret_tree.key_nonce(leaf, RatchetType.HANDSHAKE, generation)
    except MlsError:  # not ours to read, or the key is already gone
        return state
    return attrs.evolve(state, secret_tree=secret_tree)


def merge_commit(state: GroupState, staged: StagedCommit) -> GroupState:
    """Make ``staged`` current: the new epoch's state, with ``state``'s epoch archived.

    StaleStagedCommit unless ``staged`` was built on ``state``'s group and epoch. A commit that
    removed us yields an inactive state that still reads late messages of its last epoch. The
    ratchet key of a PrivateMessage commit is deleted, not archived (9.2).
    """
    new = staged.new_state
    if new.group_id != state.group_id or staged.from_epoch != state.epoch:
        raise StaleStagedCommit(
            f"the staged commit applies to epoch {staged.from_epoch}, the group is at epoch {state.epoch}"
        )
    state = _without_commit_key(state, staged.message)
    if not new.active:
        return attrs.evolve(state, active=False, pending=())
    past, resumption = archive(state)
    return attrs.evolve(new, past_epochs=past, resumption_psks=resumption)
