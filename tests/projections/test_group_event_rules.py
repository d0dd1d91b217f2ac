"""The group views' rules on hand-made event streams (pure replay): delivery status and intent state
transitions, stale commits, re-joins, leave requests, duplicates, and extension snapshots."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from mlsgroup.domain.conversation import ConsentState, MembershipState
from mlsgroup.domain.extensions import ConversationType
from mlsgroup.domain.group_events import (
    ApplicationReceived,
    CommitMerged,
    CommitRejected,
    ConsentStateChanged,
    EnvelopeProcessed,
    GroupCreated,
    GroupJoined,
    IntentFailed,
    IntentProcessed,
    IntentPublished,
    IntentQueued,
    IntentSendFailed,
    LeaveRequestReceived,
    MembershipStateChanged,
    OwnCommitMerged,
    OwnMessageConfirmed,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.intents import (
    CommitPlan,
    IntentKind,
    IntentState,
    KeyUpdateData,
    MetadataUpdateData,
    SendMessageData,
)
from mlsgroup.domain.message_kinds import DeliveryStatus, MessageKind
from mlsgroup.domain.transcript import GroupUpdated
from mlsgroup.projections import (
    SUPER_ADMIN_LIST,
    conversations_view,
    group_extensions_view,
    group_intents_view,
    group_views,
    replay,
)
from mlsgroup.projections.group_extensions import decode_extensions, encode_extensions

GROUP = bytes(range(16))
ALICE, BOB = "a" * 64, "b" * 64


class Stream:
    """Events of one group at one installation, with versions and timestamps filled in."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.now = 1_000

    def add(self, cls: type, **fields: Any) -> Any:
        self.now += 10
        event = cls(originator_id=uuid.UUID(bytes=GROUP), originator_version=len(self.events) + 1,
                    timestamp_ns=self.now, **fields)
        self.events.append(event)
        return event

    def envelope(self, outcome: Any, cursor: int, server_ns: int | None = None) -> Any:
        return self.add(EnvelopeProcessed, cursor=cursor, payload=b"p%d" % cursor,
                        server_time_ns=server_ns or self.now + 5, outcome=outcome)


def _created(stream: Stream, name: str = "n") -> Any:
    xmtp = XmtpGroupState.new_group(ALICE, b"\x01" * 32, name=name)
    return stream.add(GroupCreated, group_id=GROUP, inbox_id=ALICE, installation_id=b"\x01" * 32,
                      conversation_type=ConversationType.GROUP, dm_id=None,
                      extensions=tuple(sorted(xmtp.extensions().items())), signature_private=bytes(32), seed=bytes(32))


def _send(stream: Stream, intent: bytes, content: bytes = b"hi", content_type: str = "text") -> bytes:
    message_id = hashlib.sha256(intent + content).digest()
    stream.add(IntentQueued, intent_id=intent, data=SendMessageData(
        content=content, content_type=content_type, idempotency_key=intent, message_id=message_id))
    return message_id


def _publish(stream: Stream, intent: bytes, epoch: int = 0, plan: CommitPlan | None = None) -> None:
    stream.add(IntentPublished, intent_id=intent, epoch=epoch, payload=intent, payload_hash=b"h" + intent,
               plan=plan, seed=bytes(32))


def test_three_send_failures_fail_the_message_and_the_intent() -> None:
    stream = Stream()
    _created(stream)
    message = _send(stream, b"i1")
    for _ in range(2):
        stream.add(IntentSendFailed, intent_id=b"i1", reason="timeout")
    rows = replay(group_views, stream.events)
    assert rows["group_messages"][(message,)]["delivery_status"] == DeliveryStatus.UNPUBLISHED.value
    assert rows["group_intents"][(b"i1",)]["publish_attempts"] == 2
    stream.add(IntentSendFailed, intent_id=b"i1", reason="timeout")
    rows = replay(group_views, stream.events)
    assert rows["group_messages"][(message,)]["delivery_status"] == DeliveryStatus.FAILED.value
    intent = rows["group_intents"][(b"i1",)]
    assert (intent["state"], intent["error"], intent["error_detail"]) == (IntentState.ERROR.value, "SyncError", "timeout")
    assert rows["outbox"] == {}


