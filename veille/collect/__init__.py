"""Collection pipeline: fetch → parse/discover → extract → clean → decide → store."""
