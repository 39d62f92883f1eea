"""The members' archive: query parsing, search with facets, feeds out, export."""
