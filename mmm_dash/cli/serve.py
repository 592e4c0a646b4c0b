"""Serve the dashboard (development server; use gunicorn app:server in production)."""

import click

from mmm_dash.config import ConfigError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, show_default=True)
def serve_command(host: str, port: int, debug: bool) -> None:
    """Serve the dashboard on HOST:PORT."""
    from mmm_dash.web import create_app

    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"mmm-dash on http://{host}:{port}  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=debug)


COMMANDS = [serve_command]
