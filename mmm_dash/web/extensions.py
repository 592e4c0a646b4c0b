"""Flask extensions, created unbound and attached in the app factory with init_app."""

import flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

# A Redis that stops answering must cost a request about a second, not the operating system's
# connect timeout (minutes): these go to the redis client behind RATELIMIT_STORAGE_URI.
REDIS_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
PLAIN_REDIS_SCHEMES = {"redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix"}


class Base(DeclarativeBase):
    pass


class SharedLimiter(Limiter):
    """Flask-Limiter that survives its storage going away: while Redis is down, limits are counted in
    process memory (per worker, so looser, but still limits) and Redis is retried with back-off;
    an error in the limiter itself is logged, never turned into a 500 for the route it guards."""

    def __init__(self, **kwargs):
        super().__init__(in_memory_fallback_enabled=True, swallow_errors=True, **kwargs)

    def init_app(self, app: flask.Flask) -> None:
        if str(app.config.get("RATELIMIT_STORAGE_URI", "")).split("://")[0] in PLAIN_REDIS_SCHEMES:
            app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(REDIS_STORAGE_OPTIONS))
        super().init_app(app)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
limiter = SharedLimiter(key_func=get_remote_address, default_limits=[])
