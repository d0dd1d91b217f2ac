"""Restoring recorded errors (the group layer's own error classes live in ``mlsgroup.domain.errors``).

An intent that fails records its error as (class name, detail) in an event; ``restore_error`` turns
that record back into the exception the waiting caller raises, so a replayed store reports the same
error the live call did.
"""

from __future__ import annotations

from . import errors
from .commit_summary import Violation
from .errors import CannotRemoveSelf, FailedToVerifyInstallations

__all__ = [
    "FailedToVerifyInstallations",
    "CannotRemoveSelf",
    "restore_error",
]


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
