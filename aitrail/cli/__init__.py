"""The aitrail command line."""
import typer

app = typer.Typer(help="aitrail: an audit trail for AI-generated code.")


def main() -> None:
    app()
