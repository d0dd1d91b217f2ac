"""Errors of the network adapters (delivery service, identity registry, key-package directory).

Bad arguments raise ``ValueError`` / ``TypeError``; identity updates that do not extend their chain
raise the domain's ``IdentityUpdateRejected`` subclasses; these are the infrastructure's own failures.
"""

from __future__ import annotations

__all__ = ["NetworkError", "NetworkUnavailable", "NetworkConfigurationError", "NetworkClosed", "StoredDataError"]


class NetworkError(Exception):
    """Base of every error the network adapters raise themselves."""


class NetworkUnavailable(NetworkError):
    """The database behind the network cannot be reached."""


class NetworkConfigurationError(NetworkError, ValueError):
    """The network was configured with values it cannot use (e.g. an invalid schema name)."""


class NetworkClosed(NetworkError):
    """The network was used after ``close()``."""


class StoredDataError(NetworkError):
    """Data read back from the network's database is invalid (it was altered outside the adapters)."""
