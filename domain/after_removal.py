"""What a removed member still sees of its group (libxmtp section 7; RFC 9420 12.4.2): the public
part of the epoch the removing commit began.

A commit that removes us leaves our MLS state at the last epoch we belonged to, inactive (it still
reads late messages of that epoch). libxmtp's MLS library merges the removing commit's public part
all the same (the new tree and group context, without epoch secrets), and libxmtp's ``members()``
reads the group-membership extension of that new context: a removed member's list no longer names
it (nor its removed installation, when only the installation was removed). ``AfterRemoval`` keeps
that public part as the XMTP view needs it, re-derived from the stored commit by the projector.
"""

from __future__ import annotations

import attrs

from .eventing import register_value
from .group_derivations import ReplayMismatch
from .group_state import XmtpGroupState
from .mls.errors import DecodeError, MlsError
from .mls.group import GroupState, StagedCommit, process_message
from .xmtp_mls import credential_inbox_id, extension_pairs, leaf_inbox_id

__all__ = ["AfterRemoval"]


@register_value("mlsgroup.AfterRemoval")
@attrs.frozen(kw_only=True)
class AfterRemoval:
    """The group-context extensions and the tree's installations (installation id, inbox id) of the
    epoch a commit that removed us began."""

    extensions: tuple[tuple[int, bytes], ...]
    installations: tuple[tuple[bytes, str], ...]

    @classmethod
    def of_commit(cls, mls: GroupState, commit: bytes) -> AfterRemoval:
        """The public part of ``commit``, which removes us from ``mls``'s group (processed again: pure)."""
        try:
            staged = process_message(mls, commit).output
        except (DecodeError, MlsError) as exc:
            raise ReplayMismatch(f"the commit that removed us no longer processes: {exc}") from None
        if not isinstance(staged, StagedCommit) or not staged.effect.own_leaf_removed:
            raise ReplayMismatch("the commit recorded as removing us does not remove us")
        effect = staged.effect
        leaves = {index: (leaf.signature_key, leaf_inbox_id(leaf)) for index, leaf in mls.tree.leaves()}
        for member in effect.removed:
            leaves.pop(member.leaf_index, None)
        for updated in effect.updated:
            leaves[updated.leaf_index] = (updated.after.signature_key, credential_inbox_id(updated.after.credential))
        for added in effect.added:
            leaves[added.leaf_index] = (added.signature_key, credential_inbox_id(added.credential))
        return cls(extensions=extension_pairs(effect.extensions_after), installations=tuple(sorted(leaves.values())))

    def xmtp(self) -> XmtpGroupState:
        """The XMTP view of that epoch (members, admin lists, permissions, metadata)."""
        return XmtpGroupState.from_extensions(dict(self.extensions), dict(self.installations))
