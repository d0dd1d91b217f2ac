"""Errors of the group layer that ``mlsgroup.domain.errors`` lacks, and restoring recorded errors.

An intent that fails records its error as (class name, detail) in an event; ``restore_error`` turns
that record back into the exception the waiting caller raises, so a replayed store reports the same
error the live call did.
"""

from __future__ import annotations

from . import errors
from .commit_summary import Violation

__all__ = [
    "FailedToVerifyInstallations",
    "CannotRemoveSelf",
    "restore_error",
]


class FailedToVerifyInstallations(errors.GroupError):
    """No installation of an inbox to add has a usable key package, so the inbox cannot join."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"Failed to verify all installations: failedInstallations={detail}")


class CannotRemoveSelf(errors.GroupError):
    """A member cannot commit its own removal; it leaves with a leave request."""

    message = "Cannot remove own leaf node"


_VIOLATIONS = {v.value: v for v in Violation}
_LOCAL = {
    "FailedToVerifyInstallations": FailedToVerifyInstallations,
}


def restore_error(name: str | None, detail: str = "") -> errors.GroupError:
    """The error an intent recorded as ``name`` (a class of ``errors`` or of this module) and ``detail``."""
    if name is None:
        return errors.SyncError()
    if name in _VIOLATIONS:
        return _VIOLATIONS[name].error_class(detail)
    if name in _LOCAL:
        return _LOCAL[name](detail)
    if name == "TooManyCharacters":
        return errors.TooManyCharacters(int(detail) if detail.isdigit() else 0)
    if name in ("GroupNotFound", "MlsGroupNotFound"):
        return errors.SyncError(detail or name)
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, errors.GroupError):
        try:
            return cls(detail) if detail else cls()
        except TypeError:
            return cls()
    if name == "CannotRemoveSelf":
        return CannotRemoveSelf()
    return errors.SyncError(f"{errors.SyncError.message}: {name}: {detail}" if detail else f"{errors.SyncError.message}: {name}")
