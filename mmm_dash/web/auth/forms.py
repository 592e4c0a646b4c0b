"""Server-rendered account forms (Flask-WTF validates the CSRF token on each)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from mmm_dash.web.auth.accounts import MAX_EMAIL
from mmm_dash.web.auth.passwords import MAX_PASSWORD, MIN_PASSWORD


def new_password_fields(label: str, confirm_label: str) -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation, under the one password policy (length here, the common-
    password list where the form is handled)."""
    password = PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD, message=f"Passwords need at least {MIN_PASSWORD} characters."),
            Length(max=MAX_PASSWORD, message=f"Passwords are at most {MAX_PASSWORD} characters."),
        ],
        description=f"At least {MIN_PASSWORD} characters, and not one of the commonly used passwords.",
    )
    confirm = PasswordField(
        confirm_label, validators=[DataRequired(), EqualTo("password", message="Passwords do not match.")]
    )
    return password, confirm

class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=MAX_EMAIL, message=f"Emails are at most {MAX_EMAIL} characters.")],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])


class RegisterForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=MAX_EMAIL, message=f"Emails are at most {MAX_EMAIL} characters.")],
    )
    password, confirm = new_password_fields("Password", "Confirm password")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    password, confirm = new_password_fields("New password", "Confirm new password")


def first_error(form: FlaskForm) -> str:
    """One sentence for the user: the CSRF problem first, else the first field error."""
    if "csrf_token" in form.errors:
        return "Your form expired or was not sent from this site; please try again."
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        return f"{label}: {errors[0]}"
    return "Please check the form."
