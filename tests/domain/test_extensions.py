"""XMTP's four group-context extensions: exact bytes for hand-encoded protobuf (the field numbers of
the spec's table), round trips, required fields, and fuzzing (random bytes and byte-wise mutations
of valid encodings raise DecodeError and nothing else; whatever decodes re-encodes canonically)."""

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain.extensions import (
    ConversationType,
    DmMembers,
    GroupMembership,
    GroupMetadata,
    GroupMutableMetadata,
    GroupMutablePermissions,
)
from mlsgroup.domain.metadata_fields import MetadataField
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.policies import BasePolicy, PermissionLevel, PolicySet

from . import strategies as s

CODECS = [
    (GroupMetadata, s.group_metadata),
    (GroupMutableMetadata, s.mutable_metadata),
    (GroupMembership, s.memberships),
    (GroupMutablePermissions, s.permissions),
]


def test_group_metadata_bytes():
    value = GroupMetadata(ConversationType.DM, "a", dm_members=DmMembers("a", "b"))
    # 1: conversation_type=2; 2: "" omitted; 3: "a"; 4: DmMembers{1: Inbox{"a"}, 2: Inbox{"b"}}
    expected = bytes.fromhex("0802" "1a0161" "220a" "0a030a0161" "12030a0162")
    assert value.encode() == expected
    assert GroupMetadata.decode(expected) == value


def test_group_metadata_with_account_address_and_oneshot():
    value = GroupMetadata(ConversationType.ONESHOT, "c", creator_account_address="0x1", oneshot_message=b"\x08\x01")
    assert value.encode() == bytes.fromhex("0804" "1203307831" "1a0163" "2a020801")
    assert GroupMetadata.decode(value.encode()) == value


def test_mutable_metadata_bytes():
    value = GroupMutableMetadata({"group_name": "x"}, (), ("a",))
    # 1: map entry {1: "group_name", 2: "x"}; 2: Inboxes{} (always written); 3: Inboxes{["a"]}
    expected = bytes.fromhex("0a0f0a0a" + b"group_name".hex() + "120178" "1200" "1a030a0161")
    assert value.encode() == expected
    assert GroupMutableMetadata.decode(expected) == value


def test_membership_bytes():
    value = GroupMembership({"ab": 5}, (b"\x01",))
    expected = bytes.fromhex("0a060a0261621005" "120101")
    assert value.encode() == expected
    assert GroupMembership.decode(expected) == value


def test_permissions_bytes():
    policies = PolicySet(
        add_member_policy=BasePolicy.ALLOW,
        remove_member_policy=BasePolicy.DENY,
        update_metadata_policy={"d": BasePolicy.ALLOW_IF_SUPER_ADMIN},
        add_admin_policy=BasePolicy.DENY,
        remove_admin_policy=BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN,
        update_permissions_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
    )
    policy_set = (
        "0a020801"  # add_member: base ALLOW(1)
        "12020802"  # remove_member: base DENY(2)
        "1a070a0164" "12020804"  # metadata map {"d": base ALLOW_IF_SUPER_ADMIN(4)}
        "22020801"  # add_admin: permissions DENY(1)
        "2a020802"  # remove_admin: permissions ALLOW_IF_ADMIN(2)
        "32020803"  # update_permissions: ALLOW_IF_SUPER_ADMIN(3)
    )
    expected = bytes.fromhex("0a1d" + policy_set)
    assert GroupMutablePermissions(policies).encode() == expected
    assert GroupMutablePermissions.decode(expected).policies == policies


