"""``mlsgroup audit``: replay every group of an installation store through the pure machine,
re-derive every recorded outcome, check the group invariants, and report (docs/audit.md)::

    from mlsgroup.infrastructure.audit import audit_store, format_text, to_json
    audit = audit_store("alice.db", key32)        # StoreNotFound / WrongKey / NotAGroupStore
    print(format_text(audit)); audit.ok; audit.violations

The re-derivation and the invariants are ``mlsgroup.domain.audit`` (pure); this package reads the
store record by record, checks the installation aggregate against the groups, and prints.
"""

from .errors import AuditError, KeyFormatError, NotAGroupStore, StoreNotFound, WrongKey
from .keys import KEY_VARIABLE, load_key, parse_key
from .progress import ProgressBar
from .report import FORMAT_VERSION, format_text, to_json
from .store_audit import StoreAudit, audit_store

__all__ = [
    "AuditError",
    "FORMAT_VERSION",
    "KEY_VARIABLE",
    "KeyFormatError",
    "NotAGroupStore",
    "ProgressBar",
    "StoreAudit",
    "StoreNotFound",
    "WrongKey",
    "audit_store",
    "format_text",
    "load_key",
    "parse_key",
    "to_json",
]
