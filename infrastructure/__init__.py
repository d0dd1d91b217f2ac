"""mlsgroup's infrastructure: the Client (one installation and its store), the Network (delivery
service, identity registry and key-package directory), the event store, and the CLI."""

from .client import Client
from .network import Network

__all__ = ["Client", "Network"]
