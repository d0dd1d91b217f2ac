"""A message as the group_messages view stores it (libxmtp spec section 8; ARCHITECTURE 4 StoredMessage)."""

from __future__ import annotations

from typing import Optional

import attrs

from .message_kinds import DeliveryStatus, MessageKind
from .transcript import GroupUpdated

__all__ = ["StoredMessage"]


@attrs.frozen
class StoredMessage:
    """One application message or membership-change transcript of a group.

    ``group_updated`` is the decoded transcript of a MEMBERSHIP_CHANGE message (None otherwise);
    ``sent_at_ns`` is the delivery service's time once published (our clock while unpublished)."""

    id: bytes
    group_id: bytes
    sender_inbox_id: str
    sender_installation_id: bytes
    content: bytes
    content_type: str
    kind: MessageKind
    sent_at_ns: int
    delivery_status: DeliveryStatus
    group_updated: Optional[GroupUpdated] = None
    inserted_at_ns: int = 0
    epoch: Optional[int] = None

    @property
    def text(self) -> str:
        """The content as UTF-8 text (replacement characters for invalid bytes)."""
        return self.content.decode("utf-8", errors="replace")
