"""Alerting: telling the right people that something needs them.

Flow: alerts is the core (raise an alert, choose recipients, deliver in-app, email and Web Push with retries);
spikes watches message volume and keyword_alerts watches brand keywords, and both raise through alerts;
webpush holds the browser subscriptions and sends. Nothing is re-exported: import the module you mean."""
