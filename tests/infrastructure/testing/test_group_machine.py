"""Runs the public testing kit (``mlsgroup.infrastructure.testing``) on the in-memory network (with
in-memory and with SQLite client stores, the latter adding restarts), on the SQLite network and on
the PostgreSQL network, and checks the kit's own parts: strategies, model and policy tables.

Example counts are small and scale with the hypothesis profile (``ci``: a few runs per backend);
``HYPOTHESIS_PROFILE=deep`` runs many more.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import run_state_machine_as_test

from mlsgroup.domain import BasePolicy, MetadataField, PermissionPolicyOption, PermissionUpdateType, PolicySet, Preset
from mlsgroup.infrastructure.network import Network
from mlsgroup.infrastructure.testing import (
    GroupMachine,
    make_machine,
    metadata_values,
    overlong_metadata_values,
    temporary_store_factory,
    valid_metadata_values,
)
from mlsgroup.infrastructure.testing.model import (
    ADMIN,
    ALLOW,
    DENY,
    SUPER,
    GroupModel,
    Kind,
    option_word,
    policy_key,
    preset_policies,
)
from mlsgroup.infrastructure.testing.strategies import LIMITED_FIELDS


# (max examples under ci/dev, divisor under deep, steps per run)
_BUDGETS = {"in_memory": (25, 2), "memory_stores": (15, 5), "sqlite": (15, 5), "postgres": (10, 6)}
_STEPS = 30


def _settings(kind: str) -> settings:
    cap, divisor = _BUDGETS[kind]
    base = settings.default.max_examples
    examples = base // divisor if base >= 1000 else min(cap, base)
    return settings(
        max_examples=max(1, examples),
        stateful_step_count=_STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def test_machine_on_the_in_memory_network():
    run_state_machine_as_test(make_machine(Network.in_memory), settings=_settings("in_memory"))


def test_machine_with_stored_clients_survives_restarts(tmp_path: Path):
    machine = make_machine(Network.in_memory, temporary_store_factory(tmp_path))
    run_state_machine_as_test(machine, settings=_settings("memory_stores"))


def test_machine_on_the_sqlite_network(tmp_path: Path):
    numbers = itertools.count()
    machine = make_machine(lambda: Network.sqlite(tmp_path / f"network{next(numbers)}.db"))
    run_state_machine_as_test(machine, settings=_settings("sqlite"))


@pytest.mark.postgres
def test_machine_on_the_postgres_network(network_schema: Any):
    if network_schema is None:
        pytest.skip("PostgreSQL network not configured: set MLSGROUP_TEST_POSTGRES_DSN to a server DSN")
    dsn, schema = network_schema.get()
    machine = make_machine(lambda: Network.postgres(dsn, schema=schema, pool_size=2))
    run_state_machine_as_test(machine, settings=_settings("postgres"))


def test_machine_needs_a_network_factory():
    with pytest.raises(TypeError):
        GroupMachine()


# -- the kit's parts ---------------------------------------------------------------------------


@given(st.sampled_from(sorted(LIMITED_FIELDS, key=lambda f: f.value)), st.data())
@settings(max_examples=30)
def test_overlong_values_exceed_the_byte_limit(field: MetadataField, data: Any):
    value = data.draw(overlong_metadata_values(field))
    assert len(value.encode()) > LIMITED_FIELDS[field]


@given(st.sampled_from(sorted(LIMITED_FIELDS, key=lambda f: f.value)), st.data())
@settings(max_examples=30)
def test_valid_values_fit(field: MetadataField, data: Any):
    assert len(data.draw(valid_metadata_values(field)).encode()) <= LIMITED_FIELDS[field]
    data.draw(metadata_values(field))


def test_limits_restate_the_spec():
    assert {f.value: n for f, n in LIMITED_FIELDS.items()} == {
        "group_name": 100,
        "description": 1000,
        "group_image_url_square": 2048,
        "app_data": 8192,
    }


_WORDS = {
    BasePolicy.ALLOW: ALLOW,
    BasePolicy.DENY: DENY,
    BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN: ADMIN,
    BasePolicy.ALLOW_IF_SUPER_ADMIN: SUPER,
}


def _words(policies: PolicySet) -> dict[str, str]:
    words = {
        "add_member": _WORDS[policies.add_member_policy],
        "remove_member": _WORDS[policies.remove_member_policy],
        "add_admin": _WORDS[policies.add_admin_policy],
        "remove_admin": _WORDS[policies.remove_admin_policy],
    }
    for field in (MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE, MetadataField.APP_DATA):
        words[field.value] = _WORDS[policies.metadata_policy(field.value)]
    return words


@pytest.mark.parametrize("preset", list(Preset))
def test_model_presets_agree_with_the_policy_sets(preset: Preset):
    """The kit restates libxmtp's preset table; the domain's policy sets must say the same."""
    assert preset_policies(preset) == _words(preset.policy_set())


@pytest.mark.parametrize("update_type", [t for t in PermissionUpdateType if t is not PermissionUpdateType.UPDATE_METADATA])
@pytest.mark.parametrize("option", list(PermissionPolicyOption))
def test_model_permission_updates_agree_with_the_policy_sets(update_type, option):
    updated = _words(PolicySet.default().updated(update_type, option))
    assert updated[policy_key(update_type, None)] == option_word(update_type, option)


def test_model_visibility_follows_membership_and_processing():
    model = GroupModel(b"g" * 16, Kind.GROUP, "alice", Preset.DEFAULT)
    model.add(["bob", "carol"], by="alice")
    model.catch_up("alice")
    model.join("bob")
    model.join("carol")
    model.send("alice", b"1", b"id1")
    model.remove(["carol"], by="alice")
    model.send("alice", b"2", b"id2")
    model.catch_up("bob")
    model.catch_up("carol")
    assert [m.content for m in model.visible_messages("bob")] == [b"1", b"2"]
    assert [m.content for m in model.visible_messages("carol")] == [b"1"]
    assert model.locals["carol"].inactive
    model.add(["carol"], by="bob")
    model.join("carol")
    model.send("bob", b"3", b"id3")
    model.catch_up("carol")
    assert [m.content for m in model.visible_messages("carol")] == [b"1", b"3"]
    assert model.latest.epoch == 3
    assert model.view("carol").members == frozenset({"alice", "bob", "carol"})
    model.catch_up("bob")
    # Bob saw every commit after his welcome; Carol only the re-adding one, through its welcome.
    assert [change.removed for change, _ in model.transcripts("bob")] == [("carol",), ()]
    assert model.transcripts("carol") == [(model.log[3].change(), ())]


def test_model_reports_leavers_as_left_only_to_copies_that_saw_the_request():
    model = GroupModel(b"g" * 16, Kind.GROUP, "alice", Preset.DEFAULT)
    model.add(["bob"], by="alice")
    model.catch_up("alice")
    model.join("bob")
    model.request_leave("bob")
    model.add(["carol"], by="alice")
    model.join("carol")
    model.remove(["bob"], by="alice")
    model.catch_up("alice")
    model.catch_up("carol")
    assert model.transcripts("alice")[-1][1] == ("bob",)
    assert model.transcripts("carol")[-1][1] == ()
