"""``mlsgroup bench store`` at toy sizes: every figure is produced from a real store (no timing assertions)."""

from __future__ import annotations

import json

from mlsgroup.infrastructure.bench.store import format_store_figures, store_figures
from mlsgroup.infrastructure.cli import main


def test_store_figures_at_small_sizes() -> None:
    figures = store_figures(rebuild_events=40, members=3, messages=4, samples=2)
    assert figures.audit_ok
    assert figures.group_events == 5  # the join and four received messages
    assert figures.audit_work["signature verifications"] == 4
    assert figures.audit_work["ChaCha20-Poly1305 seals"] == 8
    # the join's replay: one verify per leaf of the three-member tree, the GroupInfo's, one HPKE open
    assert figures.audit_work["join: LeafNode signature verifications"] == 3
    assert figures.audit_work["join: GroupInfo signature verifications"] == 1
    assert figures.audit_work["join: HPKE opens of GroupSecrets"] == 1
    # three records per message sent: the queued plaintext, the publication (hash and seed), the confirmation
    assert figures.sender_bytes_per_message > figures.ciphertext_bytes_per_message
    assert figures.ciphertext_bytes_per_message > 100 and figures.stored_bytes_per_message > figures.ciphertext_bytes_per_message
    assert figures.load_snapshot_ms > 0 and figures.audit_floor_s > 0 and figures.rebuild_events_per_s > 0
    assert figures.rebuild_storage_floor_events_per_s > 0
    assert "parameters: rebuild_events=40" in format_store_figures(figures, "title")


def test_bench_store_json_from_the_cli(capsys) -> None:
    args = ["bench", "store", "--rebuild-events", "20", "--members", "2", "--messages", "2", "--samples", "1", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["parameters"]["messages"] == 2 and report["audit_ok"] is True
