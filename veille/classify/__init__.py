"""Classification by theme and value scoring."""
