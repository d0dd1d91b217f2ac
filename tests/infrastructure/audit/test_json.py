"""The JSON report's shape (docs/audit.md documents it)."""

from __future__ import annotations

import json

from mlsgroup.infrastructure.audit import FORMAT_VERSION
from mlsgroup.infrastructure.cli import main

TOP = {"format", "store", "ok", "inbox_id", "installation_id", "events", "groups_audited", "violations", "warnings",
       "seconds", "findings", "groups"}
GROUP = {"group_id", "conversation_type", "is_active", "ok", "events", "snapshots", "epochs", "authenticators",
         "timeline", "members", "counts", "violations", "warnings", "findings"}
CHANGE = {"version", "epoch", "how", "by", "added", "removed", "left", "members"}


def test_json_report_shape(history, key_file, capsys) -> None:
    assert main(["audit", str(history.path("alice")), "--key-file", key_file(history.keys["alice"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == TOP
    assert report["format"] == FORMAT_VERSION and report["ok"] is True and report["violations"] == 0
    assert report["inbox_id"] == history.inboxes["alice"]
    assert report["groups_audited"] == len(report["groups"]) == 2
    by_id = {g["group_id"]: g for g in report["groups"]}
    group, dm = by_id[history.group_id.hex()], by_id[history.dm_id.hex()]
    assert set(group) == GROUP
    assert (group["conversation_type"], dm["conversation_type"]) == ("GROUP", "DM")
    assert group["is_active"] is True and group["findings"] == []
    assert sorted(group["members"]) == sorted([history.inboxes["alice"], history.inboxes["bob"]])
    epochs = [a["epoch"] for a in group["authenticators"]]
    assert epochs == list(range(epochs[0], epochs[-1] + 1)) and group["epochs"]["last"] == epochs[-1]
    assert all(len(bytes.fromhex(a["authenticator"])) == 32 for a in group["authenticators"])
    assert all(set(change) == CHANGE for change in group["timeline"])
    assert group["timeline"][0]["how"] == "created"
    assert group["timeline"][-1]["left"] == [history.inboxes["carol"]]
    assert group["counts"]["commits rejected"] == 1 and group["counts"]["outcomes re-derived"] > 0
