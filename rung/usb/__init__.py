"""USB commands: rung flash, deploy, config and status (docs/flashing.md)."""
