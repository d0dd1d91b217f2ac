"""Forging handshake messages as an insider would: any content, signed by any key, with a correct
membership tag, so that tests reach the checks behind signature and MAC verification."""

from __future__ import annotations

from typing import Optional

from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.framing import (
    FramedContent,
    FramedContentAuthData,
    PublicMessage,
    SenderMember,
    framed_content_tbs,
)
from mlsgroup.domain.mls.group import GroupState
from mlsgroup.domain.mls.messages import MLSMessage


def forge_public(
    state: GroupState,
    content,
    *,
    sender=None,
    signer: Optional[bytes] = None,
    confirmation_tag: Optional[bytes] = None,
    epoch: Optional[int] = None,
) -> bytes:
    """An encoded PublicMessage with ``content`` in ``state``'s epoch, signed by ``signer`` (default:
    ``state``'s own key) for ``sender`` (default: ``state``'s leaf), with a valid membership tag."""
    suite = state.suite
    sender = SenderMember(state.own_leaf_index) if sender is None else sender
    framed = FramedContent(state.group_id, state.epoch if epoch is None else epoch, sender, b"", content)
    tbs = framed_content_tbs(WireFormat.PUBLIC_MESSAGE, framed, state.encoded_group_context)
    signature = suite.sign_with_label(signer or state.signature_private, "FramedContentTBS", tbs)
    is_commit = framed.content_type == 3
    auth = FramedContentAuthData(signature, (confirmation_tag or bytes(suite.hash_len)) if is_commit else None)
    tag = suite.mac(state.epoch_secrets.membership_key, tbs + auth.encode()) if sender.TAG == 1 else None
    return MLSMessage.wrap(PublicMessage(framed, auth, tag)).encode()
