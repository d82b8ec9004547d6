"""Bluesky (AT Protocol) connector package."""

from connectors.bluesky.connector import BlueskyConnector

__all__ = ["BlueskyConnector"]
