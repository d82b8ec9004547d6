"""Listening: what people say about us beyond our own mentions.

Flow: keywords keeps the brand keywords (written in keyword_query's query language) and their health lines; the
searches themselves run in intake/searches.py, which hands what they find to the intake pipeline; topics tags
stored messages with listening topics and sentiment; claims matches messages against known false claims and
suggests a correction. Nothing is re-exported: import the module you mean."""
