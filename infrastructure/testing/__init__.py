"""A property-based testing kit for XMTP groups (ARCHITECTURE section 5): hypothesis strategies, a
naive model, and ``GroupMachine``, a state machine that drives 3-6 clients through random group
operations on any network adapter and checks the public API against the model.

Install with ``pip install 'mlsgroup[testing]'``, then, in a pytest module::

    from hypothesis import settings
    from mlsgroup.infrastructure import Network
    from mlsgroup.infrastructure.testing import make_machine

    GroupsOnMyNetwork = make_machine(lambda: Network.sqlite("/tmp/my-net.db"))   # or your own adapter
    GroupsOnMyNetwork.TestCase.settings = settings(max_examples=20, stateful_step_count=15, deadline=None)
    TestGroupsOnMyNetwork = GroupsOnMyNetwork.TestCase

``network_factory`` is called once per run and must return a ``Network`` (or any object with the
same ``api``, ``identity`` and ``clock`` attributes); the machine closes it when the run ends.
``store_factory(n)`` optionally returns ``Client.create``/``Client.open`` keyword arguments for client
``n`` (``temporary_store_factory(dir)`` makes encrypted SQLite files), which also enables the
``restart`` rule (close, reopen, compare).

The model restates libxmtp's rules (presets, leave order, length limits, MAX_GROUP_SIZE) rather than
importing the implementation's, so the kit tests the implementation instead of mirroring it.
"""

from . import checks, model, strategies
from .harness import MachineHarness, NetworkFactory, StoreFactory
from .machine import GroupMachine, make_machine
from .model import GroupModel, Kind, Snapshot
from .phantoms import phantom_inboxes
from .stores import temporary_store_factory
from .strategies import (
    group_names,
    inbox_choices,
    message_contents,
    metadata_values,
    overlong_metadata_values,
    permission_updates,
    policy_presets,
    valid_metadata_values,
)

__all__ = [
    "GroupMachine",
    "MachineHarness",
    "make_machine",
    "temporary_store_factory",
    "NetworkFactory",
    "StoreFactory",
    "GroupModel",
    "Kind",
    "Snapshot",
    "phantom_inboxes",
    "inbox_choices",
    "message_contents",
    "metadata_values",
    "valid_metadata_values",
    "overlong_metadata_values",
    "group_names",
    "policy_presets",
    "permission_updates",
    "checks",
    "model",
    "strategies",
]
