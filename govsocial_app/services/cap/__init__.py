"""Official alerts (CAP 1.2) in and out, and the accessibility and translation helpers of emergency posts.

Flow: feeds.poll_source() fetches an Atom/RSS index (or one CAP URL) politely -> parse.parse_alert() reads each new
CAP document into model.Alert (hardened XML, OASIS XSD, typed errors) -> jurisdiction.decide() says raise or
store-only, with reasons -> drafts.build_drafts() turns a raised alert into one draft per language sized for each
network -> store.py keeps sources, alerts and decisions. Outbound: capout.to_cap_xml()/to_atom() publish the
agency's own warnings; accessibility.check_post() and translation_memory.TranslationMemory serve the composer.
"""
