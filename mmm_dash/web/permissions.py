"""Who may do what: the one table of actions and the least role each needs.

Viewers read every page, use the planner and the optimizer, and download. Analysts also save, share
and delete their own scenarios. Admins also manage accounts and models and read the audit trail.
Routes and callbacks that change something call `require(action)` on the server (hiding a button
is not a check); the guard applies the same table to Flask endpoints.
"""

from __future__ import annotations

import enum

from flask_login import current_user

from mmm_dash.web.auth.roles import Role

RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2}


class Action(enum.StrEnum):
    READ = "read"  # pages, planner, optimizer, downloads
    SAVE_SCENARIO = "save-scenario"
    SHARE_SCENARIO = "share-scenario"
    DELETE_SCENARIO = "delete-scenario"
    MANAGE_ACCOUNTS = "manage-accounts"
    MANAGE_MODELS = "manage-models"
    READ_AUDIT = "read-audit"


LEAST_ROLE: dict[Action, Role] = {
    Action.READ: Role.VIEWER,
    Action.SAVE_SCENARIO: Role.ANALYST,
    Action.SHARE_SCENARIO: Role.ANALYST,
    Action.DELETE_SCENARIO: Role.ANALYST,
    Action.MANAGE_ACCOUNTS: Role.ADMIN,
    Action.MANAGE_MODELS: Role.ADMIN,
    Action.READ_AUDIT: Role.ADMIN,
}


class PermissionDenied(Exception):
    """The signed-in user's role does not allow the action; the message says which role would."""


def allows(role: str | None, action: Action) -> bool:
    try:
        return RANK[Role(role)] >= RANK[LEAST_ROLE[action]]
    except ValueError:  # an unknown role stored by hand allows nothing
        return False


def may(action: Action) -> bool:
    """True when the current user may do `action` (for showing or hiding controls)."""
    return bool(current_user.is_authenticated) and allows(current_user.role, action)


def require(action: Action) -> None:
    """Raise PermissionDenied unless the current user may do `action`."""
    if not may(action):
        needed = LEAST_ROLE[action]
        raise PermissionDenied(f"Your role does not allow this: it needs the {needed.value} role or higher.")
