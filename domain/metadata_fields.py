"""XMTP's mutable-metadata attribute keys (libxmtp MetadataField) and their length limits.

Each member's value is the attribute key stored in the GroupMutableMetadata map. Keys starting with
"_" are super-admin-only when the policy set has no entry for them. Lengths are counted in UTF-8
bytes, as libxmtp's ``String::len`` does, and are enforced both when sending and when receiving.
"""

from __future__ import annotations

import enum

__all__ = [
    "MetadataField",
    "MAX_GROUP_NAME_LENGTH",
    "MAX_GROUP_DESCRIPTION_LENGTH",
    "MAX_GROUP_IMAGE_URL_LENGTH",
    "MAX_APP_DATA_LENGTH",
    "length_limit",
]

MAX_GROUP_NAME_LENGTH = 100
MAX_GROUP_DESCRIPTION_LENGTH = 1000
MAX_GROUP_IMAGE_URL_LENGTH = 2048
MAX_APP_DATA_LENGTH = 8192


class MetadataField(enum.Enum):
    """A mutable-metadata attribute; the value is its key in the attributes map."""

    GROUP_NAME = "group_name"
    DESCRIPTION = "description"
    GROUP_IMAGE_URL_SQUARE = "group_image_url_square"
    MESSAGE_DISAPPEAR_FROM_NS = "message_disappear_from_ns"
    MESSAGE_DISAPPEAR_IN_NS = "message_disappear_in_ns"
    MINIMUM_SUPPORTED_PROTOCOL_VERSION = "minimum_supported_protocol_version"
    APP_DATA = "app_data"
    COMMIT_LOG_SIGNER = "_commit_log_signer"

    @classmethod
    def supported(cls) -> tuple[MetadataField, ...]:
        """The fields that get a policy in new groups' policy sets (all but the commit-log signer)."""
        return (
            cls.GROUP_NAME,
            cls.DESCRIPTION,
            cls.GROUP_IMAGE_URL_SQUARE,
            cls.MESSAGE_DISAPPEAR_FROM_NS,
            cls.MESSAGE_DISAPPEAR_IN_NS,
            cls.MINIMUM_SUPPORTED_PROTOCOL_VERSION,
            cls.APP_DATA,
        )

    @property
    def max_length(self) -> int | None:
        """The maximum value length in UTF-8 bytes, or None when unlimited."""
        return _LIMITS.get(self.value)


_LIMITS = {
    MetadataField.GROUP_NAME.value: MAX_GROUP_NAME_LENGTH,
    MetadataField.DESCRIPTION.value: MAX_GROUP_DESCRIPTION_LENGTH,
    MetadataField.GROUP_IMAGE_URL_SQUARE.value: MAX_GROUP_IMAGE_URL_LENGTH,
    MetadataField.APP_DATA.value: MAX_APP_DATA_LENGTH,
}


def length_limit(field_name: str) -> int | None:
    """The length limit of an attribute key (None for keys without one)."""
    return _LIMITS.get(field_name)
