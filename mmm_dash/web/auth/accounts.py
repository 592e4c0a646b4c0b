"""Account rules (create, authenticate, change), independent of HTTP so the CLI and routes share them."""

from __future__ import annotations

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


def create_user(email: str, password: str, role: str = Role.ANALYST, *, enforce_policy: bool = True) -> User:
    """Create an account; a duplicate (even a concurrent one) is refused by the unique index.
    `enforce_policy=False` only for the development seed accounts, whose passwords are well known."""
    check_role(role)
    email = normalize_email(email)
    if enforce_policy:
        check_new_password(password, email)
    if find_user(email) is not None:
        raise EmailTaken("An account with this email already exists.")
    user = User(email=email, password_hash=hash_password(password), role=str(role), active=True)
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


def set_role(email: str, role: str) -> User:
    """Change a role; the account's existing sessions end, so the new role applies at once."""
    user = _existing(email)
    user.role = check_role(role)
    db.session.commit()
    return user


def set_active(email: str, active: bool) -> User:
    """Deactivate (ending every session) or reactivate an account."""
    user = _existing(email)
    user.active = active
    db.session.commit()
    return user


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
