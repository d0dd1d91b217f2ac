"""The frozen vocabulary of stored records: the zstd dictionary that makes field names and topics cheap.

The binary format is self-describing: every record spells its state's keys and every nested value's
topic (``mlsgroup.EnvelopeOutcome.MessageReceived`` alone is 42 bytes), about a hundred bytes a
message record. A zstd frame over one small record cannot find those strings in itself, so records
are compressed against a raw-content dictionary holding the encoded names instead: each name then
costs a few bytes of match, and the values (keys, seeds, ciphertexts) are stored as before.

A record written with dictionary ``n`` needs exactly that dictionary's bytes to be read back, so a
vocabulary is never edited once records use it: names added later simply compress less, and a better
vocabulary is a new version with its own record marker (``compression``). The test pins the SHA-256
of each version's dictionary bytes.

Names are ordered rare first: zstd prices a match by the log of its distance from the end of the
dictionary, and message and intent records are by far the most frequent.
"""

from __future__ import annotations

from functools import cache

from .binary_format import TAG_STR, put_text

__all__ = ["VOCABULARY_V1", "dictionary_bytes"]

VOCABULARY_V1: tuple[str, ...] = (
    # installations, snapshots and rare values
    "mlsgroup.InstallationAggregate.InstallationCreated",
    "key_seed",
    "mlsgroup.InstallationAggregate.KeyPackageGenerated",
    "not_before_s",
    "mlsgroup.InstallationAggregate.KeyPackageRecord",
    "generated_at_ns",
    "mlsgroup.InstallationAggregate.State",
    "key_packages",
    "welcome_cursor",
    "mlsgroup.InstallationAggregate.WelcomeProcessed",
    "mlsgroup.GroupAggregate.Snapshot",
    "id",
    "version",
    "modified_ns",
    "mls",
    "fields",
    "mlsgroup.Intent",
    "kind",
    "state",
    "queued_at_ns",
    "publish_attempts",
    "published_in_epoch",
    "publish_seed",
    "resend",
    "error_detail",
    "mlsgroup.AfterRemoval",
    "installations",
    "mlsgroup.IntentKind",
    "mlsgroup.IntentState",
    "mlsgroup.ConsentState",
    "mlsgroup.ConversationType",
    "mlsgroup.MembershipState",
    "class_version",
    # group creation and joining
    "mlsgroup.GroupAggregate.GroupCreated",
    "group_id",
    "inbox_id",
    "installation_id",
    "conversation_type",
    "dm_id",
    "signature_private",
    "mlsgroup.GroupAggregate.GroupJoined",
    "added_by_inbox_id",
    "key_package_bundle",
    "mlsgroup.GroupAggregate.ConsentStateChanged",
    "consent_state",
    "mlsgroup.GroupAggregate.MembershipStateChanged",
    "membership_state",
    # intents and their data
    "mlsgroup.AdminListAction",
    "mlsgroup.UpdateAdminListData",
    "action",
    "mlsgroup.UpdatePermissionData",
    "update_type",
    "policy_option",
    "metadata_field",
    "mlsgroup.UpdateGroupMembershipData",
    "add_inbox_ids",
    "remove_inbox_ids",
    "mlsgroup.MetadataUpdateData",
    "field_name",
    "value",
    "mlsgroup.KeyUpdateData",
    "mlsgroup.CommitPlan",
    "adds",
    "added_installations",
    "removes",
    "update_path",
    "mlsgroup.GroupAggregate.IntentFailed",
    "error",
    "detail",
    "mlsgroup.GroupAggregate.IntentSendFailed",
    "reason",
    "mlsgroup.GroupAggregate.IntentProcessed",
    "mlsgroup.GroupAggregate.IntentPublished",
    "plan",
    "seed",
    "payload_hash",
    "identity_states",
    "mlsgroup.GroupAggregate.IntentQueued",
    "intent_id",
    "data",
    "mlsgroup.SendMessageData",
    # envelope outcomes
    "mlsgroup.EnvelopeOutcome.LeaveRequestReceived",
    "mlsgroup.EnvelopeOutcome.CommitRejected",
    "mlsgroup.EnvelopeOutcome.CommitMerged",
    "committer_inbox_id",
    "committer_installation_id",
    "group_updated",
    "still_member",
    "extensions",
    "mlsgroup.EnvelopeOutcome.OwnCommitMerged",
    "welcome",
    "welcome_installations",
    "mlsgroup.EnvelopeOutcome.ApplicationReceived",
    "message_id",
    "sender_inbox_id",
    "sender_installation_id",
    "content_type",
    "content",
    "idempotency_key",
    "epoch",
    "mlsgroup.EnvelopeOutcome.EnvelopeSkipped",
    "mlsgroup.EnvelopeOutcome.OwnMessageConfirmed",
    "mlsgroup.EnvelopeOutcome.MessageReceived",
    "wire",
    # every event's header and the envelope event, the most frequent record
    "originator_id",
    "originator_version",
    "mlsgroup.GroupAggregate.EnvelopeProcessed",
    "timestamp_ns",
    "cursor",
    "payload",
    "server_time_ns",
    "outcome",
)

_VOCABULARIES = {1: VOCABULARY_V1}


@cache
def dictionary_bytes(version: int) -> bytes:
    """The raw-content zstd dictionary of vocabulary ``version``: each name as a record spells it.

    A name is written as a tagged string (a state key, ``0x07`` + length + UTF-8); its untagged tail
    is what a nested record's keyword and a topic look like, so one entry serves all three uses."""
    try:
        names = _VOCABULARIES[version]
    except KeyError:
        raise ValueError(f"no record vocabulary version {version}") from None
    out = bytearray()
    for name in names:
        out.append(TAG_STR)
        put_text(out, name)
    return bytes(out)
