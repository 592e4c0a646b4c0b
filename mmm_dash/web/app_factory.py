"""The app factory: one Dash app on its own Flask server, with accounts, guard and exports."""

from __future__ import annotations

import datetime as dt
import logging

import dash
import flask

from mmm_dash.builder.tables import engine_options
from mmm_dash.config import Settings, load_settings
from mmm_dash.web.extensions import db, limiter, login_manager, migrate
from mmm_dash.web.resources import ASSETS, MIGRATIONS, PAGES, TEMPLATES, package_dir

log = logging.getLogger(__name__)


class AppState:
    """What pages and routes need from the app, reachable as current_app.extensions['mmm_dash']."""

    def __init__(self, settings: Settings, models):
        self.settings = settings
        self.models = models
        self.builder = None  # the BackgroundBuilder of this process, when BACKGROUND_BUNDLES is on


def _configure_server(server: flask.Flask, settings: Settings) -> None:
    if settings.DATABASE_URL.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.DATABASE_URL.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    server.config.update(
        SECRET_KEY=settings.SECRET_KEY,
        SQLALCHEMY_DATABASE_URI=settings.DATABASE_URL,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.DATABASE_URL),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.SESSION_MINUTES),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="mmm_session",
        # No "remember me" is offered; should a remember cookie ever be issued, it carries the same
        # session generation, flags and (short) lifetime as the session cookie.
        REMEMBER_COOKIE_DURATION=dt.timedelta(minutes=settings.SESSION_MINUTES),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        RATELIMIT_STORAGE_URI=settings.RATELIMIT_STORAGE_URI,
        RATELIMIT_HEADERS_ENABLED=True,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )


def _init_extensions(server: flask.Flask) -> None:
    from mmm_dash.web.auth.models import User, parse_session_id
    from mmm_dash.web.scenarios import models as _scenario_tables  # noqa: F401  (registers the table)

    db.init_app(server)
    migrate.init_app(server, db, directory=str(package_dir(MIGRATIONS)))
    login_manager.init_app(server)
    limiter.init_app(server)

    @login_manager.user_loader
    def _load_user(session_id: str):
        """The user named by a cookie, only while the cookie's session generation is current."""
        parsed = parse_session_id(session_id)
        if parsed is None:
            return None
        user = db.session.get(User, parsed[0])
        if user is None or not user.active or user.session_generation != parsed[1]:
            return None
        return user


def create_server(overrides: dict | None = None) -> flask.Flask:
    """The Flask server with settings, database and model catalog (what the CLI needs)."""
    from mmm_dash.builder.wiring import catalog_for

    settings = load_settings(overrides)
    server = flask.Flask("mmm_dash", template_folder=str(package_dir(TEMPLATES)))
    _configure_server(server, settings)
    if settings.TRUSTED_PROXY_COUNT:
        # The client's address (sign-in limits) and the public host (Origin checks) as the proxy saw them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.TRUSTED_PROXY_COUNT
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_extensions(server)
    if settings.is_production and settings.RATELIMIT_STORAGE_URI.startswith("memory://"):
        log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts sign-in attempts on its own; "
            "with several workers or replicas set it to a shared Redis (redis://host:6379/0)."
        )
    server.extensions["mmm_dash"] = AppState(settings, catalog_for(settings))
    _one_model_listing_per_request(server)
    return server


def _one_model_listing_per_request(server: flask.Flask) -> None:
    """A page asks for the model list a dozen times; each request lists MODEL_DIR once."""
    from mmm_dash.builder.discovery import hold_listing, release_listing

    server.before_request(hold_listing)
    server.teardown_request(lambda _exc: release_listing())


def create_app(overrides: dict | None = None) -> dash.Dash:
    """Build the whole app; `overrides` (setting names as keys) win over the environment."""
    from mmm_dash.core.formatting import use_currency
    from mmm_dash.web import errors, guard, hardening, health, request_log
    from mmm_dash.web.admin import bp as admin_bp
    from mmm_dash.web.auth.routes import bp as auth_bp
    from mmm_dash.web.dashboard.shell import register_shell
    from mmm_dash.web.exports import bp as export_bp
    from mmm_dash.web.model_admin import bp as model_admin_bp
    from mmm_dash.web.scenarios.routes import bp as scenario_bp
    from mmm_dash.web.view_compare import bp as view_compare_bp

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = create_server(overrides)
    settings = server.extensions["mmm_dash"].settings
    use_currency(settings.currency)
    request_log.init_app(server)
    errors.init_app(server)
    server.register_blueprint(auth_bp)
    server.register_blueprint(health.bp)
    server.register_blueprint(export_bp)
    server.register_blueprint(scenario_bp)
    server.register_blueprint(admin_bp)
    server.register_blueprint(model_admin_bp)
    server.register_blueprint(view_compare_bp)

    app = dash.Dash(
        "mmm_dash",
        server=server,
        use_pages=True,
        pages_folder=str(package_dir(PAGES)),
        assets_folder=str(package_dir(ASSETS)),
        assets_ignore=r"signin\.js$",  # the login page's own script (served, not put on Dash's pages)
        title="mmm-dash",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    register_shell(app)
    prefix = app.config.routes_pathname_prefix
    guard.init_app(server, page_endpoints=frozenset({prefix, prefix + "<path:path>"}), callbacks=app.callback_map)
    hardening.init_app(app)
    if settings.BACKGROUND_BUNDLES and not settings.distributed:  # a team deployment builds on Celery workers
        from mmm_dash.builder.service import BackgroundBuilder

        # Owned by the server, not by a request: at most one builds per CACHE_DIR (a lock file).
        server.extensions["mmm_dash"].builder = BackgroundBuilder(server.extensions["mmm_dash"].models).start()
    return app
