"""X (formerly Twitter) connector over the X API v2."""

from connectors.x.connector import XConnector

__all__ = ["XConnector"]