def test_confirmation_publishes_at_server_time_and_moves_last_message() -> None:
    stream = Stream()
    _created(stream)
    message = _send(stream, b"i1")
    _publish(stream, b"i1", epoch=3)
    stream.envelope(OwnMessageConfirmed(intent_id=b"i1", message_id=message), cursor=7, server_ns=99_999)
    rows = replay(group_views, stream.events)
    stored = rows["group_messages"][(message,)]
    assert (stored["delivery_status"], stored["sent_at_ns"], stored["sequence_id"]) == (
        DeliveryStatus.PUBLISHED.value, 99_999, 7)
    assert stored["inserted_at_ns"] == stream.events[1].timestamp_ns
    assert rows["groups"][(GROUP,)]["last_message_ns"] == 99_999
    intent = rows["group_intents"][(b"i1",)]
    assert (intent["state"], intent["published_in_epoch"], intent["message_id"]) == (
        IntentState.PROCESSED.value, 3, message)


def test_failed_intents_fail_their_message_and_leave_requests_are_not_messages() -> None:
    stream = Stream()
    _created(stream)
    message = _send(stream, b"i1")
    stream.add(IntentFailed, intent_id=b"i1", error="GroupInactive", detail="")
    _send(stream, b"i2", b"", "xmtp.org/leave_request:1.0")
    rows = replay(group_views, stream.events)
    assert rows["group_messages"][(message,)]["delivery_status"] == DeliveryStatus.FAILED.value
    assert len(rows["group_messages"]) == 1
    assert rows["group_intents"][(b"i2",)]["kind"] == IntentKind.SEND_MESSAGE.value


def test_received_messages_keep_the_first_copy_of_an_id() -> None:
    stream = Stream()
    _created(stream)
    received = dict(message_id=b"m" * 32, sender_inbox_id=BOB, sender_installation_id=b"\x02" * 32,
                    content_type="text", idempotency_key=b"k", epoch=1)
    stream.envelope(ApplicationReceived(content=b"first", **received), cursor=1, server_ns=5_000)
    stream.envelope(ApplicationReceived(content=b"second", **received), cursor=2, server_ns=6_000)
    row = replay(conversations_view, stream.events)["group_messages"][(b"m" * 32,)]
    assert (row["decrypted_message_bytes"], row["sent_at_ns"], row["epoch"]) == (b"first", 5_000, 1)


def test_a_merged_commit_sends_other_published_commits_back_to_be_rebuilt() -> None:
    stream = Stream()
    _created(stream)
    stream.add(IntentQueued, intent_id=b"k1", data=KeyUpdateData())
    _publish(stream, b"k1", epoch=0, plan=CommitPlan())
    _send(stream, b"s1")
    _publish(stream, b"s1", epoch=0)
    stream.envelope(CommitMerged(committer_inbox_id=BOB, committer_installation_id=b"\x02" * 32,
                                 group_updated=None, identity_states=()), cursor=1)
    rows = replay(group_intents_view, stream.events)["group_intents"]
    assert (rows[(b"k1",)]["state"], rows[(b"k1",)]["payload_hash"], rows[(b"k1",)]["published_in_epoch"]) == (
        IntentState.TO_PUBLISH.value, None, 0)
    assert rows[(b"s1",)]["state"] == IntentState.PUBLISHED.value
    _publish(stream, b"k1", epoch=1, plan=CommitPlan())
    stream.envelope(OwnCommitMerged(intent_id=b"k1", group_updated=None, welcome=b"w", welcome_installations=(),
                                    identity_states=()), cursor=2)
    assert replay(group_intents_view, stream.events)["group_intents"][(b"k1",)]["state"] == IntentState.COMMITTED.value
    stream.add(IntentProcessed, intent_id=b"k1")
    stream.add(IntentQueued, intent_id=b"m1", data=MetadataUpdateData(field_name="group_name", value="x"))
    _publish(stream, b"m1", epoch=2, plan=CommitPlan())
    stream.envelope(CommitRejected(error="InsufficientPermissions", detail="no", intent_id=b"m1",
                                   identity_states=()), cursor=3)
    rows = replay(group_intents_view, stream.events)["group_intents"]
    assert rows[(b"k1",)]["state"] == IntentState.PROCESSED.value
    assert (rows[(b"m1",)]["state"], rows[(b"m1",)]["error"]) == (IntentState.ERROR.value, "InsufficientPermissions")


def _extensions(name: str) -> tuple[tuple[int, bytes], ...]:
    return tuple(sorted(XmtpGroupState.new_group(ALICE, b"\x01" * 32, name=name).extensions().items()))


