"""Live ledger events (issue 18): the durable outbox is written by the stores
(``store/outbox.py``, ``models/events.py``); this package streams it — ``hub`` (wake-ups by
PostgreSQL LISTEN/NOTIFY, Redis pub/sub or in-process), ``sse`` (Server-Sent Events framing and
the resumable reader loop) and ``client_stream`` (an async iterator for Python users).

Kept free of imports so that the stores can import ``convoledger.events.*`` without cycles."""
