"""The admin area's forms (Flask-WTF checks the CSRF token of each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from mmm_dash.web.auth.accounts import MAX_EMAIL
from mmm_dash.web.auth.passwords import MAX_PASSWORD
from mmm_dash.web.auth.roles import ROLES, Role

ROLE_CHOICES = [(role, role) for role in ROLES]


class CreateAccountForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=MAX_EMAIL, message=f"Emails are at most {MAX_EMAIL} characters.")],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.ANALYST.value)
    # Empty: a one-time password is generated and shown once.
    password = PasswordField("Password", validators=[Optional(), Length(max=MAX_PASSWORD)])
    change_required = BooleanField("Must choose a new password at first sign-in", default=True)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ActiveForm(FlaskForm):
    active = SelectField("Active", choices=[("1", "active"), ("0", "deactivated")], validators=[AnyOf(["0", "1"])])


class ConfirmForm(FlaskForm):
    """A button and its CSRF token (reset password)."""
