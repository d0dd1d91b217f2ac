"""The eventsourcing Application base for mlsgroup stores, configured only by StoreSettings (ARCHITECTURE 3).

Differences from ``eventsourcing.application.Application``:

* the environment comes from the settings alone: process environment variables are not merged in,
  so a stray ``CIPHER_KEY`` or ``<APP>_SQLITE_DBNAME`` cannot redirect or re-key a store;
* a PostgreSQL store's schema is created before the recorders create their tables;
* :meth:`open` takes :class:`StoreSettings`. Use the application as a context manager (or call
  ``close()``): otherwise only ``__del__`` closes its connection pools.
"""

from __future__ import annotations

from typing import Any, Self
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment, EnvType

from .settings import StoreSettings, prepare_backend

__all__ = ["StoreApplication"]


class StoreApplication(Application[UUID]):
    """An eventsourcing Application whose store is described by :class:`StoreSettings`."""

    @classmethod
    def open(cls, settings: StoreSettings, **kwargs: Any) -> Self:
        """Open (creating if needed) the store ``settings`` describes."""
        return cls(env=settings.env(), **kwargs)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        merged = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        if env is not None:
            merged.update(env)
        return Environment(name, merged)

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        prepare_backend(env, env.name)
        return super().construct_factory(env)