def _merged(still_member: bool | None, extensions: Any = None, updated: GroupUpdated | None = None) -> CommitMerged:
    return CommitMerged(committer_inbox_id=BOB, committer_installation_id=b"\x02" * 32,
                        group_updated=None if updated is None else updated.encode(), identity_states=(),
                        still_member=still_member, extensions=extensions)


def test_being_welcomed_back_voids_open_intents_fails_their_messages_and_restores_membership() -> None:
    stream = Stream()
    _created(stream)
    done = _send(stream, b"done")
    _publish(stream, b"done")
    stream.envelope(OwnMessageConfirmed(intent_id=b"done", message_id=done), cursor=2)
    waiting = _send(stream, b"open")
    _send(stream, b"leave", b"", "xmtp.org/leave_request:1.0")
    stream.envelope(_merged(False), cursor=3)
    stream.add(MembershipStateChanged, membership_state=MembershipState.PENDING_REMOVE)
    stream.add(ConsentStateChanged, consent_state=ConsentState.DENIED)
    group = replay(group_views, stream.events)["groups"][(GROUP,)]
    assert (group["is_active"], group["epoch"]) == (False, 1)  # the removing commit began epoch 1
    transcript = GroupUpdated(BOB, added_inboxes=(ALICE,)).encode()
    stream.add(GroupJoined, group_id=GROUP, inbox_id=ALICE, installation_id=b"\x01" * 32,
               conversation_type=ConversationType.GROUP, dm_id=None, added_by_inbox_id=BOB, welcome=b"w",
               cursor=12, group_updated=transcript, key_package_bundle=b"k", epoch=7,
               extensions=_extensions("again"))
    rows = replay(group_views, stream.events)
    intents = rows["group_intents"]
    assert intents[(b"done",)]["state"] == IntentState.PROCESSED.value
    assert (intents[(b"open",)]["state"], intents[(b"open",)]["error"]) == (IntentState.ERROR.value, "GroupInactive")
    # libxmtp: a message whose intent can never be published is FAILED, not left UNPUBLISHED.
    assert rows["group_messages"][(waiting,)]["delivery_status"] == DeliveryStatus.FAILED.value
    assert rows["group_messages"][(done,)]["delivery_status"] == DeliveryStatus.PUBLISHED.value
    assert rows["outbox"] == {}
    group = rows["groups"][(GROUP,)]
    assert (group["membership_state"], group["consent_state"], group["added_by_inbox_id"]) == (
        MembershipState.ALLOWED.value, ConsentState.DENIED.value, BOB)
    assert (group["epoch"], group["is_active"]) == (7, True)
    (welcome,) = [m for m in rows["group_messages"].values() if m["kind"] == MessageKind.MEMBERSHIP_CHANGE.value]
    assert (welcome["sender_inbox_id"], welcome["decrypted_message_bytes"], welcome["sequence_id"]) == (
        BOB, transcript, 12)
    assert rows["group_extension_state"][(GROUP,)]["known"] is True
    assert rows["group_attributes"][(GROUP, "group_name")]["value"] == "again"


def test_merged_commits_move_the_epoch_and_a_commit_removing_us_ends_the_group() -> None:
    stream = Stream()
    _created(stream)
    stream.add(IntentQueued, intent_id=b"k1", data=KeyUpdateData())
    _publish(stream, b"k1", epoch=0, plan=CommitPlan())
    stream.envelope(OwnCommitMerged(intent_id=b"k1", group_updated=None, welcome=None, welcome_installations=(),
                                    identity_states=()), cursor=1)
    stream.envelope(_merged(True), cursor=2)
    group = replay(conversations_view, stream.events)["groups"][(GROUP,)]
    assert (group["epoch"], group["is_active"]) == (2, True)
    # Only our installation removed: the transcript does not name our inbox, the event says so.
    stream.envelope(_merged(False), cursor=3)
    group = replay(conversations_view, stream.events)["groups"][(GROUP,)]
    # libxmtp: the commit that removed us still begins its epoch; the group is inactive from there.
    assert (group["epoch"], group["is_active"]) == (3, False)
    stream.envelope(_merged(True), cursor=4)  # nothing moves a group that no longer holds us
    group = replay(conversations_view, stream.events)["groups"][(GROUP,)]
    assert (group["epoch"], group["is_active"]) == (3, False)


