"""Domain events: a transactional outbox, a relay that publishes it in order, a bus that fans it out to every
API instance, and a hub that hands each event to the WebSocket clients it is addressed to.

    await publish(session, "payment.confirmed", {...}, user_ids=[user.id])  # written with the commit
"""

from laura.core.events.event import Event
from laura.core.events.producer import publish
from laura.core.events.runtime import EventRuntime, start_events

__all__ = ["Event", "EventRuntime", "publish", "start_events"]
