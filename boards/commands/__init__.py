"""CLI commands of the board files."""
