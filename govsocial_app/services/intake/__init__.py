"""Intake: everything inbound enters here. A profile's poll (polling.py), a brand-keyword search (searches.py), the
demo seed and webhooks hand a page of items to the one pipeline (pipeline.py): store with dedupe (inbox/ingest) →
brand-keyword tags → listening (topics, sentiment, claims) → keyword alerts, in the caller's transaction, then one
typed announcement after the commit (services/events.py). It sits above listening and inbox, which it feeds."""
