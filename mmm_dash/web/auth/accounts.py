"""Account rules (create, authenticate), independent of HTTP so the CLI and routes share them."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mmm_dash.web.auth.models import ROLES, User, utcnow
from mmm_dash.web.auth.passwords import DUMMY_HASH, check_password, hash_password
from mmm_dash.web.extensions import db

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_EMAIL = 254


class AccountError(ValueError):
    """A reason, in one sentence, why an account operation was refused."""


def normalize_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > MAX_EMAIL:
        raise AccountError(f"Email addresses are at most {MAX_EMAIL} characters.")
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"That is not a valid email address: {exc}") from None


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"Passwords are at most {MAX_PASSWORD} characters.")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(email: str, password: str, role: str = "analyst", *, enforce_length: bool = True) -> User:
    """Create an account; a duplicate (even a concurrent one) is refused by the unique index."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    email = normalize_email(email)
    if enforce_length:
        check_new_password(password)
    if find_user(email) is not None:
        raise AccountError("An account with this email already exists; sign in instead.")
    user = User(email=email, password_hash=hash_password(password), role=role, active=True)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountError("An account with this email already exists; sign in instead.") from None
    return user


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
