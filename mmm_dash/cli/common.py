"""Shared by the commands: settings errors as one line, an app context for database work."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from mmm_dash.config import ConfigError


@contextlib.contextmanager
def server_context() -> Iterator:
    """A Flask app context (database, settings, catalog) without building the Dash app."""
    from mmm_dash.web.app_factory import create_server

    try:
        server = create_server()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    with server.app_context():
        yield server


def settings_or_exit():
    """The settings, or the one sentence an operator must act on (no traceback)."""
    from mmm_dash.config import load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)
