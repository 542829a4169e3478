"""The ``callvault`` command-line interface (a client of the library)."""

from callvault.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
