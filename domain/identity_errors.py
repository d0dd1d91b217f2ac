"""Errors of the identity layer (libxmtp section 1 limits): inbox lookups and identity-update validation.

``IdentityUpdateRejected`` and its subclasses mean the update is remote bad data or a local
misuse that would break the inbox's chain; ``InboxNotFound`` / ``UnknownSequenceId`` are lookups
that found nothing. Garbage bytes raise ``mlsgroup.domain.mls.errors.DecodeError`` instead.
"""

from __future__ import annotations

from .errors import AddressNotFound

__all__ = [
    "IdentityError",
    "InboxNotFound",
    "UnknownSequenceId",
    "IdentityUpdateRejected",
    "MalformedIdentityUpdate",
    "InboxIdMismatch",
    "MissingCreateInbox",
    "InboxAlreadyExists",
    "UnexpectedSequenceId",
    "UnknownSigner",
    "RevokedSigner",
    "InvalidIdentitySignature",
    "TooManyInstallations",
    "InstallationAlreadyAdded",
    "InstallationPreviouslyRevoked",
    "InstallationNotActive",
    "InstallationOwnedByAnotherInbox",
]


class IdentityError(Exception):
    """Base of every identity error."""


class InboxNotFound(IdentityError, AddressNotFound, LookupError):
    """No identity update has been published for the inbox (or inboxes) asked for.

    It is also the public group error ``errors.AddressNotFound``, which adding an unregistered
    inbox to a group raises.
    """

    def __init__(self, inbox_ids: "str | list[str] | tuple[str, ...]") -> None:
        AddressNotFound.__init__(self, inbox_ids)


class UnknownSequenceId(IdentityError, LookupError):
    """The inbox has no identity state at the sequence id asked for (it is beyond the chain)."""

    def __init__(self, inbox_id: str, sequence_id: int) -> None:
        self.inbox_id = inbox_id
        self.sequence_id = sequence_id
        super().__init__(f"inbox {inbox_id} has no identity state at sequence id {sequence_id}")


class IdentityUpdateRejected(IdentityError, ValueError):
    """An identity update does not validly extend its inbox's chain."""


class MalformedIdentityUpdate(IdentityUpdateRejected):
    """An update is well-encoded but inconsistent (missing or extra possession signature, bad revoke list)."""


class InboxIdMismatch(IdentityUpdateRejected):
    """The update names another inbox than the chain, or an inbox id its creating key does not derive."""


class MissingCreateInbox(IdentityUpdateRejected):
    """The first update of an inbox is not CreateInbox."""


class InboxAlreadyExists(IdentityUpdateRejected):
    """CreateInbox for an inbox that already has a chain."""


class UnexpectedSequenceId(IdentityUpdateRejected):
    """The update's sequence id is not the chain's next one (stale, replayed or racing update)."""

    def __init__(self, inbox_id: str, expected: int, got: int) -> None:
        self.inbox_id = inbox_id
        self.expected = expected
        self.got = got
        super().__init__(f"inbox {inbox_id}: expected sequence id {expected}, got {got}")


class UnknownSigner(IdentityUpdateRejected):
    """The signer was never an installation of the inbox."""


class RevokedSigner(IdentityUpdateRejected):
    """The signer is a revoked installation of the inbox; revoked installations cannot sign."""


class InvalidIdentitySignature(IdentityUpdateRejected):
    """A signature on the update does not verify under the installation key it names."""


class TooManyInstallations(IdentityUpdateRejected):
    """Adding the installation would exceed MAX_INSTALLATIONS_PER_INBOX active installations."""

    def __init__(self, inbox_id: str, limit: int) -> None:
        self.inbox_id = inbox_id
        self.limit = limit
        super().__init__(f"inbox {inbox_id} already has the maximum of {limit} installations")


class InstallationAlreadyAdded(IdentityUpdateRejected):
    """The installation to add is already an active installation of the inbox."""


class InstallationPreviouslyRevoked(IdentityUpdateRejected):
    """The installation to add was revoked from the inbox; a revoked key never comes back."""


class InstallationNotActive(IdentityUpdateRejected):
    """An installation to revoke is not an active installation of the inbox."""


class InstallationOwnedByAnotherInbox(IdentityUpdateRejected):
    """The installation key already belongs to another inbox (the registry keeps keys unique)."""
