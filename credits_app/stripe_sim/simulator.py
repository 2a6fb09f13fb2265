"""The simulator's state in one object: config, store, event log and delivery worker."""

from __future__ import annotations

from .config import SimConfig
from .delivery import DeliveryWorker
from .events import EventLog
from .seed import seed_catalog
from .store import Store


class Simulator:
    """Shared state handed to every route.

    Attributes:
        config: Live configuration (`/_sim/config` changes it in place).
        store: Objects, clock and the lock.
        delivery: The webhook delivery worker.
        events: Emits events and queues their delivery.
    """

    def __init__(self, config: SimConfig) -> None:
        config.check_not_live()
        self.config = config
        self.store = Store()
        self.delivery = DeliveryWorker(config)
        self.events = EventLog(self.store, config, self.delivery)
        seed_catalog(self.store)

    @property
    def lock(self):
        """The store's re-entrant lock."""
        return self.store.lock

    def url(self, path: str) -> str:
        """Absolute URL on the simulator, for hosted pages."""
        return self.config.url(path)

    def reset(self) -> None:
        """Forget all objects, events and deliveries, then seed the catalogue again."""
        with self.lock:
            self.store.clear()
            self.delivery.reset()
            seed_catalog(self.store)
