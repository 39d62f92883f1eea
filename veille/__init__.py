"""veille: news monitoring and newsletter engine."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/opendatafrance/veille"
USER_AGENT = f"veille/{__version__} (+{PROJECT_URL})"
