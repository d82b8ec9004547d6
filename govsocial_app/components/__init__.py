"""Reusable UI pieces: small functions that build components."""
