"""Who may do what: the one table of actions and the least role each needs, and the one table that
names the action behind every Flask endpoint and every Dash callback.

Viewers read every page, use the planner and the optimizer, and download. Analysts also save, share
and delete their own scenarios. Admins also manage accounts and models and read the audit trail.
The guard (`guard.py`) looks every request up here and refuses what is not listed (fail closed);
routes and callbacks that change something also call `require(action)` themselves (hiding a button
is not a check). `tests/integration/test_guard.py` walks the URL map and the callback map and fails
when an endpoint or a callback has no entry.
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

# Flask endpoint -> action, for every endpoint a signed-in user may reach (anonymous ones are
# guard.PUBLIC_ENDPOINTS). Dash's own routes are named by their rule.
ENDPOINTS: dict[str, Action] = {
    # Dash: the pages, their layout and scripts; each callback is checked again in CALLBACKS
    "/": Action.READ,
    "/<path:path>": Action.READ,
    "/_dash-layout": Action.READ,
    "/_dash-dependencies": Action.READ,
    "/_dash-update-component": Action.READ,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": Action.READ,
    "/_reload-hash": Action.READ,
    "/_favicon.ico": Action.READ,
    # accounts
    "auth.logout": Action.READ,
    "auth.change_password": Action.READ,
    # downloads
    "exports.download": Action.READ,
    "compare_views.download": Action.READ,
    "scenarios.compare_download": Action.READ,
    "scenarios.download": Action.READ,  # the owner's own scenario; the route checks ownership
    # admin area
    "admin.index": Action.MANAGE_ACCOUNTS,
    "admin.accounts": Action.MANAGE_ACCOUNTS,
    "admin.create_account": Action.MANAGE_ACCOUNTS,
    "admin.change_role": Action.MANAGE_ACCOUNTS,
    "admin.set_active": Action.MANAGE_ACCOUNTS,
    "admin.reset_password": Action.MANAGE_ACCOUNTS,
    "admin.clear_sign_in_counters": Action.MANAGE_ACCOUNTS,
    "model_admin.index": Action.MANAGE_MODELS,
    "model_admin.rebuild": Action.MANAGE_MODELS,
    "model_admin.archive": Action.MANAGE_MODELS,
    "model_admin.make_default": Action.MANAGE_MODELS,
    "model_admin.upload": Action.MANAGE_MODELS,
    "admin.audit": Action.READ_AUDIT,
    "admin.audit_csv": Action.READ_AUDIT,
}

# Dash callback -> action, keyed by the callback function's "module.qualname" (see `callback_name`).
# Output keys are not used as keys: they change whenever a page is added to the navbar or a
# duplicate output's inputs change (Dash appends a hash), while the function stays the same.
CALLBACKS: dict[str, Action] = {
    # Dash pages' router: renders the page for the URL
    "dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update": Action.READ,
    # the frame around every page
    "mmm_dash.web.dashboard.shell.register_shell.<locals>._carry_view_in_links": Action.READ,
    "mmm_dash.web.dashboard.shell.register_shell.<locals>._controls_to_url": Action.READ,
    "mmm_dash.web.dashboard.shell.register_shell.<locals>._toggle_nav": Action.READ,
    "mmm_dash.web.dashboard.shell.register_shell.<locals>._poll_build": Action.READ,
    # pages
    "mmm_dash.web.pages.contribution.switch_chart": Action.READ,
    "mmm_dash.web.pages.contribution.switch_note": Action.READ,
    "mmm_dash.web.pages.contribution.show_over_time": Action.READ,
    "mmm_dash.web.pages.roi.show_over_time": Action.READ,
    "mmm_dash.web.pages.response_curves.pick_channel": Action.READ,
    "mmm_dash.web.pages.scenarios.update_spend": Action.READ,  # the planner and the optimizer
    "mmm_dash.web.pages.scenarios.show_results": Action.READ,
    "mmm_dash.web.pages.scenarios.open_saved": Action.READ,  # opens the user's own or a shared scenario
    "mmm_dash.web.pages.scenarios.describe_saved": Action.READ,
    "mmm_dash.web.pages.scenarios.run_ladder": Action.READ,
    "mmm_dash.web.pages.scenarios.run_goal_seek": Action.READ,
    "mmm_dash.web.pages.scenarios.apply_result": Action.READ,  # puts a ladder or goal-seek result in the planner
    "mmm_dash.web.pages.scenarios.show_mode_fields": Action.READ,  # the budget or the target box, by mode
    "mmm_dash.web.pages.compare.pick": Action.READ,
    "mmm_dash.web.pages.compare_views.baseline_to_url": Action.READ,
    # shares, unshares or copies; the callback checks which one with `require`
    "mmm_dash.web.pages.scenarios.share_or_copy": Action.SHARE_SCENARIO,
    # saves or deletes; the callback checks which one it was asked to do with `require`
    "mmm_dash.web.pages.scenarios.save_or_delete": Action.SAVE_SCENARIO,
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


def denial(action: Action) -> str:
    """The one sentence a refused user reads."""
    return f"Your role does not allow this: it needs the {LEAST_ROLE[action].value} role or higher."


def require(action: Action) -> None:
    """Raise PermissionDenied unless the current user may do `action`."""
    if not may(action):
        raise PermissionDenied(denial(action))


def callback_name(spec: dict) -> str | None:
    """The "module.qualname" of the function behind a `callback_map` entry; None for a clientside
    callback (it runs in the browser, so the server never answers it)."""
    function = spec.get("callback")
    if function is None:
        return None
    function = getattr(function, "__wrapped__", function)  # Dash wraps it with functools.wraps
    return f"{function.__module__}.{function.__qualname__}"


def endpoint_action(endpoint: str | None) -> Action | None:
    return ENDPOINTS.get(endpoint or "")


def callback_action(spec: dict) -> Action | None:
    name = callback_name(spec)
    return CALLBACKS.get(name) if name else None
