"""Meta connectors: Facebook Pages and Instagram professional accounts over the Graph API."""

from connectors.meta.facebook import FacebookConnector
from connectors.meta.instagram import InstagramConnector

__all__ = ["FacebookConnector", "InstagramConnector"]
