"""The delegate's weekly desk, without HTTP: the inbox read model (`inbox`) and the curation
actions (`curation`: keep, discard, star, edit, re-theme), each logged to the audit log."""
