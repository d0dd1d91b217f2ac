"""Hypothesis strategies for driving XMTP groups (libxmtp semantics sections 1, 4): inbox choices,
message contents, metadata values (including over-long ones), policy presets and permission updates.

Every strategy draws plain values whose reprs read as Python (ints, bytes, str, enum members), so a
shrunk failure can be pasted back as a regression test.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

from hypothesis import strategies as st

from mlsgroup.domain import MetadataField, PermissionPolicyOption, PermissionUpdateType, Preset

__all__ = [
    "inbox_choices",
    "message_contents",
    "metadata_values",
    "valid_metadata_values",
    "overlong_metadata_values",
    "group_names",
    "policy_presets",
    "permission_updates",
    "LIMITED_FIELDS",
]

T = TypeVar("T")

LIMITED_FIELDS: dict[MetadataField, int] = {
    MetadataField.GROUP_NAME: 100,
    MetadataField.DESCRIPTION: 1000,
    MetadataField.GROUP_IMAGE_URL_SQUARE: 2048,
    MetadataField.APP_DATA: 8192,
}
"""libxmtp's length limits, counted in UTF-8 bytes (spec section 1), restated here on purpose: the kit
checks the implementation against the spec, not against the implementation's own constants."""

# One, two, three and four UTF-8 bytes per character: a value can be short in characters and still
# exceed a byte limit, which catches implementations that count characters.
_WIDE_CHARACTERS = ("a", "é", "€", "𝄞")


def inbox_choices(choices: Sequence[T], *, min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[list[T]]:
    """A duplicate-free list drawn from ``choices`` (client indices, inbox ids, ...), in drawn order."""
    top = len(choices) if max_size is None else min(max_size, len(choices))
    return st.lists(st.sampled_from(list(choices)), min_size=min_size, max_size=top, unique=True)


def message_contents(*, max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Arbitrary message bytes, the empty message included."""
    return st.binary(min_size=0, max_size=max_size)


def valid_metadata_values(field: MetadataField = MetadataField.GROUP_NAME, *, max_size: int = 24) -> st.SearchStrategy[str]:
    """Values within the field's limit (short, so steps stay cheap)."""
    limit = LIMITED_FIELDS.get(field)
    text = st.text(st.characters(codec="utf-8"), max_size=max_size)
    if limit is None:
        return text
    return text.filter(lambda value: len(value.encode()) <= limit) | _at_byte_length(limit)


def overlong_metadata_values(field: MetadataField = MetadataField.GROUP_NAME) -> st.SearchStrategy[str]:
    """Values one or more UTF-8 bytes past the field's limit (fields without a limit have none)."""
    limit = LIMITED_FIELDS[field]
    return st.tuples(st.sampled_from(_WIDE_CHARACTERS), st.integers(1, 8)).map(lambda drawn: _past(drawn[0], drawn[1], limit))


def metadata_values(field: MetadataField = MetadataField.GROUP_NAME) -> st.SearchStrategy[str]:
    """Mostly valid values, sometimes exactly at the limit, sometimes over it."""
    if field not in LIMITED_FIELDS:
        return valid_metadata_values(field)
    return st.one_of(valid_metadata_values(field), overlong_metadata_values(field))


def group_names() -> st.SearchStrategy[str]:
    """Valid group names."""
    return valid_metadata_values(MetadataField.GROUP_NAME)


def policy_presets() -> st.SearchStrategy[Preset]:
    """The presets a new (non-DM) group can be created with."""
    return st.sampled_from([Preset.DEFAULT, Preset.ADMINS_ONLY])


def permission_updates() -> st.SearchStrategy[tuple[PermissionUpdateType, PermissionPolicyOption, MetadataField | None]]:
    """(update type, option, metadata field) triples for ``MlsGroup.update_permission``; UPDATE_METADATA
    sometimes comes without a field, which libxmtp rejects with InvalidPermissionUpdate."""
    membership_or_admin = st.tuples(
        st.sampled_from(
            [
                PermissionUpdateType.ADD_MEMBER,
                PermissionUpdateType.REMOVE_MEMBER,
                PermissionUpdateType.ADD_ADMIN,
                PermissionUpdateType.REMOVE_ADMIN,
            ]
        ),
        st.sampled_from(list(PermissionPolicyOption)),
        st.none(),
    )
    metadata = st.tuples(
        st.just(PermissionUpdateType.UPDATE_METADATA),
        st.sampled_from(list(PermissionPolicyOption)),
        st.sampled_from([MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, None]),
    )
    return st.one_of(membership_or_admin, metadata)


def _past(character: str, extra: int, limit: int) -> str:
    width = len(character.encode())
    return character * (limit // width + extra)


def _at_byte_length(limit: int) -> st.SearchStrategy[str]:
    """A value exactly ``limit`` bytes long (the largest accepted)."""
    return st.just("x" * limit)