def test_commits_recorded_before_v2_infer_our_removal_from_the_transcript() -> None:
    stream = Stream()
    _created(stream)
    stream.envelope(_merged(None, updated=GroupUpdated(BOB, removed_inboxes=("c" * 64,))), cursor=1)
    rows = replay(group_views, stream.events)
    assert (rows["groups"][(GROUP,)]["is_active"], rows["groups"][(GROUP,)]["epoch"]) == (True, 1)
    assert rows["group_extension_state"][(GROUP,)]["known"] is False
    stream.envelope(_merged(None, updated=GroupUpdated(BOB, removed_inboxes=(ALICE,))), cursor=2)
    assert replay(group_views, stream.events)["groups"][(GROUP,)]["is_active"] is False


def test_a_confirmed_leave_request_of_our_inbox_makes_us_pending_remove() -> None:
    for own_request in (True, False):
        stream = Stream()
        _created(stream)
        if own_request:
            _send(stream, b"leave", b"", "xmtp.org/leave_request:1.0")
            _publish(stream, b"leave")
            stream.envelope(OwnMessageConfirmed(intent_id=b"leave", message_id=b"x" * 32), cursor=1)
        else:  # sent by another installation of our inbox
            stream.envelope(LeaveRequestReceived(sender_inbox_id=ALICE, sender_installation_id=b"\x09" * 32), cursor=1)
        stream.envelope(LeaveRequestReceived(sender_inbox_id=BOB, sender_installation_id=b"\x02" * 32), cursor=2)
        rows = replay(conversations_view, stream.events)
        assert rows["groups"][(GROUP,)]["membership_state"] == MembershipState.PENDING_REMOVE.value
        assert rows["group_messages"] == {} and rows["outbox"] == {}


def test_extension_rows_follow_snapshots_and_are_flagged_when_unknown() -> None:
    stream = Stream()
    _created(stream, name="start")
    rows = replay(group_extensions_view, stream.events)
    assert rows["group_attributes"][(GROUP, "group_name")]["value"] == "start"
    assert list(rows["group_admins"]) == [(GROUP, SUPER_ADMIN_LIST, ALICE)]
    assert rows["group_members"] == {(GROUP, ALICE): {"group_id": GROUP, "inbox_id": ALICE, "sequence_id": "0"}}
    new_extensions = _extensions("renamed")
    stream.envelope(_merged(True, extensions=_extensions("by bob")), cursor=1)
    rows = replay(group_extensions_view, stream.events)
    assert rows["group_extension_state"][(GROUP,)]["known"] is True
    assert rows["group_attributes"][(GROUP, "group_name")]["value"] == "by bob"
    stream.envelope(_merged(True, extensions=None), cursor=2)  # a commit that left the extensions alone
    assert replay(group_extensions_view, stream.events)["group_attributes"][(GROUP, "group_name")]["value"] == "by bob"
    stream.envelope(_merged(None), cursor=3)  # recorded before CommitMerged v2: the extensions are not known
    assert replay(group_extensions_view, stream.events)["group_extension_state"][(GROUP,)]["known"] is False
    stream.add(IntentQueued, intent_id=b"m1", data=MetadataUpdateData(field_name="group_name", value="renamed"))
    _publish(stream, b"m1", epoch=1, plan=CommitPlan(extensions=new_extensions))
    assert replay(group_extensions_view, stream.events)["group_attributes"][(GROUP, "group_name")]["value"] == "by bob"
    stream.envelope(OwnCommitMerged(intent_id=b"m1", group_updated=None, welcome=None, welcome_installations=(),
                                    identity_states=()), cursor=4)
    rows = replay(group_extensions_view, stream.events)
    assert rows["group_attributes"][(GROUP, "group_name")]["value"] == "renamed"
    assert rows["group_extension_state"][(GROUP,)]["known"] is True and rows["staged_extensions"] == {}
    stream.add(IntentQueued, intent_id=b"m2", data=MetadataUpdateData(field_name="group_name", value="never"))
    _publish(stream, b"m2", epoch=2, plan=CommitPlan(extensions=new_extensions))
    stream.envelope(CommitRejected(error="X", detail="", intent_id=b"m2", identity_states=()), cursor=5)
    assert replay(group_extensions_view, stream.events)["staged_extensions"] == {}


def test_extension_blobs_round_trip() -> None:
    items = ((0xFF00, b"abc"), (0xF000, b""), (1, bytes(300)))
    assert decode_extensions(encode_extensions(items)) == items
