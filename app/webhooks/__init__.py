"""Pushing receipts to enterprises' webhooks: signing, the outbox, the delivery worker."""
