"""Classifications of stored group messages (libxmtp group_messages columns, spec section 8)."""

from __future__ import annotations

import enum

__all__ = ["MessageKind", "DeliveryStatus"]


class MessageKind(enum.Enum):
    """Whether a stored message is application content or a membership-change transcript."""

    APPLICATION = 1
    MEMBERSHIP_CHANGE = 2


class DeliveryStatus(enum.Enum):
    """A sent message's progress: stored optimistically as UNPUBLISHED, then PUBLISHED or FAILED."""

    UNPUBLISHED = 1
    PUBLISHED = 2
    FAILED = 3
