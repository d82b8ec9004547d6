"""Mastodon connector: any server speaking the Mastodon REST API."""

from connectors.mastodon.connector import MastodonConnector
from connectors.mastodon.oauth import AppRegistration, authorize_url, exchange_code, register_app

__all__ = ["AppRegistration", "MastodonConnector", "authorize_url", "exchange_code", "register_app"]
