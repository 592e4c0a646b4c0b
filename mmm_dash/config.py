"""Every setting in one place: environment (and an optional .env), overridden by explicit values."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from dotenv import load_dotenv


def _home() -> Path:
    """Where `.env`, `instance/` and `data/models/` live: the source checkout when running from one,
    else the working directory (an installed package has no checkout)."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


HOME = _home()
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
ENVIRONMENTS = ("development", "production")
# Page parts kept per web process: 7 pages x a few periods x a few models, plus one per response-curve
# channel, with room to spare. An entry averages about 100 kB on the demo model (measured), so a full
# memo holds about 25 MB per worker.
DEFAULT_PAGE_MEMO_SIZE = 256


class ConfigError(RuntimeError):
    """A setting an operator must fix before the app can start."""


@dataclasses.dataclass(frozen=True)
class Settings:
    DATABASE_URL: str
    SECRET_KEY: str
    MODEL_DIR: Path
    CACHE_DIR: Path
    SESSION_MINUTES: int
    ENVIRONMENT: str
    RATELIMIT_STORAGE_URI: str
    BACKGROUND_BUNDLES: bool  # this server runs the builder (one per CACHE_DIR) for bundles pages ask for
    PAGE_MEMO_SIZE: int  # finished page parts kept per web process (LRU; 0 switches the memo off)

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"


def _as_bool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def load_settings(overrides: dict | None = None) -> Settings:
    """Read settings; `overrides` (same key names) win over the environment."""
    load_dotenv(HOME / ".env", override=False)
    raw = {k: os.environ.get(k) for k in Settings.__dataclass_fields__}
    raw.update({k: v for k, v in (overrides or {}).items() if k in Settings.__dataclass_fields__})
    unknown = set(overrides or {}) - set(Settings.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")

    environment = (raw["ENVIRONMENT"] or "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}.")
    secret = raw["SECRET_KEY"] or DEV_SECRET_KEY
    if environment == "production" and (secret == DEV_SECRET_KEY or len(secret) < 16):
        raise ConfigError(
            "Refusing to start in production without a SECRET_KEY of your own "
            "(set SECRET_KEY to a long random string, e.g. `openssl rand -hex 32`)."
        )
    try:
        minutes = int(raw["SESSION_MINUTES"] or 30)
        if minutes <= 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"SESSION_MINUTES must be a positive whole number, not {raw['SESSION_MINUTES']!r}.") from None

    try:
        given = raw["PAGE_MEMO_SIZE"]
        page_memo_size = DEFAULT_PAGE_MEMO_SIZE if given in (None, "") else int(given)
        if page_memo_size < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"PAGE_MEMO_SIZE must be a whole number, 0 or more, not {raw['PAGE_MEMO_SIZE']!r}.") from None

    instance = HOME / "instance"
    database_url = raw["DATABASE_URL"] or f"sqlite:///{instance / 'mmm_dash.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # SQLAlchemy would pick psycopg2; we ship psycopg 3.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return Settings(
        DATABASE_URL=database_url,
        SECRET_KEY=secret,
        MODEL_DIR=Path(raw["MODEL_DIR"] or HOME / "data" / "models").resolve(),
        CACHE_DIR=Path(raw["CACHE_DIR"] or instance / "cache").resolve(),
        SESSION_MINUTES=minutes,
        ENVIRONMENT=environment,
        RATELIMIT_STORAGE_URI=raw["RATELIMIT_STORAGE_URI"] or "memory://",
        BACKGROUND_BUNDLES=_as_bool(raw["BACKGROUND_BUNDLES"] if raw["BACKGROUND_BUNDLES"] is not None else "1"),
        PAGE_MEMO_SIZE=page_memo_size,
    )
