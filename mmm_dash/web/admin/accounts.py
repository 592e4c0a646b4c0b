"""`/admin/accounts`: list, create, change role, deactivate or reactivate, reset password, clear the
account's sign-in counters (see mmm_dash.web.auth.throttle).

The rules live in `mmm_dash.web.auth.accounts` (shared with the CLI): the password policy, the last
active admin, and sessions that end when a password, role or active flag changes. Every change,
refused or done, is audited. A one-time password is shown once, in the response to the form that
made it, and stored only as a hash; its owner must replace it at the next sign-in.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from mmm_dash.web import audit
from mmm_dash.web.admin import bp
from mmm_dash.web.admin.forms import ActiveForm, ConfirmForm, CreateAccountForm, RoleForm
from mmm_dash.web.auth import accounts, throttle
from mmm_dash.web.auth.forms import first_error
from mmm_dash.web.auth.models import User
from mmm_dash.web.auth.roles import ROLES
from mmm_dash.web.extensions import db

NO_SUCH_ACCOUNT = "No such account."


def _page(status: int = 200, **extra):
    """The accounts list with the create form (and, once, a generated password)."""
    page = {
        "users": accounts.list_users(),
        "roles": ROLES,
        "form": extra.pop("form", None) or CreateAccountForm(formdata=None),
        "csrf": generate_csrf(),
        "me": current_user.id,
        "section": "accounts",
        **extra,
    }
    response = render_template("admin_accounts.html", **page)
    return response, status, {"Cache-Control": "no-store"}


def _target(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _done(message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("admin.accounts"))


def _refused(action: str, email: str, exc: accounts.AccountError):
    outcome = audit.DENIED if isinstance(exc, accounts.LastAdmin) else audit.FAILED
    audit.record(action, email, outcome, str(exc))
    return _page(409, error=str(exc))


@bp.get("/accounts", endpoint="accounts")
def accounts_page():
    return _page()


@bp.post("/accounts/new")
def create_account():
    form = CreateAccountForm()
    if not form.validate_on_submit():
        return _page(400, form=form, error=first_error(form))
    typed_password = form.password.data or ""
    password = typed_password or accounts.generate_password()
    generated = not typed_password
    change_required = generated or bool(form.change_required.data)
    try:
        user = accounts.create_user(form.email.data, password, form.role.data, change_required=change_required)
    except accounts.AccountError as exc:
        audit.record(audit.ACCOUNT_CREATE, form.email.data, audit.FAILED, str(exc))
        return _page(400, form=form, error=str(exc))
    how = "one-time password" if generated else "password set by an admin"
    audit.record(audit.ACCOUNT_CREATE, user.email, detail=f"role {user.role}; {how}")
    if generated:
        return _page(201, secret={"email": user.email, "password": password, "why": "created"})
    return _done(f"Created {user.email} ({user.role}).")


@bp.post("/accounts/<int:user_id>/role")
def change_role(user_id: int):
    form, user = RoleForm(), _target(user_id)
    if user is None:
        return _page(404, error=NO_SUCH_ACCOUNT)
    if not form.validate_on_submit():
        return _page(400, error=first_error(form))
    before = user.role
    try:
        accounts.set_role(user.email, form.role.data)
    except accounts.AccountError as exc:
        return _refused(audit.ACCOUNT_ROLE, user.email, exc)
    if before == user.role:
        return _done(f"{user.email} already has the {user.role} role.", "info")
    audit.record(audit.ACCOUNT_ROLE, user.email, detail=f"{before} -> {user.role}")
    return _done(f"{user.email} is now {user.role}; their sessions have ended.")


@bp.post("/accounts/<int:user_id>/active")
def set_active(user_id: int):
    form, user = ActiveForm(), _target(user_id)
    if user is None:
        return _page(404, error=NO_SUCH_ACCOUNT)
    if not form.validate_on_submit():
        return _page(400, error=first_error(form))
    active = form.active.data == "1"
    action = audit.ACCOUNT_REACTIVATE if active else audit.ACCOUNT_DEACTIVATE
    try:
        accounts.set_active(user.email, active)
    except accounts.AccountError as exc:
        return _refused(action, user.email, exc)
    audit.record(action, user.email)
    if active:
        return _done(f"{user.email} can sign in again.")
    return _done(f"{user.email} is deactivated; their sessions have ended.")


@bp.post("/accounts/<int:user_id>/password")
def reset_password(user_id: int):
    form, user = ConfirmForm(), _target(user_id)
    if user is None:
        return _page(404, error=NO_SUCH_ACCOUNT)
    if not form.validate_on_submit():
        return _page(400, error=first_error(form))
    try:
        user, password = accounts.reset_password(user.email)
    except accounts.AccountError as exc:
        return _refused(audit.ACCOUNT_PASSWORD_RESET, user.email, exc)
    audit.record(audit.ACCOUNT_PASSWORD_RESET, user.email, detail="one-time password")
    return _page(secret={"email": user.email, "password": password, "why": "reset"})


@bp.post("/accounts/<int:user_id>/sign-in-counters")
def clear_sign_in_counters(user_id: int):
    """Forget the account's failed sign-ins: its per-address limits and the proof-of-work requirement."""
    form, user = ConfirmForm(), _target(user_id)
    if user is None:
        return _page(404, error=NO_SUCH_ACCOUNT)
    if not form.validate_on_submit():
        return _page(400, error=first_error(form))
    throttle.clear_account(user.email)
    audit.record(audit.ACCOUNT_SIGN_IN_COUNTERS_CLEAR, user.email)
    return _done(f"{user.email}'s failed sign-ins are forgotten; they can sign in without waiting.")
