"""Shared plumbing of the mini services.

One installable package: the inter-service HTTP client, trust of the gateway's
identity headers, problem+json errors, Idempotency-Key handling, health
endpoints, logging and settings helpers. It is also a Django app (it owns the
idempotency table), so every service lists ``mini_common`` in INSTALLED_APPS.
"""
