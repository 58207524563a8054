"""CLI commands, one module per area; each registers itself on talkstyle.cli.app."""
