"""A one-command typer app that prints '{}': the least any typer CLI costs to answer (benchmarks/startup.py)."""
import typer

app = typer.Typer(add_completion=False)


@app.command()
def fit(model: str, hardware: str = typer.Option(None, "--hardware"), as_json: bool = typer.Option(False, "--json")) -> None:
    print("{}")


@app.command()
def other() -> None:  # a second command, so typer builds a group as advisor's does
    pass


if __name__ == "__main__":
    app()
