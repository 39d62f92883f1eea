"""The web app: the only package that knows requests."""
