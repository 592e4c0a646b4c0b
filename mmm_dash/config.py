"""Every setting in one place: environment (and an optional .env), overridden by explicit values."""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
from collections import Counter
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
BUNDLE_STORES = ("diskcache", "postgres")
FORMER_NAMES = {"PROXY_HOPS": "TRUSTED_PROXY_COUNT"}  # still read, so existing .env files keep working
SECRET_KEY_FILE = "secret_key"
# Page parts kept per web process: 7 pages x a few periods x a few models, plus one per response-curve
# channel, with room to spare. An entry averages about 100 kB on the demo model (measured), so a full
# memo holds about 25 MB per worker.
DEFAULT_PAGE_MEMO_SIZE = 256


MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 90


def weak_secret(secret: str) -> bool:
    """True for a key an attacker could guess: shorter than MIN_SECRET_LENGTH, fewer than 10 different
    characters, under MIN_SECRET_BITS by its characters' frequencies (length x Shannon entropy per
    character), or one word repeated (`changeme-changeme`). `openssl rand -hex 32` gives ~240 bits."""
    if len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 10:
        return True
    counts = Counter(secret)
    bits_per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    repeated = secret in (secret + secret)[1:-1]
    return repeated or bits_per_char * len(secret) < MIN_SECRET_BITS


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
    TRUSTED_PROXY_COUNT: int  # reverse proxies in front that set X-Forwarded-For/-Proto/-Host (0: trust no header)
    BACKGROUND_BUNDLES: bool  # this server runs the builder (one per CACHE_DIR) for bundles pages ask for
    PAGE_MEMO_SIZE: int  # finished page parts kept per web process (LRU; 0 switches the memo off)
    SCENARIO_QUOTA: int  # saved scenarios per user, all models together
    CURRENCY: str  # money's unit in every card, axis, table, input and export: USD, EUR, ... or CODE:SYMBOL
    # -- team deployment: each switches on only when set ------------------------------------------
    CELERY_BROKER_URL: str  # set: builds are Celery tasks, build state and the model manifest live in the database
    BUNDLE_STORE: str  # diskcache (this machine's CACHE_DIR) or postgres (rows in DATABASE_URL, signed)
    BUILD_LEASE_SECONDS: int  # a build whose heartbeat is older than this has stopped and is taken over
    BUILD_MAX_ATTEMPTS: int  # attempts that crashed or were killed before a build is failed for good
    BUILD_TIME_LIMIT: int  # seconds one build may take (Celery soft limit; the hard limit is a minute later)
    BUILD_STEP: str  # module:function that builds a bundle; empty means Meridian (tests use fast fakes)

    @property
    def distributed(self) -> bool:
        """Web replicas and workers share build state through the database and Celery."""
        return bool(self.CELERY_BROKER_URL)

    @property
    def PROXY_HOPS(self) -> int:  # noqa: N802  (the setting's earlier name)
        return self.TRUSTED_PROXY_COUNT

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"

    @property
    def currency(self):
        from mmm_dash.core.formatting import parse_currency

        return parse_currency(self.CURRENCY)


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
    names = set(Settings.__dataclass_fields__) | set(FORMER_NAMES)
    raw = {k: os.environ.get(k) for k in names}
    raw.update({k: v for k, v in (overrides or {}).items() if k in names})
    unknown = set(overrides or {}) - names
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
    if environment == "production" and weak_secret(secret):
        raise ConfigError(
            "Refusing to start in production: SECRET_KEY looks guessable (too short, too few different "
            "characters or a repeated word); set it to a long random string, e.g. `openssl rand -hex 32`."
        )
    if not secret and (raw["CELERY_BROKER_URL"] or "").strip():
        raise ConfigError(
            "CELERY_BROKER_URL is set, so web replicas and workers must share one SECRET_KEY (it signs cookies "
            "and stored bundles): set SECRET_KEY to the same long random string everywhere."
        )
    if not secret:
        secret = instance_secret_key(instance)
    minutes = _positive_int(raw, "SESSION_MINUTES", 30)
    max_hours = _positive_int(raw, "SESSION_MAX_HOURS", 12)
    proxy_name = "TRUSTED_PROXY_COUNT" if raw["TRUSTED_PROXY_COUNT"] not in (None, "") else "PROXY_HOPS"
    try:
        proxy_hops = int(raw[proxy_name] or 0)
        if proxy_hops < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{proxy_name} must be 0 or a positive whole number, not {raw[proxy_name]!r}.") from None
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

    from mmm_dash.core.formatting import parse_currency

    try:
        currency = parse_currency(raw["CURRENCY"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    database_url = raw["DATABASE_URL"] or f"sqlite:///{instance / 'mmm_dash.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # SQLAlchemy would pick psycopg2; we ship psycopg 3.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    bundle_store = (raw["BUNDLE_STORE"] or "diskcache").strip().lower()
    if bundle_store not in BUNDLE_STORES:
        raise ConfigError(f"BUNDLE_STORE must be one of {', '.join(BUNDLE_STORES)}, not {bundle_store!r}.")
    if bundle_store == "postgres" and not database_url.startswith("postgresql"):
        raise ConfigError("BUNDLE_STORE=postgres keeps bundles in the database: set DATABASE_URL to PostgreSQL.")
    broker = (raw["CELERY_BROKER_URL"] or "").strip()
    if bundle_store == "postgres" and not broker:
        raise ConfigError(
            "BUNDLE_STORE=postgres is for team deployments, whose builds run on Celery workers: "
            "set CELERY_BROKER_URL too (one machine keeps bundles in CACHE_DIR)."
        )
    if broker and bundle_store == "diskcache" and environment == "production":
        raise ConfigError(
            "With CELERY_BROKER_URL set, workers and web replicas must share bundles: set BUNDLE_STORE=postgres "
            "(a diskcache directory must never be shared between machines)."
        )
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
        TRUSTED_PROXY_COUNT=proxy_hops,
        BACKGROUND_BUNDLES=_as_bool(raw["BACKGROUND_BUNDLES"] if raw["BACKGROUND_BUNDLES"] is not None else "1"),
        PAGE_MEMO_SIZE=page_memo_size,
        SCENARIO_QUOTA=_positive_int(raw, "SCENARIO_QUOTA", 200),
        CURRENCY=f"{currency.code}:{currency.symbol}",
        CELERY_BROKER_URL=broker,
        BUNDLE_STORE=bundle_store,
        BUILD_LEASE_SECONDS=_positive_int(raw, "BUILD_LEASE_SECONDS", 60),
        BUILD_MAX_ATTEMPTS=_positive_int(raw, "BUILD_MAX_ATTEMPTS", 3),
        BUILD_TIME_LIMIT=_positive_int(raw, "BUILD_TIME_LIMIT", 3600),
        BUILD_STEP=(raw["BUILD_STEP"] or "").strip(),
    )
