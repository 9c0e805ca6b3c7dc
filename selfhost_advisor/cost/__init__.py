"""Self-host vs cloud cost: pure functions over dataclasses (no typer, rich or filesystem beyond data/ loading)."""
