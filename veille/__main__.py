"""`python -m veille` runs the command line (`cli/entry.py`)."""

from veille.cli.entry import main

main()
