"""Every setting in one place: environment (and an optional .env), overridden by explicit values."""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from dotenv import load_dotenv


def _home() -> Path:
    """Where `.env`, `instance/` and `data/models/` live: the source checkout when running from one,
    else the working directory (an installed package has no checkout)."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


HOME = _home()
ENVIRONMENTS = ("development", "production")
REGISTRATION_MODES = ("open", "invite", "closed")
SECRET_KEY_FILE = "secret_key"
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
    INSTANCE_DIR: Path  # local state: the SQLite file and the generated development SECRET_KEY
    SESSION_MINUTES: int  # idle timeout
    SESSION_MAX_HOURS: int  # absolute lifetime of a sign-in, however active
    ENVIRONMENT: str
    RATELIMIT_STORAGE_URI: str  # memory:// is per process; use redis://… with several workers
    REGISTRATION: str  # open (self-service), invite (accounts made by an administrator), closed
    PROXY_HOPS: int  # reverse proxies in front that set X-Forwarded-For/-Proto/-Host (0: none, trust no header)
    BACKGROUND_BUNDLES: bool  # this server runs the builder (one per CACHE_DIR) for bundles pages ask for
    PAGE_MEMO_SIZE: int  # finished page parts kept per web process (LRU; 0 switches the memo off)
    SCENARIO_QUOTA: int  # saved scenarios per user, all models together

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"


def _as_bool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _positive_int(raw: dict, name: str, default: int) -> int:
    try:
        value = int(raw[name] or default)
        if value <= 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{name} must be a positive whole number, not {raw[name]!r}.") from None
    return value


def instance_secret_key(instance: Path) -> str:
    """The development signing key: random, made once and kept in `instance/secret_key` (mode 0600),
    so cookies survive restarts and are shared by the workers of one machine, but no two
    installations share a key and none is written in the source."""
    path = instance / SECRET_KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    instance.mkdir(parents=True, exist_ok=True)
    draft = instance / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)  # atomic: of workers starting together, exactly one key wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


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
    instance = Path(raw["INSTANCE_DIR"] or HOME / "instance").resolve()
    secret = raw["SECRET_KEY"] or ""
    if environment == "production" and len(secret) < 16:
        raise ConfigError(
            "Refusing to start in production without a SECRET_KEY of your own "
            "(set SECRET_KEY to a long random string, e.g. `openssl rand -hex 32`)."
        )
    if not secret:
        secret = instance_secret_key(instance)
    minutes = _positive_int(raw, "SESSION_MINUTES", 30)
    max_hours = _positive_int(raw, "SESSION_MAX_HOURS", 12)
    try:
        proxy_hops = int(raw["PROXY_HOPS"] or 0)
        if proxy_hops < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"PROXY_HOPS must be 0 or a positive whole number, not {raw['PROXY_HOPS']!r}.") from None
    registration = (raw["REGISTRATION"] or "open").strip().lower()
    if registration not in REGISTRATION_MODES:
        raise ConfigError(f"REGISTRATION must be one of {', '.join(REGISTRATION_MODES)}, not {registration!r}.")

    try:
        given = raw["PAGE_MEMO_SIZE"]
        page_memo_size = DEFAULT_PAGE_MEMO_SIZE if given in (None, "") else int(given)
        if page_memo_size < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"PAGE_MEMO_SIZE must be a whole number, 0 or more, not {raw['PAGE_MEMO_SIZE']!r}.") from None

    database_url = raw["DATABASE_URL"] or f"sqlite:///{instance / 'mmm_dash.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # SQLAlchemy would pick psycopg2; we ship psycopg 3.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return Settings(
        DATABASE_URL=database_url,
        SECRET_KEY=secret,
        MODEL_DIR=Path(raw["MODEL_DIR"] or HOME / "data" / "models").resolve(),
        CACHE_DIR=Path(raw["CACHE_DIR"] or instance / "cache").resolve(),
        INSTANCE_DIR=instance,
        SESSION_MINUTES=minutes,
        SESSION_MAX_HOURS=max_hours,
        ENVIRONMENT=environment,
        RATELIMIT_STORAGE_URI=raw["RATELIMIT_STORAGE_URI"] or "memory://",
        REGISTRATION=registration,
        PROXY_HOPS=proxy_hops,
        BACKGROUND_BUNDLES=_as_bool(raw["BACKGROUND_BUNDLES"] if raw["BACKGROUND_BUNDLES"] is not None else "1"),
        PAGE_MEMO_SIZE=page_memo_size,
        SCENARIO_QUOTA=_positive_int(raw, "SCENARIO_QUOTA", 200),
    )
