"""Database and account commands."""

from __future__ import annotations

import click
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from mmm_dash.cli.common import fail, server_context
from mmm_dash.web.auth.roles import ROLES, Role

# Well-known development passwords, below the password policy on purpose: seed-users bypasses
# the policy (and is refused in production); every other way of setting a password applies it.
DEV_USERS = (
    ("test@example.com", "test123", Role.ANALYST),
    ("admin@example.com", "admin123", Role.ADMIN),
    ("demo@example.com", "demo123", Role.VIEWER),
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
                accounts.create_user(email, password, role, enforce_policy=False)
                click.echo(f"created  {email} / {password} ({role})")
        except OperationalError as exc:
            fail(_describe_db_error(exc) + " Did you run init-db?")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default=Role.ANALYST.value, show_default=True)
@click.password_option(prompt="Password")
def create_user(email: str, role: str, password: str) -> None:
    """Create an account with EMAIL and ROLE (the password is asked for; the password policy applies).
    This is how accounts are made when REGISTRATION is invite or closed."""
    from mmm_dash.web import audit
    from mmm_dash.web.auth import accounts

    with server_context():
        try:
            user = accounts.create_user(email, password, role)
        except accounts.AccountError as exc:
            audit.record(audit.ACCOUNT_CREATE, email, audit.FAILED, str(exc))
            fail(str(exc))
        except OperationalError as exc:
            fail(_describe_db_error(exc))
        audit.record(audit.ACCOUNT_CREATE, user.email, detail=f"role {user.role}; password set by an operator")
        click.echo(f"created {user.email} ({user.role})")


def _change_account(action: str, change, email: str, *args) -> None:
    """Apply `change` to the account, audit it (done or refused) and say what happened."""
    from mmm_dash.web import audit
    from mmm_dash.web.auth import accounts

    with server_context():
        try:
            before = accounts.find_user(email)
            before_role = before.role if before else ""
            user = change(email, *args)
        except accounts.AccountError as exc:
            outcome = audit.DENIED if isinstance(exc, accounts.LastAdmin) else audit.FAILED
            audit.record(action, email, outcome, str(exc))
            fail(str(exc))
        except OperationalError as exc:
            fail(_describe_db_error(exc))
        detail = f"{before_role} -> {user.role}" if action == audit.ACCOUNT_ROLE else ""
        audit.record(action, user.email, detail=detail)
        click.echo(
            f"updated {user.email} ({user.role}, {'active' if user.active else 'deactivated'}); "
            "its existing sessions have ended"
        )


@click.command("set-password")
@click.argument("email")
@click.password_option(prompt="New password")
def set_password(email: str, password: str) -> None:
    """Change EMAIL's password (policy applies); signs the account out everywhere."""
    from mmm_dash.web import audit
    from mmm_dash.web.auth import accounts

    _change_account(audit.ACCOUNT_PASSWORD_RESET, accounts.set_password, email, password)


@click.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email: str, role: str) -> None:
    """Change EMAIL's role; signs the account out everywhere so the new role applies at once.
    The last active admin cannot be demoted."""
    from mmm_dash.web import audit
    from mmm_dash.web.auth import accounts

    _change_account(audit.ACCOUNT_ROLE, accounts.set_role, email, role)


@click.command("deactivate-user")
@click.argument("email")
@click.option("--reactivate", is_flag=True, help="Allow the account to sign in again.")
def deactivate_user(email: str, reactivate: bool) -> None:
    """Stop EMAIL from signing in and end its sessions (or, with --reactivate, allow it again).
    The last active admin cannot be deactivated."""
    from mmm_dash.web import audit
    from mmm_dash.web.auth import accounts

    action = audit.ACCOUNT_REACTIVATE if reactivate else audit.ACCOUNT_DEACTIVATE
    _change_account(action, accounts.set_active, email, reactivate)


@click.command("reactivate-user")
@click.argument("email")
def reactivate_user(email: str) -> None:
    """Allow a deactivated EMAIL to sign in again."""
    from mmm_dash.web import audit
    from mmm_dash.web.auth import accounts

    _change_account(audit.ACCOUNT_REACTIVATE, accounts.set_active, email, True)


@click.command("list-users")
def list_users() -> None:
    """Every account: email, role, active or not, last sign-in."""
    from mmm_dash.web.auth import accounts

    with server_context():
        try:
            users = accounts.list_users()
        except OperationalError as exc:
            fail(_describe_db_error(exc))
        for user in users:
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.email}\t{user.role}\t{state}\tlast sign-in {last}")


COMMANDS = [
    init_db,
    reset_db,
    check_db,
    seed_users,
    create_user,
    set_password,
    set_role,
    deactivate_user,
    reactivate_user,
    list_users,
]
