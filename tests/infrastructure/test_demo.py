"""``mlsgroup demo``: the scripted conversation runs, checks itself and exits 0; its transcript shows
real outcomes, and a failed expectation turns into a non-zero exit."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from mlsgroup.infrastructure.cli import main
from mlsgroup.infrastructure.demo import Transcript


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The demo's transcript, and the folder where --keep left its stores and keys."""
    folder = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--keep", str(folder)])
    assert code == 0, out.getvalue()
    return out.getvalue(), folder


@pytest.fixture
def demo_output(kept: tuple[str, Path]) -> str:
    return kept[0]


def test_demo_exits_0_and_says_every_expectation_held(demo_output: str) -> None:
    assert demo_output.rstrip().splitlines()[-1].startswith("demo OK:")
    assert "[FAIL]" not in demo_output


@pytest.mark.parametrize(
    "line",
    [
        "alice  create_group([bob, carol], ADMINS_ONLY, name='Project X') -> OK",
        "carol  remove_members([bob]) -> raised InsufficientPermissions: Commit validation error Insufficient permissions",
        "alice  leave() -> raised SuperAdminLeaveForbidden: super-admin cannot leave a group; must be demoted first",
        "dave   leave() -> OK",
        "check  members after alice's sync: ['alice', 'bob', 'carol']",
        "dave   send_text('still here?') -> raised GroupInactive: Group is inactive",
        "carol  send_text('can anyone hear me?') -> raised GroupInactive: Group is inactive",
        "check  carol never reads it: False",
        "bob    leave() -> raised DmLeaveForbidden: cannot leave a DM conversation",
        "[alice removed (they left) dave]",
        "[bob removed carol]",
        "check  alice and bob agree on the epoch authenticator",
        "check  carol's store audits clean: True",
    ],
)
def test_transcript_has_the_key_lines(demo_output: str, line: str) -> None:
    assert line in demo_output


def test_epochs_shown_are_read_from_the_groups(demo_output: str) -> None:
    epochs = [int(line.split("(epoch ")[1].rstrip(")")) for line in demo_output.splitlines() if "-> OK (epoch " in line]
    assert epochs == sorted(epochs) and len(set(epochs)) > 3


def test_a_step_that_does_not_raise_as_expected_is_a_failure() -> None:
    out = io.StringIO()
    t = Transcript(out, {})
    t.step("x", "succeeds", lambda: 1, raises=ValueError)
    t.step("x", "raises", lambda: int("nope"))
    t.step("x", "raises as expected", lambda: int("nope"), raises=ValueError)
    t.check("a fact", 1, 2)
    assert len(t.failures) == 3
    text = out.getvalue()
    assert "[FAIL] x      succeeds -> OK   <-- expected ValueError" in text
    assert "[FAIL] x      raises -> raised ValueError" in text
    assert "[ok ] x      raises as expected -> raised ValueError" in text


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
def test_kept_stores_pass_the_audit_command(kept: tuple[str, Path], name: str, capsys) -> None:
    _, folder = kept
    store, key = folder / f"{name}.db", folder / f"{name}.key"
    assert main(["audit", str(store), "--key-file", str(key)]) == 0
    assert "0 violation(s)" in capsys.readouterr().out
