"""A stateful hypothesis test of whole groups: members add, remove, update, propose and talk, and
after every step all members agree with each other and with a naive model of the membership."""

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mlsgroup.domain.mls.group import (
    ApplicationMessage,
    commit,
    create_group,
    encrypt_application,
    export_secret,
    join_group,
    merge_commit,
    process_message,
    propose_remove,
    propose_update,
)

from .builders import GROUP_ID, key_package, seed

MAX_MEMBERS = 6


class GroupMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.counter = 100
        self.states = {b"m0": create_group(1, GROUP_ID, key_package(b"m0", self.fresh()), seed=seed(self.fresh()))}
        self.model = {b"m0"}
        self.next_name = 1

    def fresh(self) -> int:
        self.counter += 1
        return self.counter

    def broadcast(self, sender: bytes, staged) -> None:
        for name in list(self.states):
            state = self.states[name]
            if name == sender:
                self.states[name] = merge_commit(state, staged)
                continue
            self.states[name] = merge_commit(state, process_message(state, staged.message).output)
        for name in [n for n, s in self.states.items() if not s.is_active]:
            del self.states[name]

    def pick(self, data_index: int) -> bytes:
        names = sorted(self.states)
        return names[data_index % len(names)]

    @precondition(lambda self: len(self.model) < MAX_MEMBERS)
    @rule(who=st.integers(0, 100), wire=st.sampled_from(["public", "private"]))
    def add_member(self, who, wire):
        committer = self.pick(who)
        name = b"m%d" % self.next_name
        self.next_name += 1
        bundle = key_package(name, self.fresh())
        staged = commit(self.states[committer], adds=[bundle.key_package], seed=seed(self.fresh()), handshake_wire_format=wire)
        self.broadcast(committer, staged)
        self.states[name] = join_group(staged.welcome, bundle)
        self.model.add(name)

    @precondition(lambda self: len(self.model) > 1)
    @rule(who=st.integers(0, 100), whom=st.integers(0, 100))
    def remove_member(self, who, whom):
        committer = self.pick(who)
        others = sorted(n for n in self.states if n != committer)
        victim = others[whom % len(others)]
        leaf = self.states[victim].own_leaf_index
        staged = commit(self.states[committer], removes=[leaf], seed=seed(self.fresh()))
        self.broadcast(committer, staged)
        self.model.discard(victim)

    @rule(who=st.integers(0, 100))
    def self_update(self, who):
        committer = self.pick(who)
        self.broadcast(committer, commit(self.states[committer], seed=seed(self.fresh())))

    @precondition(lambda self: len(self.model) > 1)
    @rule(who=st.integers(0, 100), by=st.integers(0, 100), remove=st.booleans())
    def propose_then_commit(self, who, by, remove):
        proposer, committer = self.pick(who), self.pick(by)
        if remove:
            others = sorted(n for n in self.states if n != proposer and n != committer)
            if not others:
                return
            victim = others[0]
            state, message = propose_remove(self.states[proposer], self.states[victim].own_leaf_index, seed=seed(self.fresh()))
        else:
            victim = None
            state, message = propose_update(self.states[proposer], seed=seed(self.fresh()))
        self.states[proposer] = state
        for name in self.states:
            if name != proposer:
                self.states[name] = process_message(self.states[name], message).new_state
        self.broadcast(committer, commit(self.states[committer], seed=seed(self.fresh())))
        if victim is not None:
            self.model.discard(victim)

    @rule(who=st.integers(0, 100), text=st.binary(max_size=40))
    def talk(self, who, text):
        sender = self.pick(who)
        self.states[sender], message = encrypt_application(self.states[sender], text, seed(self.fresh()))
        for name, state in self.states.items():
            if name != sender:
                processed = process_message(state, message)
                assert isinstance(processed.output, ApplicationMessage) and processed.output.data == text
                self.states[name] = processed.new_state

    @invariant()
    def members_agree(self):
        states = list(self.states.values())
        assert set(self.states) == self.model
        assert len({s.epoch_authenticator for s in states}) == 1
        assert len({export_secret(s, b"machine", b"", 16) for s in states}) == 1
        identities = {frozenset(m.credential.identity for m in s.members().values()) for s in states}
        assert identities == {frozenset(self.model)}


GroupMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=8, deadline=None)
TestGroupMachine = GroupMachine.TestCase
