"""Database and account commands."""

from __future__ import annotations

import click
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from mmm_dash.cli.common import fail, server_context

DEV_USERS = (
    ("test@example.com", "test123", "analyst"),
    ("admin@example.com", "admin123", "admin"),
    ("demo@example.com", "demo123", "viewer"),
)


def _describe_db_error(exc: Exception) -> str:
    first = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    return f"the database is unreachable ({first}). Check DATABASE_URL and that the server is running."


def _upgrade() -> None:
    from flask_migrate import upgrade

    upgrade()


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    with server_context() as server:
        try:
            _upgrade()
        except OperationalError as exc:
            fail(_describe_db_error(exc))
        click.echo(f"Database ready: {server.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}")


@click.command("reset-db")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset_db(yes: bool) -> None:
    """Drop every table and recreate the schema. All accounts are lost."""
    if not yes and not click.confirm("This deletes every account and saved scenario. Continue?", default=False):
        fail("Aborted; nothing was changed.")
    from flask_migrate import downgrade

    with server_context():
        try:
            downgrade(revision="base")
            _upgrade()
        except OperationalError as exc:
            fail(_describe_db_error(exc))
    click.echo("Database reset.")


@click.command("check-db")
def check_db() -> None:
    """Show dialect, server version and user count; exit non-zero when unreachable."""
    from mmm_dash.web.auth.models import User
    from mmm_dash.web.extensions import db

    with server_context():
        engine = db.engine
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    server_version = conn.execute(text("SHOW server_version")).scalar()
                elif engine.dialect.name == "sqlite":
                    server_version = conn.execute(text("select sqlite_version()")).scalar()
                else:
                    server_version = ".".join(map(str, engine.dialect.server_version_info or ()))
        except SQLAlchemyError as exc:
            fail(_describe_db_error(exc))
        try:
            users = db.session.scalar(select(func.count()).select_from(User))
        except SQLAlchemyError:
            fail("the database is reachable but has no schema yet: run `python -m mmm_dash init-db`.")
        click.echo(f"dialect: {engine.dialect.name}")
        click.echo(f"server version: {server_version}")
        click.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
        click.echo(f"users: {users}")


@click.command("seed-users")
def seed_users() -> None:
    """Create the development accounts (idempotent; refused in production)."""
    from mmm_dash.web.auth import accounts

    with server_context() as server:
        if server.extensions["mmm_dash"].settings.is_production:
            fail("seed-users creates accounts with well-known passwords and is refused in production.")
        try:
            for email, password, role in DEV_USERS:
                if accounts.find_user(email):
                    click.echo(f"exists   {email} ({role})")
                    continue
                accounts.create_user(email, password, role, enforce_length=False)
                click.echo(f"created  {email} / {password} ({role})")
        except OperationalError as exc:
            fail(_describe_db_error(exc) + " Did you run init-db?")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "analyst", "viewer"]), default="analyst", show_default=True)
@click.password_option(prompt="Password")
def create_user(email: str, role: str, password: str) -> None:
    """Create an account with EMAIL and ROLE (the password is asked for)."""
    from mmm_dash.web.auth import accounts

    with server_context():
        try:
            user = accounts.create_user(email, password, role)
        except accounts.AccountError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(_describe_db_error(exc))
        click.echo(f"created {user.email} ({user.role})")


COMMANDS = [init_db, reset_db, check_db, seed_users, create_user]
