"""mlsgroup's infrastructure: event store, network adapters, CLI (the Client arrives with the group layer)."""

from .network import Network

__all__ = ["Network"]
