"""Self-host vs cloud cost: pure functions over frozen records (no typer, rich or filesystem beyond data/ loading)."""
