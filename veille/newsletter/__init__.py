"""The newsletter: compose an edition from the desk's choices, render it per member, send it
exactly once per member."""
