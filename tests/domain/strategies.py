"""Hypothesis strategies for XMTP domain values, and a byte-wise mutator of valid encodings."""

from __future__ import annotations

from hypothesis import strategies as st

from mlsgroup.domain.extensions import (
    ConversationType,
    DmMembers,
    GroupMembership,
    GroupMetadata,
    GroupMutableMetadata,
    GroupMutablePermissions,
)
from mlsgroup.domain.metadata_fields import MetadataField
from mlsgroup.domain.policies import AndCondition, AnyCondition, BasePolicy, PolicySet
from mlsgroup.domain.transcript import GroupUpdated, MetadataFieldChange

inbox_ids = st.text(max_size=12)
attribute_keys = st.one_of(st.sampled_from([f.value for f in MetadataField]), st.text(max_size=10))

PERMISSION_BASES = [BasePolicy.DENY, BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN, BasePolicy.ALLOW_IF_SUPER_ADMIN]


def policies(bases=tuple(BasePolicy)):
    """Policy trees over ``bases`` with non-empty And/Any conditions."""
    base = st.sampled_from(list(bases))
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(AndCondition),
            st.lists(inner, min_size=1, max_size=3).map(AnyCondition),
        ),
        max_leaves=6,
    )


policy_sets = st.builds(
    PolicySet,
    add_member_policy=policies(),
    remove_member_policy=policies(),
    update_metadata_policy=st.dictionaries(attribute_keys, policies(), max_size=4),
    add_admin_policy=policies(PERMISSION_BASES),
    remove_admin_policy=policies(PERMISSION_BASES),
    update_permissions_policy=policies(PERMISSION_BASES),
)

group_metadata = st.builds(
    GroupMetadata,
    conversation_type=st.sampled_from(list(ConversationType)),
    creator_inbox_id=inbox_ids,
    creator_account_address=st.text(max_size=8),
    dm_members=st.none() | st.builds(DmMembers, inbox_ids, inbox_ids),
    oneshot_message=st.none() | st.just(b"") | st.just(b"\x0a\x02hi"),
)

mutable_metadata = st.builds(
    GroupMutableMetadata,
    attributes=st.dictionaries(attribute_keys, st.text(max_size=16), max_size=5),
    admin_list=st.lists(inbox_ids, max_size=4),
    super_admin_list=st.lists(inbox_ids, max_size=4),
)

memberships = st.builds(
    GroupMembership,
    members=st.dictionaries(inbox_ids, st.integers(0, 2**64 - 1), max_size=6),
    failed_installations=st.lists(st.binary(max_size=33), max_size=3),
)

permissions = st.builds(GroupMutablePermissions, policy_sets)

field_changes = st.builds(
    MetadataFieldChange, attribute_keys, st.none() | st.text(max_size=8), st.none() | st.text(max_size=8)
)

inbox_lists = st.lists(inbox_ids, max_size=3)

group_updates = st.builds(
    GroupUpdated,
    initiated_by_inbox_id=inbox_ids,
    added_inboxes=inbox_lists,
    removed_inboxes=inbox_lists,
    left_inboxes=inbox_lists,
    metadata_field_changes=st.lists(field_changes, max_size=3),
    added_admins=inbox_lists,
    removed_admins=inbox_lists,
    added_super_admins=inbox_lists,
    removed_super_admins=inbox_lists,
)


@st.composite
def mutated(draw, encodings):
    """A valid encoding with a few byte-wise edits: replace, insert, delete, or truncate."""
    data = bytearray(draw(encodings))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if action == "insert" or not data:
            data.insert(draw(st.integers(0, len(data))), draw(st.integers(0, 255)))
        elif action == "replace":
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[draw(st.integers(0, len(data) - 1))]
        else:
            del data[draw(st.integers(0, len(data) - 1)) :]
    return bytes(data)
