"""Account rules (create, authenticate, change), independent of HTTP so the CLI and routes share them."""

from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mmm_dash.web.auth.models import ROLES, Role, User, utcnow
from mmm_dash.web.auth.passwords import DUMMY_HASH, check_password, hash_password, password_problem
from mmm_dash.web.extensions import db

MAX_EMAIL = 254


class AccountError(ValueError):
    """A reason, in one sentence, why an account operation was refused."""


class EmailTaken(AccountError):
    """The address already has an account (the web answers neutrally; the CLI says so)."""


class WrongPassword(AccountError):
    """The current password typed to change one's own password is wrong (counted, see auth.routes)."""


class LastAdmin(AccountError):
    """The change would leave no active admin, and nobody could manage accounts any more."""


LAST_ADMIN = "This is the last active admin: make another account an admin before demoting or deactivating it."


def normalize_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > MAX_EMAIL:
        raise AccountError(f"Email addresses are at most {MAX_EMAIL} characters.")
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"That is not a valid email address: {exc}") from None


def check_new_password(password: str, email: str = "") -> None:
    """Refuse a password the policy does not allow (self-registration, password changes, CLI)."""
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    return role


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def create_user(
    email: str,
    password: str,
    role: str = Role.ANALYST,
    *,
    enforce_policy: bool = True,
    change_required: bool = False,
) -> User:
    """Create an account; a duplicate (even a concurrent one) is refused by the unique index.
    `enforce_policy=False` only for the development seed accounts, whose passwords are well known;
    `change_required`: the user must choose a new password at the first sign-in (an admin set it)."""
    check_role(role)
    email = normalize_email(email)
    if enforce_policy:
        check_new_password(password, email)
    if find_user(email) is not None:
        raise EmailTaken("An account with this email already exists.")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=str(role),
        active=True,
        password_change_required=change_required,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken("An account with this email already exists.") from None
    return user


def register(email: str, password: str) -> User | None:
    """Self-service sign-up: the new analyst, or None when the address is taken. Both cases cost one
    bcrypt hash, so neither the answer nor its timing tells a visitor which addresses have accounts."""
    email = normalize_email(email)
    check_new_password(password, email)
    try:
        return create_user(email, password, Role.ANALYST)
    except EmailTaken:
        hash_password(password)  # the same work a successful sign-up does
        return None


def _existing(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise AccountError(f"No account with the email {email.strip().lower()}.")
    return user


def set_password(email: str, password: str) -> User:
    """Change a password (policy applies); the account's existing sessions end."""
    user = _existing(email)
    check_new_password(password, user.email)
    user.password_hash = hash_password(password)
    db.session.commit()
    return user


def generate_password() -> str:
    """A one-time password for an admin to hand over (about 96 random bits, readable)."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def reset_password(email: str) -> tuple[User, str]:
    """Replace the password with a one-time password, returned once and stored only as a hash; the
    account's sessions end and its owner must choose a new password at the next sign-in."""
    user = _existing(email)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.password_change_required = True
    db.session.commit()
    return user, password


def change_own_password(user: User, current: str, new: str) -> None:
    """The signed-in user's own change: the current password must match, the policy applies."""
    if not check_password(current, user.password_hash):
        raise WrongPassword("The current password is wrong.")
    if current == new:
        raise AccountError("Choose a password different from the current one.")
    check_new_password(new, user.email)
    user.password_hash = hash_password(new)
    user.password_change_required = False
    db.session.commit()


def _keep_an_admin(user: User, role: str, active: bool) -> None:
    """Apply a role or active change, refusing it (LastAdmin) when no active admin would remain.

    Safe against two admins demoting each other at once: on PostgreSQL the active admins' rows are
    locked first, and on both databases the change is written before the remaining admins are
    counted (SQLite lets one writer in at a time, so the second one counts after the first)."""
    losing_an_admin = user.role == Role.ADMIN and user.active and (role != Role.ADMIN or not active)
    if losing_an_admin:
        active_admins = select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))
        db.session.scalars(active_admins.with_for_update()).all()
    user.role, user.active = role, active
    db.session.flush()
    if losing_an_admin:
        remaining = db.session.scalars(
            select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))
        ).all()
        if not remaining:
            db.session.rollback()
            raise LastAdmin(LAST_ADMIN)
    db.session.commit()


def set_role(email: str, role: str) -> User:
    """Change a role; the account's existing sessions end, so the new role applies at once.
    The last active admin keeps its role."""
    user = _existing(email)
    _keep_an_admin(user, check_role(role), user.active)
    return user


def set_active(email: str, active: bool) -> User:
    """Deactivate (ending every session) or reactivate an account; the last active admin stays active."""
    user = _existing(email)
    _keep_an_admin(user, user.role, active)
    return user


def list_users() -> list[User]:
    """Every account, by email."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every cookie issued so far stops working."""
    user.end_sessions()
    db.session.commit()


def authenticate(email: str, password: str) -> User | None:
    """The user if email and password match an active account, else None (same cost either way)."""
    user = find_user(email or "")
    if user is None:
        check_password(password, DUMMY_HASH)
        return None
    if not check_password(password, user.password_hash) or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user
