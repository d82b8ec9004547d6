"""Listening: what people say about us beyond our own mentions.

Flow: keywords runs brand-keyword searches (written in keyword_query's query language) and hands what it finds
to ingest; topics tags stored messages with listening topics and sentiment; claims matches messages against
known false claims and suggests a correction. Nothing is re-exported: import the module you mean."""
