"""The audit report: readable text per group, or JSON for machines (format in docs/audit.md)."""

from __future__ import annotations

import json
from typing import Any, Iterable

from mlsgroup.domain.audit import EpochRecord, Finding, GroupAudit, MembershipChange

from .store_audit import StoreAudit

__all__ = ["FORMAT_VERSION", "to_json", "format_text"]

FORMAT_VERSION = 1


def _short(value: str | bytes, size: int = 12) -> str:
    text = value.hex() if isinstance(value, bytes) else value
    return text if len(text) <= size else text[:size] + "…"


# -- JSON ------------------------------------------------------------------------------------------


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "severity": finding.severity,
        "check": finding.check,
        "version": finding.version,
        "epoch": finding.epoch,
        "message": finding.message,
    }


def _change(change: MembershipChange) -> dict[str, Any]:
    return {
        "version": change.version,
        "epoch": change.epoch,
        "how": change.how,
        "by": change.by,
        "added": list(change.added),
        "removed": list(change.removed),
        "left": list(change.left),
        "members": change.members,
    }


def _epoch(record: EpochRecord) -> dict[str, Any]:
    return {"epoch": record.epoch, "version": record.version, "authenticator": record.authenticator.hex()}


def _group(audit: GroupAudit) -> dict[str, Any]:
    epochs = [r.epoch for r in audit.epochs]
    return {
        "group_id": audit.group_id.hex(),
        "conversation_type": None if audit.conversation_type is None else audit.conversation_type.name,
        "is_active": audit.is_active,
        "ok": audit.ok,
        "events": audit.events,
        "snapshots": audit.snapshots,
        "epochs": {"first": min(epochs, default=None), "last": max(epochs, default=None), "reached": len(epochs)},
        "authenticators": [_epoch(r) for r in audit.epochs],
        "timeline": [_change(c) for c in audit.timeline],
        "members": list(audit.members),
        "counts": dict(audit.counts),
        "violations": len(audit.violations),
        "warnings": len(audit.warnings),
        "findings": [_finding(f) for f in audit.findings],
    }


def to_json(audit: StoreAudit) -> str:
    """The whole audit as one JSON document."""
    document = {
        "format": FORMAT_VERSION,
        "store": audit.store,
        "ok": audit.ok,
        "inbox_id": audit.inbox_id,
        "installation_id": audit.installation_id.hex(),
        "events": audit.events,
        "groups_audited": len(audit.groups),
        "violations": audit.violations,
        "warnings": audit.warnings,
        "seconds": round(audit.seconds, 3),
        "findings": [_finding(f) for f in audit.findings],
        "groups": [_group(g) for g in audit.groups],
    }
    return json.dumps(document, indent=2)


# -- text ------------------------------------------------------------------------------------------


def _names(inboxes: Iterable[str], prefix: str) -> str:
    return " ".join(prefix + _short(i) for i in inboxes)


def _timeline_line(change: MembershipChange) -> str:
    parts = [f"v{change.version:<6} epoch {change.epoch:<4} {change.how} by {_short(change.by)}"]
    for inboxes, sign in ((change.added, "+"), (change.removed, "-"), (change.left, "left:")):
        if inboxes:
            shown = list(inboxes[:6])
            more = f" (+{len(inboxes) - 6} more)" if len(inboxes) > 6 else ""
            parts.append(_names(shown, sign) + more)
    parts.append(f"-> {change.members} member(s)")
    return "  ".join(parts)


def _finding_line(finding: Finding) -> str:
    where = " ".join(x for x in (f"v{finding.version}" if finding.version is not None else "",
                                  f"epoch {finding.epoch}" if finding.epoch is not None else "") if x)
    return f"[{finding.severity}] {finding.check}{' ' + where if where else ''}: {finding.message}"


def _group_text(audit: GroupAudit, timeline_limit: int) -> list[str]:
    kind = "?" if audit.conversation_type is None else audit.conversation_type.name
    epochs = [r.epoch for r in audit.epochs]
    span = f"{min(epochs)}->{max(epochs)}" if epochs else "none"
    standing = {True: "active", False: "inactive (we were removed)", None: "unknown"}[audit.is_active]
    lines = [
        f"group {audit.group_id.hex()}  {kind}  {audit.events} events  {audit.snapshots} snapshot(s)  "
        f"epochs {span}  {standing}  {len(audit.members)} member(s)"
    ]
    lines.append("  membership timeline:")
    shown = audit.timeline if len(audit.timeline) <= timeline_limit else audit.timeline[-timeline_limit:]
    if len(shown) < len(audit.timeline):
        lines.append(f"    ... {len(audit.timeline) - len(shown)} earlier change(s) (see --json)")
    lines.extend("    " + _timeline_line(c) for c in shown)
    if audit.counts:
        lines.append("  re-derived: " + ", ".join(f"{n} {name}" for name, n in audit.counts.items()))
    lines.append(f"  epoch authenticators re-derived: {len(audit.epochs)}"
                 + (f" (last {audit.epochs[-1].authenticator.hex()[:16]}… at epoch {audit.epochs[-1].epoch})" if audit.epochs else ""))
    violations, warnings = audit.violations, audit.warnings
    lines.append(f"  {'OK' if not violations else 'FAILED'}: {len(violations)} violation(s), {len(warnings)} warning(s)")
    lines.extend("    " + _finding_line(f) for f in audit.findings)
    return lines


def format_text(audit: StoreAudit, *, timeline_limit: int = 20) -> str:
    """The per-group report and a summary line."""
    lines = [f"mlsgroup audit {audit.store}",
             f"installation {_short(audit.installation_id, 16)} of inbox {_short(audit.inbox_id, 16)}; "
             f"{audit.events} events, {len(audit.groups)} group(s)"]
    for finding in audit.findings:
        lines.append("  " + _finding_line(finding))
    for group in audit.groups:
        lines.append("")
        lines.extend(_group_text(group, timeline_limit))
    lines.append("")
    verdict = "OK" if audit.ok else "FAILED"
    lines.append(f"{verdict}: {len(audit.groups)} group(s), {audit.events} events replayed in {audit.seconds:.2f} s; "
                 f"{audit.violations} violation(s), {audit.warnings} warning(s)")
    return "\n".join(lines)
