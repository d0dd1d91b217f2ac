"""``mlsgroup audit STORE``: exit codes, key sources, the text report and the progress bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsgroup.infrastructure.audit import KEY_VARIABLE
from mlsgroup.infrastructure.cli import main


def test_every_store_of_a_real_history_audits_clean(history, key_file, capsys) -> None:
    for name in ("alice", "bob", "carol"):
        assert main(["audit", str(history.path(name)), "--key-file", key_file(history.keys[name])]) == 0
        out = capsys.readouterr().out
        assert "0 violation(s)" in out and out.rstrip().splitlines()[-1].startswith("OK:")


def test_report_shows_the_membership_timeline_and_what_was_re_derived(history, key_file, capsys) -> None:
    assert main(["audit", str(history.path("alice")), "--key-file", key_file(history.keys["alice"])]) == 0
    out = capsys.readouterr().out
    assert f"group {history.group_id.hex()}  GROUP" in out
    assert f"group {history.dm_id.hex()}  DM" in out
    assert "created by " + history.inboxes["alice"][:12] in out
    assert "left:" + history.inboxes["carol"][:12] in out  # carol left; alice's sync removed her
    assert "1 commits rejected" in out  # carol's forged rename
    assert "messages rebuilt and verified" in out and "commits re-validated" in out


def test_raw_key_file_and_environment_key_are_accepted(history, key_file, capsys, monkeypatch) -> None:
    store = str(history.path("bob"))
    assert main(["audit", store, "--key-file", key_file(history.keys["bob"], hex_form=False)]) == 0
    monkeypatch.setenv(KEY_VARIABLE, history.keys["bob"].hex())
    assert main(["audit", store]) == 0


def test_wrong_key_is_a_clear_error_with_exit_2(history, key_file, capsys) -> None:
    assert main(["audit", str(history.path("alice")), "--key-file", key_file(history.keys["bob"])]) == 2
    captured = capsys.readouterr()
    assert "wrong key" in captured.err and captured.out == ""


def test_missing_key_for_an_encrypted_store_is_exit_2(history, capsys, monkeypatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    assert main(["audit", str(history.path("alice"))]) == 2
    assert "no record decrypts" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"short", b"z" * 64, b"ab" * 33])
def test_malformed_key_file_is_exit_2(history, tmp_path: Path, capsys, content: bytes) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    assert main(["audit", str(history.path("alice")), "--key-file", str(path)]) == 2
    assert "32 raw bytes or 64 hex characters" in capsys.readouterr().err


def test_missing_store_is_exit_2_and_nothing_is_created(tmp_path: Path, key_file, capsys) -> None:
    absent = tmp_path / "absent.db"
    assert main(["audit", str(absent), "--key-file", key_file(b"k" * 32)]) == 2
    assert "no store file" in capsys.readouterr().err
    assert not absent.exists()


def test_progress_bar_goes_to_stderr_when_asked(history, key_file, capsys) -> None:
    assert main(["audit", str(history.path("alice")), "--key-file", key_file(history.keys["alice"]), "--progress"]) == 0
    captured = capsys.readouterr()
    assert "audit [" in captured.err and "events" in captured.err
    assert "audit [" not in captured.out


def test_an_unencrypted_store_audits_without_a_key_and_refuses_one(tmp_path: Path, key_file, capsys, monkeypatch) -> None:
    from mlsgroup.infrastructure import Client, Network

    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    store = tmp_path / "clear.db"
    with Network.in_memory() as net, Client.create(net, store=store) as alice, Client.create(net) as bob:
        alice.create_group([bob.inbox_id]).send_text("in the clear")
    assert main(["audit", str(store)]) == 0
    assert "1 group(s)" in capsys.readouterr().out
    assert main(["audit", str(store), "--key-file", key_file(b"k" * 32)]) == 2
    assert "wrong key" in capsys.readouterr().err
