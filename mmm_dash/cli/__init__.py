"""`python -m mmm_dash ...`: the operator's commands."""

from __future__ import annotations

import click

from mmm_dash.cli import bench, db_commands, loadtest, model_commands, serve, worker_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """mmm-dash: a dashboard for fitted Google Meridian media-mix models."""


for module in (serve, db_commands, model_commands, worker_commands, bench, loadtest):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="python -m mmm_dash")