def test_map_order_on_the_wire_does_not_matter():
    one = GroupMembership({"a": 1, "b": 2}).encode()
    entries = [one[: len(one) // 2], one[len(one) // 2 :]]
    assert GroupMembership.decode(entries[1] + entries[0]) == GroupMembership({"b": 2, "a": 1})


def test_duplicate_map_keys_last_wins():
    data = GroupMembership({"a": 1}).encode() + GroupMembership({"a": 9}).encode()
    assert GroupMembership.decode(data).members == {"a": 9}


@pytest.mark.parametrize(
    "codec, data",
    [
        (GroupMetadata, b""),  # conversation type unspecified (0)
        (GroupMetadata, b"\x08\x07"),  # unknown conversation type
        (GroupMetadata, bytes.fromhex("0801" "2205" "0a030a0161")),  # DmMembers without member two
        (GroupMutableMetadata, b""),  # admin lists missing
        (GroupMutableMetadata, b"\x12\x00"),  # super admin list missing
        (GroupMutablePermissions, b""),  # no policies
        (GroupMutablePermissions, b"\x0a\x00"),  # policies without add_member_policy
        (GroupMembership, b"\x0a\x02\x10\xff"),  # truncated varint inside an entry
    ],
)
def test_required_and_malformed_fields(codec, data):
    with pytest.raises(DecodeError):
        codec.decode(data)


def test_mutable_metadata_helpers():
    metadata = GroupMutableMetadata.new_group("alice", name="n")
    assert metadata.get(MetadataField.GROUP_NAME) == "n"
    assert metadata.get(MetadataField.APP_DATA) == ""
    assert metadata.super_admin_list == ("alice",) and metadata.admin_list == ()
    promoted = metadata.with_admin("bob").with_admin("bob").with_super_admin("carol")
    assert promoted.admin_list == ("bob",)
    assert promoted.permission_level("carol") is PermissionLevel.SUPER_ADMIN
    assert promoted.permission_level("bob") is PermissionLevel.ADMIN
    assert promoted.permission_level("dan") is PermissionLevel.MEMBER
    assert promoted.without_admin("bob").without_super_admin("carol") == metadata
    dm = GroupMutableMetadata.new_dm()
    assert dm.admin_list == dm.super_admin_list == ()
    assert dm.get(MetadataField.GROUP_NAME) == "" and dm.get(MetadataField.APP_DATA) is None


def test_membership_diff():
    old = GroupMembership({"a": 1, "b": 1, "c": 3})
    new = old.with_members({"b": 2, "d": 1}).without_members(["c"])
    diff = old.diff(new)
    assert (diff.added_inboxes, diff.removed_inboxes, diff.updated_inboxes) == (("d",), ("c",), ("b",))


def test_membership_rejects_non_uint64():
    with pytest.raises(ValueError):
        GroupMembership({"a": -1})


def test_conversation_types():
    assert [t.value for t in ConversationType] == [1, 2, 3, 4]
    assert ConversationType.SYNC.is_virtual and ConversationType.ONESHOT.is_virtual
    assert not ConversationType.GROUP.is_virtual and not ConversationType.DM.is_virtual


@pytest.mark.parametrize("codec, values", CODECS, ids=lambda c: getattr(c, "__name__", ""))
@settings(max_examples=60)
@given(data=st.data())
def test_round_trip(codec, values, data):
    value = data.draw(values)
    encoded = value.encode()
    assert codec.decode(encoded) == value
    assert codec.decode(encoded).encode() == encoded


def _decode_only_decode_error(codec, data):
    try:
        value = codec.decode(data)
    except DecodeError:
        return
    assert codec.decode(value.encode()) == value


@pytest.mark.parametrize("codec, values", CODECS, ids=lambda c: getattr(c, "__name__", ""))
@settings(max_examples=150)
@given(data=st.data())
def test_mutations_of_valid_encodings_raise_only_decode_error(codec, values, data):
    _decode_only_decode_error(codec, data.draw(s.mutated(values.map(lambda v: v.encode()))))


@pytest.mark.parametrize("codec", [c for c, _ in CODECS], ids=lambda c: c.__name__)
@settings(max_examples=150)
@given(data=st.binary(max_size=80))
def test_random_bytes_raise_only_decode_error(codec, data):
    _decode_only_decode_error(codec, data)
