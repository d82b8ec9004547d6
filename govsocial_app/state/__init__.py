"""Thin Reflex state classes: check the role, call a service, keep one page of results."""
