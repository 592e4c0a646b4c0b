"""Serve the dashboard (development server; use gunicorn app:server in production). With
BACKGROUND_BUNDLES on (the default) the server also runs the builder for bundles pages request."""

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
    builder = app.server.extensions["mmm_dash"].builder
    click.echo(f"mmm-dash on http://{host}:{port}  (Ctrl+C to stop)")
    if builder is None:
        click.echo("BACKGROUND_BUNDLES=0: run `python -m mmm_dash builder` or `precompute` to analyse new models.")
    try:
        app.run(host=host, port=port, debug=debug)
    finally:
        if builder is not None:
            builder.stop()  # ends a build process in progress with the server


COMMANDS = [serve_command]
