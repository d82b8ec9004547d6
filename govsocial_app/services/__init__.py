"""Domain services: plain Python, no Reflex."""
