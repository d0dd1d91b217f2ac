"""One contract for every network backend (in memory, SQLite, PostgreSQL): group topics, welcomes,
key packages and the identity registry, then persistence and concurrency (threads and processes)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from mlsgroup.domain import identity as ident
from mlsgroup.domain import identity_errors
from mlsgroup.domain.ports import DeliveryService, Envelope, IdentityRegistry, KeyPackageDirectory
from mlsgroup.infrastructure.network import Network, NetworkClosed
from mlsgroup.infrastructure.persistence import ManualClock

from .conftest import NetworkBackend, new_id
from .workers import race_and_append


def key() -> bytes:
    return ident.installation_key_pair(os.urandom(32))[0]


def new_inbox(net: Network) -> tuple[bytes, ident.InboxState]:
    signer = key()
    return signer, net.identity.publish_identity_update(ident.create_inbox(signer, 1))


class BackwardsClock:
    """A clock that steps back 1 s on every read."""

    def __init__(self) -> None:
        self.now = 10**18

    def now_ns(self) -> int:
        self.now -= 10**9
        return self.now


class TestGroupTopics:
    def test_adapters_satisfy_the_ports(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        assert isinstance(net.api, DeliveryService) and isinstance(net.api, KeyPackageDirectory)
        assert isinstance(net.identity, IdentityRegistry)
        assert net.clock.now_ns() > 0

    def test_cursors_start_at_one_and_increase_per_topic(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        group = new_id()
        assert net.api.send_group_messages(group, [b"a", b"b"]) == [1, 2]
        assert net.api.send_group_messages(group, [b"c"]) == [3]
        envelopes = net.api.query_group_messages(group)
        assert [(e.cursor, e.payload) for e in envelopes] == [(1, b"a"), (2, b"b"), (3, b"c")]
        assert all(isinstance(e, Envelope) for e in envelopes)
        times = [e.server_time_ns for e in envelopes]
        assert times == sorted(set(times))

    def test_topics_are_independent(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        first, second = new_id(), new_id()
        assert net.api.send_group_messages(first, [b"1a"]) == [1]
        assert net.api.send_group_messages(second, [b"2a", b"2b"]) == [1, 2]
        assert net.api.send_group_messages(first, [b"1b"]) == [2]
        assert [e.payload for e in net.api.query_group_messages(first)] == [b"1a", b"1b"]
        assert [e.payload for e in net.api.query_group_messages(second)] == [b"2a", b"2b"]
        assert net.api.query_group_messages(new_id()) == []

    def test_after_cursor_and_limit(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        group = new_id()
        net.api.send_group_messages(group, [bytes([i]) for i in range(7)])
        assert [e.cursor for e in net.api.query_group_messages(group, after_cursor=4)] == [5, 6, 7]
        assert net.api.query_group_messages(group, after_cursor=7) == []
        assert net.api.query_group_messages(group, after_cursor=100) == []
        assert [e.cursor for e in net.api.query_group_messages(group, after_cursor=2, limit=2)] == [3, 4]
        pages, after = [], 0
        while page := net.api.query_group_messages(group, after_cursor=after, limit=3):
            pages.append([e.cursor for e in page])
            after = page[-1].cursor
        assert pages == [[1, 2, 3], [4, 5, 6], [7]]

    def test_payloads_come_back_byte_for_byte(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        group = new_id()
        payloads = [b"", b"\x00\x00", bytes(range(256)), os.urandom(200_000), "é".encode()]
        net.api.send_group_messages(group, payloads)
        assert [e.payload for e in net.api.query_group_messages(group)] == payloads
        assert net.api.send_group_messages(group, []) == []

    def test_server_times_never_go_back_even_if_the_clock_does(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open(clock=BackwardsClock())
        group = new_id()
        for i in range(4):
            net.api.send_group_messages(group, [b"x"] * (i + 1))
        times = [e.server_time_ns for e in net.api.query_group_messages(group)]
        assert len(times) == 10 and all(a < b for a, b in zip(times, times[1:]))

    def test_server_time_comes_from_the_clock(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open(clock=ManualClock(start_ns=5_000, step_ns=1_000))
        group = new_id()
        net.api.send_group_messages(group, [b"a", b"b"])
        net.api.send_group_messages(group, [b"c"])
        assert [e.server_time_ns for e in net.api.query_group_messages(group)] == [5_000, 5_001, 6_000]

    def test_bad_arguments_are_refused(self, network_backend: NetworkBackend) -> None:
        api = network_backend.open().api
        with pytest.raises(TypeError):
            api.send_group_messages("group", [b"a"])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            api.send_group_messages(new_id(), b"a")
        with pytest.raises(TypeError):
            api.send_group_messages(new_id(), ["a"])  # type: ignore[list-item]
        with pytest.raises(ValueError):
            api.send_group_messages(b"", [b"a"])
        with pytest.raises(ValueError):
            api.query_group_messages(new_id(), after_cursor=-1)
        with pytest.raises(ValueError):
            api.query_group_messages(new_id(), limit=0)
        with pytest.raises(TypeError):
            api.fetch_key_packages(new_id())

    def test_threads_get_distinct_gapless_cursors(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        group = new_id()
        got: dict[int, list[int]] = {}

        def send(worker: int) -> None:
            got[worker] = [c for i in range(15) for c in net.api.send_group_messages(group, [f"{worker}-{i}".encode()])]

        threads = [threading.Thread(target=send, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(c for cursors in got.values() for c in cursors) == list(range(1, 91))
        assert all(cursors == sorted(cursors) for cursors in got.values())
        by_cursor = {e.cursor: e.payload for e in net.api.query_group_messages(group)}
        for worker, cursors in got.items():
            assert [by_cursor[c] for c in cursors] == [f"{worker}-{i}".encode() for i in range(15)]


class TestWelcomes:
    def test_welcomes_are_per_installation(self, network_backend: NetworkBackend) -> None:
        api = network_backend.open().api
        alice, bob = new_id(), new_id()
        assert api.send_welcome_messages([(bob, b"w1"), (alice, b"w2"), (bob, b"w3")]) == [1, 1, 2]
        assert api.send_welcome_messages([(alice, b"w4")]) == [2]
        assert [(e.cursor, e.payload) for e in api.query_welcome_messages(bob)] == [(1, b"w1"), (2, b"w3")]
        assert [e.payload for e in api.query_welcome_messages(alice, after_cursor=1)] == [b"w4"]
        assert [e.payload for e in api.query_welcome_messages(alice, limit=1)] == [b"w2"]
        assert api.query_welcome_messages(new_id()) == []
        assert api.send_welcome_messages([]) == []

    def test_welcome_topics_do_not_mix_with_group_topics(self, network_backend: NetworkBackend) -> None:
        api = network_backend.open().api
        same = new_id()
        api.send_group_messages(same, [b"group"])
        assert api.send_welcome_messages([(same, b"welcome")]) == [1]
        assert [e.payload for e in api.query_group_messages(same)] == [b"group"]
        assert [e.payload for e in api.query_welcome_messages(same)] == [b"welcome"]


class TestKeyPackages:
    def test_last_resort_is_not_consumed_and_rotation_replaces_it(self, network_backend: NetworkBackend) -> None:
        api = network_backend.open().api
        installation, other = new_id(), new_id()
        assert api.fetch_key_packages([installation]) == {}
        api.upload_key_package(installation, b"kp1")
        assert api.fetch_key_packages([installation]) == {installation: b"kp1"}
        assert api.fetch_key_packages([installation, other, installation]) == {installation: b"kp1"}
        api.upload_key_package(installation, b"kp2", is_last_resort=True)
        assert api.fetch_key_packages([installation]) == {installation: b"kp2"}

    def test_one_time_key_packages_are_handed_out_once_in_order(self, network_backend: NetworkBackend) -> None:
        api = network_backend.open().api
        installation, only_one_time = new_id(), new_id()
        api.upload_key_package(installation, b"last resort")
        api.upload_key_package(installation, b"one", is_last_resort=False)
        api.upload_key_package(installation, b"two", is_last_resort=False)
        api.upload_key_package(only_one_time, b"single", is_last_resort=False)
        assert api.fetch_key_packages([installation, only_one_time]) == {installation: b"one", only_one_time: b"single"}
        assert api.fetch_key_packages([installation, only_one_time]) == {installation: b"two"}
        assert api.fetch_key_packages([installation]) == {installation: b"last resort"}
        assert api.fetch_key_packages([installation]) == {installation: b"last resort"}


class TestIdentityRegistry:
    def test_chain_is_stored_and_states_follow_it(self, network_backend: NetworkBackend) -> None:
        registry = network_backend.open().identity
        first, second = key(), key()
        created = registry.publish_identity_update(ident.create_inbox(first, 10))
        inbox = created.inbox_id
        assert created.active_installation_ids == {ident.installation_id_of(first)}
        added = registry.publish_identity_update(ident.add_installation(created, first, second, 20))
        revoked = registry.publish_identity_update(
            ident.revoke_installations(added, second, [ident.installation_id_of(first)], 30)
        )
        assert revoked.sequence_id == 3
        assert revoked.active_installation_ids == {ident.installation_id_of(second)}
        assert registry.get_inbox_state(inbox) == revoked
        assert registry.get_inbox_states([inbox]) == {inbox: revoked}
        updates = registry.get_identity_updates(inbox)
        assert [u.sequence_id for u in updates] == [1, 2, 3]
        assert ident.inbox_state_from_updates(updates) == revoked
        assert [u.sequence_id for u in registry.get_identity_updates(inbox, after_sequence_id=2)] == [3]
        assert registry.get_identity_updates(inbox, after_sequence_id=3) == []

    def test_invalid_updates_are_rejected_and_not_stored(self, network_backend: NetworkBackend) -> None:
        registry = network_backend.open().identity
        first, second, third = key(), key(), key()
        state = registry.publish_identity_update(ident.create_inbox(first, 1))
        add_second = ident.add_installation(state, first, second, 2)
        add_third = ident.add_installation(state, first, third, 2)
        state = registry.publish_identity_update(add_second)
        with pytest.raises(identity_errors.UnexpectedSequenceId):
            registry.publish_identity_update(add_second)  # replayed
        with pytest.raises(identity_errors.UnexpectedSequenceId):
            registry.publish_identity_update(add_third)  # lost the race for sequence id 2
        forged = ident.IdentityUpdate(
            ident.IdentityUpdateContent(state.inbox_id, 3, 3, ident.RevokeInstallations((ident.installation_id_of(first),))),
            ident.installation_id_of(second),
            bytes(64),
        )
        with pytest.raises(identity_errors.InvalidIdentitySignature):
            registry.publish_identity_update(forged)
        with pytest.raises(identity_errors.InboxAlreadyExists):
            registry.publish_identity_update(ident.create_inbox(first, 4))
        assert registry.get_inbox_state(state.inbox_id) == state

    def test_revoked_installations_cannot_sign(self, network_backend: NetworkBackend) -> None:
        registry = network_backend.open().identity
        first, second = key(), key()
        state = registry.publish_identity_update(ident.create_inbox(first, 1))
        state = registry.publish_identity_update(ident.add_installation(state, first, second, 2))
        state = registry.publish_identity_update(
            ident.revoke_installations(state, second, [ident.installation_id_of(first)], 3)
        )
        newcomer = key()
        content = ident.IdentityUpdateContent(state.inbox_id, 4, 4, ident.AddInstallation(ident.installation_id_of(newcomer)))
        with pytest.raises(identity_errors.RevokedSigner):
            registry.publish_identity_update(ident.sign_update(content, first, newcomer))
        assert registry.get_inbox_state(state.inbox_id) == state

    def test_at_most_ten_active_installations(self, network_backend: NetworkBackend) -> None:
        registry = network_backend.open().identity
        signer = key()
        state = registry.publish_identity_update(ident.create_inbox(signer, 1))
        for _ in range(ident.MAX_INSTALLATIONS_PER_INBOX - 1):
            state = registry.publish_identity_update(ident.add_installation(state, signer, key(), 2))
        assert len(state.active_installation_ids) == 10
        eleventh = key()
        content = ident.IdentityUpdateContent(
            state.inbox_id, 11, 3, ident.AddInstallation(ident.installation_id_of(eleventh))
        )
        with pytest.raises(identity_errors.TooManyInstallations):
            registry.publish_identity_update(ident.sign_update(content, signer, eleventh))
        assert registry.get_inbox_state(state.inbox_id) == state

    def test_an_installation_belongs_to_one_inbox(self, network_backend: NetworkBackend) -> None:
        registry = network_backend.open().identity
        owner, shared = key(), key()
        state = registry.publish_identity_update(ident.create_inbox(owner, 1))
        registry.publish_identity_update(ident.add_installation(state, owner, shared, 2))
        with pytest.raises(identity_errors.InstallationOwnedByAnotherInbox):
            registry.publish_identity_update(ident.create_inbox(shared, 3))
        other_signer, other_state = new_inbox(network_backend.open())
        with pytest.raises(identity_errors.InstallationOwnedByAnotherInbox):
            registry.publish_identity_update(ident.add_installation(other_state, other_signer, owner, 4))
        assert registry.get_inbox_state(other_state.inbox_id) == other_state

    def test_unknown_inboxes_are_not_found(self, network_backend: NetworkBackend) -> None:
        net = network_backend.open()
        _, known = new_inbox(net)
        unknown = ident.inbox_id_for(new_id() * 2)
        with pytest.raises(identity_errors.InboxNotFound):
            net.identity.get_inbox_state(unknown)
        with pytest.raises(identity_errors.InboxNotFound) as caught:
            net.identity.get_inbox_states([known.inbox_id, unknown])
        assert caught.value.inbox_ids == (unknown,)
        with pytest.raises(identity_errors.InboxNotFound):
            net.identity.get_identity_updates(unknown, after_sequence_id=1)
        stray = key()
        content = ident.IdentityUpdateContent(unknown, 2, 1, ident.AddInstallation(ident.installation_id_of(stray)))
        with pytest.raises(identity_errors.MissingCreateInbox):
            net.identity.publish_identity_update(ident.sign_update(content, key(), stray))


class TestSharedStorage:
    def test_data_survives_reopening(self, shared_network_backend: NetworkBackend) -> None:
        net = shared_network_backend.open()
        group, installation = new_id(), new_id()
        net.api.send_group_messages(group, [b"a", b"b"])
        net.api.send_welcome_messages([(installation, b"w")])
        net.api.upload_key_package(installation, b"kp")
        signer, state = new_inbox(net)
        net.close()
        again = shared_network_backend.open()
        assert again.api.send_group_messages(group, [b"c"]) == [3]
        assert [e.payload for e in again.api.query_group_messages(group)] == [b"a", b"b", b"c"]
        assert [e.payload for e in again.api.query_welcome_messages(installation)] == [b"w"]
        assert again.api.fetch_key_packages([installation]) == {installation: b"kp"}
        assert again.identity.get_inbox_state(state.inbox_id) == state
        assert again.identity.publish_identity_update(ident.add_installation(state, signer, key(), 2)).sequence_id == 2

    def test_a_second_connection_sees_the_first_ones_updates(self, shared_network_backend: NetworkBackend) -> None:
        one, two = shared_network_backend.open(), shared_network_backend.open()
        signer, state = new_inbox(one)
        assert two.identity.get_inbox_state(state.inbox_id) == state
        state = one.identity.publish_identity_update(ident.add_installation(state, signer, key(), 2))
        assert two.identity.get_inbox_states([state.inbox_id])[state.inbox_id] == state
        newcomer = key()
        stale = ident.IdentityUpdateContent(state.inbox_id, 2, 3, ident.AddInstallation(ident.installation_id_of(newcomer)))
        with pytest.raises(identity_errors.UnexpectedSequenceId):
            two.identity.publish_identity_update(ident.sign_update(stale, signer, newcomer))

    def test_closed_network_refuses_use(self, shared_network_backend: NetworkBackend) -> None:
        with shared_network_backend.open() as net:
            net.api.send_group_messages(new_id(), [b"x"])
        with pytest.raises(NetworkClosed):
            net.api.query_group_messages(new_id())
        net.close()

    def test_processes_appending_to_one_topic_get_gapless_distinct_cursors(
        self, shared_network_backend: NetworkBackend
    ) -> None:
        workers, batches = 4, 24
        net = shared_network_backend.open()
        signer, state = new_inbox(net)
        racing = [ident.add_installation(state, signer, key(), 2).encode() for _ in range(workers)]
        topics = (new_id(), new_id())
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(workers + 1), context.Queue()
        processes = [
            context.Process(
                target=race_and_append,
                args=(shared_network_backend.spec(), w, topics, batches, racing[w], barrier, results),
            )
            for w in range(workers)
        ]
        for process in processes:
            process.start()
        barrier.wait(timeout=60)
        # Read while they write: a reader following the cursor must never see a gap.
        seen: list[Envelope] = []
        deadline = time.monotonic() + 60
        while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
            page = net.api.query_group_messages(topics[0], after_cursor=len(seen))
            assert [e.cursor for e in page] == list(range(len(seen) + 1, len(seen) + 1 + len(page)))
            seen.extend(page)
        reports = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
        seen.extend(net.api.query_group_messages(topics[0], after_cursor=len(seen)))

        assert sum(won for _, won, _ in reports) == 1
        assert net.identity.get_inbox_state(state.inbox_id).sequence_id == 2
        for topic in topics:
            stored = net.api.query_group_messages(topic)
            sent = {(payload, cursor) for _, _, report in reports for t, payload, cursor in report if t == topic}
            assert [e.cursor for e in stored] == list(range(1, len(stored) + 1))
            assert {(e.payload, e.cursor) for e in stored} == sent
            assert len({e.payload for e in stored}) == len(stored) == len(sent)
            times = [e.server_time_ns for e in stored]
            assert all(a < b for a, b in zip(times, times[1:]))
        assert seen == net.api.query_group_messages(topics[0])
        switches = sum(a.payload.split(b"-")[0] != b.payload.split(b"-")[0] for a, b in zip(seen, seen[1:]))
        assert switches > workers - 1, "the writers never overlapped, so this run proved nothing about concurrency"
