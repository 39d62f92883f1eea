"""The text ground floor: French words, fingerprints, language, URLs.

Pure functions over strings, shared by collection, classification, search and the
newsletter; nothing here imports the rest of the project (no database, no collect, no
classify), so any layer may use it.
"""
