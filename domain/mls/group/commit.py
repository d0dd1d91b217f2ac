"""Creating a commit (RFC 9420 12.4, 12.4.1): proposals by value and by reference, the UpdatePath,
transcript hashes, key schedule, confirmation tag and the Welcome for added members.

``commit`` returns a ``StagedCommit``; the epoch advances only when the caller merges it with
``merge_commit``. Pending proposals received in this epoch are covered by reference (our own
Updates and Removes of ourselves excepted, and for a leaf named twice the Remove or the latest
Update wins; a proposal that would make the list invalid, or a PSK we do not hold, is left out);
the caller's adds, removes, extensions and PSKs follow by value.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

from ..commits import Commit, ProposalRef
from ..codec import encode_opaque
from ..enums import ProposalType, SenderType, WireFormat
from ..extensions import Extension
from ..framing import AuthenticatedContent, FramedContentAuthData, SenderMember
from ..group_context import GroupContext
from ..key_packages import KeyPackage
from ..proposals import Add, GroupContextExtensions, PreSharedKey, PreSharedKeyID, ExternalPsk, Proposal, Remove
from ..tree_errors import InvalidProposalTarget, TreeValidationError
from ..treekem import create_update_path
from .effects import commit_effect
from .epoch_transition import next_epoch, next_state
from .errors import InvalidCommitRequest, InvalidProposal, KeyPackageValidationError, PskNotFound
from .key_package_bundles import decode_key_package_message
from .outputs import StagedCommit
from .proposals import ProposalEntry, apply_proposals
from .psks import psk_secret_for, resolve_psks
from .rules import validate_commit
from .seeds import check_seed, expand_seed
from .sending import WireFormatName, frame, protect, public_commit_message, sign_encoded, wire_format_of
from .wire_cache import framed_commit_bytes
from .state import GroupState, PendingProposal
from .welcome import build_welcome, sign_group_info

__all__ = ["commit"]

KeyPackageLike = Union[KeyPackage, bytes]


def _key_package(value: KeyPackageLike) -> KeyPackage:
    if isinstance(value, KeyPackage):
        return value
    if isinstance(value, (bytes, bytearray)):
        return decode_key_package_message(bytes(value))
    raise TypeError("adds take KeyPackage values or encoded MLSMessage(KeyPackage) bytes")


def _pending_entries(state: GroupState, removed_by_value: set[int], gce_by_value: bool) -> list[ProposalEntry]:
    """The pending proposals this commit can cover, in the order received.

    Left out (RFC 9420 12.2 lets the committer choose): our own Updates and Removes of us, an
    Update of a leaf also removed, all but the Remove or else the latest Update per leaf, all but
    the latest GroupContextExtensions (none if the caller gives extensions), Adds of a client
    already present, and repeated PSKs.
    """
    own = state.own_leaf_index
    chosen: list[Optional[PendingProposal]] = []
    per_leaf: dict[int, int] = {}  # leaf -> position in ``chosen`` of its Update/Remove
    last_gce: Optional[int] = None
    for pending in state.pending:
        proposal, sender = pending.proposal, pending.sender
        kind = proposal.TAG
        if kind in (ProposalType.UPDATE, ProposalType.REMOVE):
            if kind == ProposalType.UPDATE:
                if sender.TAG != SenderType.MEMBER or sender.leaf_index == own:
                    continue
                leaf = sender.leaf_index
                if leaf in removed_by_value:
                    continue
            else:
                leaf = proposal.removed
                if leaf == own:
                    continue
            at = per_leaf.get(leaf)
            if at is not None:
                if chosen[at].proposal.TAG == ProposalType.REMOVE:  # type: ignore[union-attr]
                    continue
                chosen[at] = None
            per_leaf[leaf] = len(chosen)
        elif kind == ProposalType.GROUP_CONTEXT_EXTENSIONS:
            if gce_by_value:
                continue
            if last_gce is not None:
                chosen[last_gce] = None
            last_gce = len(chosen)
        chosen.append(pending)
    kept = [p for p in chosen if p is not None]
    removed = removed_by_value | {p.proposal.removed for p in kept if p.proposal.TAG == ProposalType.REMOVE}
    present = {leaf.signature_key for index, leaf in state.tree.leaves() if index not in removed}
    psks: set[bytes] = set()
    entries = []
    for p in kept:
        kind = p.proposal.TAG
        if kind == ProposalType.ADD:
            key = p.proposal.key_package.leaf_node.signature_key
            if key in present:
                continue
            present.add(key)
        elif kind == ProposalType.PSK:
            encoded = p.proposal.psk.encode()
            if encoded in psks:
                continue
            psks.add(encoded)
        entries.append(ProposalEntry(p.proposal, p.sender, p.ref, True, p.encryption_private))
    return entries


#: What makes a proposal list invalid for this committer (12.2, and PSKs it does not hold, 12.4.2).
_INVALID_LIST = (InvalidProposal, KeyPackageValidationError, TreeValidationError, InvalidProposalTarget, PskNotFound)


def _valid_list(pending: list[ProposalEntry], attempt: Callable):
    """``attempt(chosen pending entries)`` for the pending entries this commit covers.

    All of them when that list is valid; otherwise (RFC 12.4: include the valid proposals "as long
    as this results in a valid proposal list") each pending entry is kept if the list stays valid
    with it, Removes first since they only ever help later entries, in the order received. One
    member's invalid proposal thus cannot block everyone else's commits. The caller's own changes
    (by value) are in every attempt, so if they are invalid the last attempt raises their error.
    """
    try:
        return attempt(pending)
    except _INVALID_LIST:
        if not pending:
            raise
    order = sorted(range(len(pending)), key=lambda i: pending[i].proposal.TAG != ProposalType.REMOVE)
    kept: set[int] = set()
    for i in order:
        try:
            attempt([pending[j] for j in sorted(kept | {i})])
        except _INVALID_LIST:
            continue
        kept.add(i)
    return attempt([pending[j] for j in sorted(kept)])


def _by_value_entries(
    state: GroupState,
    adds: Sequence[KeyPackage],
    removes: Sequence[int],
    group_context_extensions: Optional[Sequence[Extension]],
    psks: Sequence[Union[bytes, PreSharedKeyID]],
    seed: bytes,
) -> list[ProposalEntry]:
    suite = state.suite
    me = SenderMember(state.own_leaf_index)
    proposals: list[Proposal] = [Remove(leaf) for leaf in removes]
    proposals += [Add(key_package) for key_package in adds]
    if group_context_extensions is not None:
        proposals.append(GroupContextExtensions(tuple(group_context_extensions)))
    for position, psk in enumerate(psks):
        if isinstance(psk, (bytes, bytearray)):
            nonce = expand_seed(suite, seed, b"psk nonce", suite.hash_len, position.to_bytes(4, "big"))
            psk = PreSharedKeyID(ExternalPsk(bytes(psk)), nonce)
        proposals.append(PreSharedKey(psk))
    return [ProposalEntry(proposal, me) for proposal in proposals]


def commit(
    state: GroupState,
    *,
    adds: Iterable[KeyPackageLike] = (),
    removes: Iterable[int] = (),
    group_context_extensions: Optional[Iterable[Extension]] = None,
    psks: Iterable[Union[bytes, PreSharedKeyID]] = (),
    update_path: Optional[bool] = None,
    seed: bytes,
    handshake_wire_format: WireFormatName = "private",
    ratchet_tree_in_welcome: bool = True,
    authenticated_data: bytes = b"",
    include_pending: bool = True,
    psk_store: Optional[Mapping[bytes, bytes]] = None,
    now: Optional[int] = None,
    rules: object = None,
) -> StagedCommit:
    """Stage a commit of the pending proposals (by reference) and the given changes (by value).

    ``update_path``: None adds an UpdatePath when a proposal requires one or the commit would be
    empty (a self-update); True always; False never (InvalidCommitRequest if one is required).
    ``psks`` are external PSK ids (bytes, given a fresh nonce) or PreSharedKeyIDs; their secrets
    come from ``psk_store`` (resumption PSKs of this group from the state). ``now`` enables the
    KeyPackage lifetime checks; ``rules`` (an MlsRules) may veto the commit's effect, as receivers'
    rules would. Raises NotAMember, InvalidCommitRequest, KeyPackageValidationError or
    InvalidProposal subclasses for an invalid commit; never changes ``state``.
    """
    state.own_leaf()
    seed = check_seed(seed)
    suite = state.suite
    wire_format = wire_format_of(handshake_wire_format)
    adds = [_key_package(value) for value in adds]
    removes = [int(leaf) for leaf in removes]
    psks = list(psks)
    own = state.own_leaf_index
    if len(set(removes)) != len(removes):
        raise InvalidCommitRequest("the same leaf is removed twice")
    for leaf in removes:
        if leaf == own:
            raise InvalidCommitRequest("a member cannot commit its own removal; propose it instead")
        if not state.tree.has_leaf(leaf):
            raise InvalidCommitRequest(f"leaf {leaf} holds no member")
    gce = None if group_context_extensions is None else tuple(group_context_extensions)

    pending = _pending_entries(state, set(removes), gce is not None) if include_pending else []

    def attempt(chosen: list[ProposalEntry]):
        covered = {e.proposal.removed for e in chosen if e.proposal.TAG == ProposalType.REMOVE}
        by_value = _by_value_entries(state, adds, [leaf for leaf in removes if leaf not in covered], gce, psks, seed)
        entries = chosen + by_value
        applied = apply_proposals(state, entries, own, now=now)
        return entries, applied, resolve_psks(applied.psks, psk_store, state.group_id, state.resumption_psk_map())

    entries, applied, resolved = _valid_list(pending, attempt)

    with_path = applied.path_required if update_path is None else bool(update_path)
    if applied.path_required and not with_path:
        raise InvalidCommitRequest("this commit requires an UpdatePath")
    old = state.group_context
    created = None
    if with_path:
        provisional = GroupContext(
            old.version, old.cipher_suite, old.group_id, old.epoch + 1, b"", old.confirmed_transcript_hash,
            applied.extensions,
        )
        created = create_update_path(
            applied.tree,
            own,
            expand_seed(suite, seed, b"update path", 32),
            signature_private_key=state.signature_private,
            group_context=provisional,
            excluded_leaves=applied.added_leaves,
        )
        tree, private, commit_secret = created.tree, created.private, bytes(created.commit_secret)
    else:
        tree, private, commit_secret = applied.tree, state.private.pruned(applied.tree), bytes(suite.hash_len)

    psk_secret = psk_secret_for(suite, resolved)

    proposals_or_refs = tuple(ProposalRef(e.ref) if e.ref is not None else e.proposal for e in entries)
    framed = frame(state, Commit(proposals_or_refs, None if created is None else created.update_path), authenticated_data)
    framed_bytes = framed_commit_bytes(framed)
    tbs, signature = sign_encoded(state, framed, framed_bytes, wire_format)
    confirmed_input = wire_format.to_bytes(2, "big") + framed_bytes + encode_opaque(signature)
    epoch = next_epoch(state, tree, applied.extensions, confirmed_input, commit_secret, psk_secret)
    if wire_format == WireFormat.PUBLIC_MESSAGE:
        message = public_commit_message(state, framed_bytes, tbs, signature, epoch.confirmation_tag)
    else:
        content = AuthenticatedContent(wire_format, framed, FramedContentAuthData(signature, epoch.confirmation_tag))
        message, _ = protect(state, content, expand_seed(suite, seed, b"commit protection", 32))

    new_state = next_state(state, tree, private, epoch)
    welcome = None
    if applied.added:
        group_info = sign_group_info(
            suite,
            state.signature_private,
            epoch.group_context,
            epoch.confirmation_tag,
            own,
            tree if ratchet_tree_in_welcome else None,
        )
        welcome = build_welcome(
            suite,
            group_info,
            epoch.secrets.joiner_secret,
            epoch.secrets.welcome_secret,
            applied.added,
            applied.psks,
            (lambda leaf: None) if created is None else created.path_secret_for,
            expand_seed(suite, seed, b"welcome", 32),
        )
    effect = commit_effect(state, applied, entries, own, tree, with_path)
    validate_commit(rules, state, effect)
    return StagedCommit(message, welcome, new_state, effect, state.epoch)

