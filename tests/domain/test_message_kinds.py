"""Stored-message enums keep libxmtp's numbering."""

from mlsgroup.domain.message_kinds import DeliveryStatus, MessageKind


def test_numbering():
    assert (MessageKind.APPLICATION.value, MessageKind.MEMBERSHIP_CHANGE.value) == (1, 2)
    assert [s.value for s in DeliveryStatus] == [1, 2, 3]
