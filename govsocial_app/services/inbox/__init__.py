"""The inbox: what comes in from the networks and what the team does with it.

Flow: polling (a profile's mentions) and intake hand a page of inbound items to ingest (store with dedupe, keep
edit/delete history); stream reads the team's inbox (filters, tags, cards, detail) from what ingest stored;
replies sends answers back through the connector; presence says who is looking at which message; vip keeps
the lists of people whose messages matter most. Nothing is re-exported: import the module you mean."""
