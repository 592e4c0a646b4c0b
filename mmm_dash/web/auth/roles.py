"""The one list of roles (no imports, so the CLI can read it without loading the web stack)."""

import enum


class Role(enum.StrEnum):
    """Who may do what: admins, analysts (plan and save scenarios) and viewers (read only)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


ROLES = tuple(role.value for role in Role)
