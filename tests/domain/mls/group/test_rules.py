"""The rules protocol: no rules or AcceptAll accept; rules may implement only what they decide."""

from mlsgroup.domain.mls.group import AcceptAll, commit, process_message
from mlsgroup.domain.mls.group.rules import validate_commit, validate_proposal

from .builders import group, seed


class OnlyCommits:
    def __init__(self):
        self.seen = []

    def validate_commit(self, state, effect):
        self.seen.append(effect.epoch)


def test_accepting_rules():
    alice, bob = group([b"alice", b"bob"])
    staged = commit(alice, seed=seed(1), rules=AcceptAll())
    assert process_message(bob, staged.message, rules=AcceptAll()).output.effect == staged.effect
    rules = OnlyCommits()
    validate_proposal(rules, bob, None, None)  # no validate_proposal: proposals are accepted
    validate_commit(None, bob, staged.effect)
    process_message(bob, staged.message, rules=rules)
    assert rules.seen == [bob.epoch + 1]
