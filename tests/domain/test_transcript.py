"""The GroupUpdated transcript message: exact bytes with the spec's field numbers, optional-value
presence, round trips, and fuzzing (only DecodeError escapes)."""

from hypothesis import given, settings, strategies as st

from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.transcript import GroupUpdated, MetadataFieldChange

from . import strategies as s


def test_group_updated_bytes():
    value = GroupUpdated(
        "a",
        added_inboxes=["b"],
        removed_inboxes=["c"],
        left_inboxes=["d"],
        metadata_field_changes=[MetadataFieldChange("n", None, "x")],
        added_admins=["e"],
        removed_admins=["f"],
        added_super_admins=["g"],
        removed_super_admins=["h"],
    )
    expected = bytes.fromhex(
        "0a0161"  # 1 initiated_by_inbox_id
        "12030a0162"  # 2 added_inboxes [Inbox{"b"}]
        "1a030a0163"  # 3 removed_inboxes
        "22060a016e1a0178"  # 4 MetadataFieldChange{1 "n", 3 "x"} (old_value absent)
        "2a030a0164"  # 5 left_inboxes
        "32030a0165"  # 6 added admins
        "3a030a0166"  # 7 removed admins
        "42030a0167"  # 8 added super admins
        "4a030a0168"  # 9 removed super admins
    )
    assert value.encode() == expected
    assert GroupUpdated.decode(expected) == value


def test_optional_values_keep_presence():
    cleared = MetadataFieldChange("n", "old", "")
    assert cleared.encode() == bytes.fromhex("0a016e" "12036f6c64" "1a00")
    assert MetadataFieldChange.decode(cleared.encode()) == cleared
    assert MetadataFieldChange.decode(b"\x0a\x01n") == MetadataFieldChange("n", None, None)


def test_older_senders_without_admin_fields_decode():
    old_format = bytes.fromhex("0a0161" "12030a0162")
    assert GroupUpdated.decode(old_format) == GroupUpdated("a", added_inboxes=["b"])


@settings(max_examples=80)
@given(s.group_updates)
def test_round_trip(value):
    assert GroupUpdated.decode(value.encode()) == value


@settings(max_examples=150)
@given(st.one_of(st.binary(max_size=64), s.mutated(s.group_updates.map(lambda v: v.encode()))))
def test_garbage_raises_only_decode_error(data):
    try:
        value = GroupUpdated.decode(data)
    except DecodeError:
        return
    assert GroupUpdated.decode(value.encode()) == value
