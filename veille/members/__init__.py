"""members: subscriptions, tokens, CSV import/export."""
