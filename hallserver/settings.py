"""Server settings, from the environment (HALLSERVER_*) with typed defaults; one place.

`hallserver serve` writes its options into the same environment variables before it reads
them (an option overrides the variable), so its uvicorn workers, which read the environment
(hallserver/asgi.py), run with the settings the parent checked."""

from __future__ import annotations

import ipaddress
import os
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hallserver.db import DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_SIZE
from hallserver.sms_policy import SmsPolicy

if TYPE_CHECKING:
    from hallserver.smpp import SmppConfig

# prometheus_client's multiprocess mode (hallserver/metrics.py), for several workers.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENV_PREFIX = "HALLSERVER_"


def _whole(unit: timedelta, name: str) -> BeforeValidator:
    """A duration given as a whole number of `unit`s (the environment's form); a timedelta
    (code, tests) as it is."""
    def parse(value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value).strip()
            if not text.isdigit():
                raise ValueError(f"must be a whole number of {name} (0 or more)")
            return unit * int(text)
        return value
    return BeforeValidator(parse)


Seconds = Annotated[timedelta, _whole(timedelta(seconds=1), "seconds")]
Minutes = Annotated[timedelta, _whole(timedelta(minutes=1), "minutes")]
Hours = Annotated[timedelta, _whole(timedelta(hours=1), "hours")]
Days = Annotated[timedelta, _whole(timedelta(days=1), "days")]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The loopback and the private networks: where a Prometheus server scrapes from.
PRIVATE_NETWORKS = "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


def networks(text: str) -> tuple[Network, ...] | None:
    """The addresses and networks of a comma-separated list; None for `*`, every address.
    ValueError names the first entry that is neither."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if entries == ["*"]:
        return None
    found = []
    for entry in entries:
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8); "
                             "list them separated by commas, or * for any") from None
    return tuple(found)


def address_in(host: str | None, allowed: tuple[Network, ...] | None) -> bool:
    """Whether `host` (a peer's address as the ASGI server gives it) is in `allowed`."""
    if allowed is None:
        return True
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False  # not an IP address: a Unix socket's peer, a test client
    return any(address in network for network in allowed)


class SettingsError(ValueError):
    """A setting with a value the server cannot run with; the message says which, in a line."""

    def __init__(self, field: str, env: str, value: object, problem: str) -> None:
        super().__init__(f"{env}={value!r}: {problem}")
        self.field, self.env, self.value, self.problem = field, env, value, problem


class ServerSettings(BaseSettings):
    # By field name too (validate_by_name), as code and tests give them.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid",
                                      validate_by_name=True)

    access_token_ttl: Minutes = Field(timedelta(minutes=30),
                                      validation_alias="HALLSERVER_ACCESS_MINUTES")
    refresh_token_ttl: Hours = Field(timedelta(hours=12),
                                     validation_alias="HALLSERVER_REFRESH_HOURS")
    # Requests larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1)
    # Login throttle: this many failed logins within the window, for one clerk id or from one
    # client address, and further logins are refused (429) until the window has passed. All
    # terminals of a hall behind one NAT share an address: keep the address limit well above
    # what a hall's clerks mistype in a window. Behind a reverse proxy the address is the one
    # it forwards, when the proxy is in `forwarded_allow_ips`.
    login_failures_per_clerk: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_failure_window: Minutes = Field(
        timedelta(minutes=15), validation_alias="HALLSERVER_LOGIN_WINDOW_MINUTES")
    # The server's clock decides (hallserver/push.py): an operation made later than the
    # server's receipt time plus this skew is refused, and a login whose terminal clock is
    # further off than `login_clock_tolerance` is refused with the offset.
    clock_skew: Minutes = Field(timedelta(minutes=5),
                                validation_alias="HALLSERVER_CLOCK_SKEW_MINUTES")
    login_clock_tolerance: Minutes = Field(
        timedelta(minutes=10), validation_alias="HALLSERVER_LOGIN_CLOCK_MINUTES")
    # An online supervisor's approval must be used for an operation made within this time.
    approval_ttl: Minutes = Field(timedelta(minutes=10),
                                  validation_alias="HALLSERVER_APPROVAL_MINUTES")
    # A clerk may be named by a terminal's operations for this long after their last online
    # login there (the terminal's offline logins need one within as many days).
    clerk_at_terminal: Days = Field(timedelta(days=7),
                                    validation_alias="HALLSERVER_OFFLINE_LOGIN_DAYS")
    # A bad rating (不满意 / 非常不满意) opens a call-back to the customer at the hall that
    # served them, due this many working days after the rating (hallserver/callbacks.py).
    callback_working_days: int = Field(5, ge=1, le=60)
    # Document scans (the customer's ID, ownership documents) are kept this long after their
    # operation reached the server; `hallserver scans purge` then drops their content.
    scan_retention: Days = Field(timedelta(days=1095), ge=timedelta(days=1),
                                 validation_alias="HALLSERVER_SCAN_RETENTION_DAYS")

    # The database connections of each process (each uvicorn worker): `pool_size` kept open,
    # up to `max_overflow` more under load. `serve` checks workers × both against the
    # database's max_connections; the defaults let 6 workers fit PostgreSQL's default 100.
    pool_size: int = Field(DEFAULT_POOL_SIZE, ge=1)
    max_overflow: int = Field(DEFAULT_MAX_OVERFLOW, ge=0)
    # Off behind PgBouncer in transaction pooling (before 1.21 it cannot keep a prepared
    # statement: the next transaction may run on another server connection). Every command's
    # engine reads it too (hallserver/db.py, PREPARED_STATEMENTS_ENV).
    prepared_statements: bool = True
    # A PostgreSQL streaming replica of the database (docs/DEPLOY.md, "A read replica and a
    # second server"): the pulls and the bootstrap pages are read there while it is no more
    # than `replica_max_lag` behind (hallserver/replica.py), everything else on the database
    # itself. Like HALLSERVER_DB, a URL without the password, which libpq reads from the
    # pgpass file (PGPASSFILE): /etc/hallserver/hallserver.env holds no secret. Secret all
    # the same: a URL given with a password is never shown.
    replica_db: SecretStr | None = None
    replica_max_lag: Seconds = Field(timedelta(seconds=5), ge=timedelta(seconds=2),
                                     validation_alias="HALLSERVER_REPLICA_MAX_LAG_SECONDS")
    # The reverse proxies whose X-Forwarded-For (the client's address: the login throttle's)
    # and X-Request-ID are believed: addresses or networks, or * for any. uvicorn's own
    # FORWARDED_ALLOW_IPS is read too, so a deployment that set it keeps working.
    forwarded_allow_ips: str = Field(
        "127.0.0.1,::1", validation_alias=AliasChoices("HALLSERVER_FORWARDED_ALLOW_IPS",
                                                       "FORWARDED_ALLOW_IPS"))
    # Who may read /metrics (the peer's address, as forwarded by a trusted proxy); empty:
    # nobody. The public proxy does not forward /metrics at all (README.md).
    metrics_allow: str = PRIVATE_NETWORKS
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # Customer SMS (docs/DEPLOY.md, "SMS gateway"): `log` writes them to the --sms-log file;
    # `smpp` hands them to an SMPP 3.4 gateway (hallserver/smpp.py) from `hallserver notify`.
    sms_gateway: Literal["log", "smpp"] = "log"
    smpp_host: str = ""
    smpp_port: int = Field(2775, ge=1, le=65535)
    smpp_system_id: str = Field("", max_length=15)
    # The bind password: a file holding it (a systemd credential, like the database's
    # pgpass), or the variable itself where the environment is private; never in
    # hallserver.env.
    smpp_password_file: Path | None = None
    smpp_password: SecretStr | None = None
    smpp_system_type: str = Field("", max_length=12)
    smpp_source_addr: str = Field("", max_length=20)
    smpp_enquire_link_seconds: int = Field(30, ge=5)
    smpp_response_seconds: int = Field(10, ge=1)
    # Per phone: at most so many a minute and a day; more wait. Notices that can wait
    # (hallserver/sms_policy.py) are not sent in the quiet hours, China time ("" for none).
    sms_per_minute: int = Field(10, ge=1)
    sms_per_day: int = Field(50, ge=1)
    sms_quiet_hours: str = "21:00-08:00"
    # How long a message handed over without an answer waits for a sign of it before it is
    # left to the operator (`hallserver sms unconfirmed`).
    sms_confirm_window: Minutes = Field(timedelta(minutes=60),
                                        validation_alias="HALLSERVER_SMS_CONFIRM_MINUTES")

    @field_validator("forwarded_allow_ips", "metrics_allow")
    @classmethod
    def _addresses(cls, value: str) -> str:
        networks(value)
        return value

    @field_validator("replica_db")
    @classmethod
    def _replica_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            backend = make_url(value.get_secret_value()).get_backend_name()
        except ArgumentError:
            backend = None
        if backend != "postgresql":
            raise ValueError("must be the URL of a PostgreSQL streaming replica (e.g. "
                             "postgresql+psycopg://hallserver@10.0.0.13:5432/hall), or empty")
        return value

    @field_validator("log_format", "log_level", "sms_gateway", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("sms_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        quiet_hours(value)
        return value

    def sms_policy(self) -> SmsPolicy:
        quiet = quiet_hours(self.sms_quiet_hours)
        start, end = quiet if quiet else (time(0), time(0))
        return SmsPolicy(per_minute=self.sms_per_minute, per_day=self.sms_per_day,
                         quiet_start=start, quiet_end=end,
                         confirm_window=self.sms_confirm_window)

    def smpp_config(self) -> SmppConfig:
        """The SMPP gateway's settings, its password read; SettingsError for the first one
        missing or unusable."""
        from hallserver.smpp import SmppConfig

        for name in ("smpp_host", "smpp_system_id"):
            if not getattr(self, name):
                raise SettingsError(name, env_name(name), "", "must be set for the SMPP "
                                    "gateway (HALLSERVER_SMS_GATEWAY=smpp)")
        password = self._smpp_password()
        if len(password) > SMPP_PASSWORD_LENGTH:
            given = "smpp_password" if self.smpp_password is not None else "smpp_password_file"
            raise SettingsError("smpp_password", env_name(given), "…",
                                f"an SMPP 3.4 password has at most {SMPP_PASSWORD_LENGTH} "
                                "characters")
        return SmppConfig(host=self.smpp_host, port=self.smpp_port,
                          system_id=self.smpp_system_id, password=password,
                          system_type=self.smpp_system_type, source_addr=self.smpp_source_addr,
                          enquire_link_seconds=self.smpp_enquire_link_seconds,
                          response_seconds=self.smpp_response_seconds)

    def _smpp_password(self) -> str:
        if self.smpp_password_file is not None and self.smpp_password is not None:
            raise SettingsError("smpp_password", env_name("smpp_password"), "…",
                                "give the SMPP password once: in the file "
                                f"({env_name('smpp_password_file')}) or the variable")
        if self.smpp_password is not None:
            return self.smpp_password.get_secret_value()
        if self.smpp_password_file is None:
            raise SettingsError("smpp_password_file", env_name("smpp_password_file"), "",
                                "the SMPP password's file must be given (a systemd "
                                "credential: LoadCredential=, then %d/<name>), or the "
                                f"password in {env_name('smpp_password')}")
        try:
            return self.smpp_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeError) as exc:
            raise SettingsError("smpp_password_file", env_name("smpp_password_file"),
                                str(self.smpp_password_file),
                                f"cannot be read ({type(exc).__name__})") from None


# SMPP 3.4 5.2.4: the bind's password is at most 9 octets with its terminating NUL.
SMPP_PASSWORD_LENGTH = 8


def quiet_hours(text: str) -> tuple[time, time] | None:
    """`HH:MM-HH:MM` as (start, end); None for "" (no quiet hours). ValueError says the form."""
    if not text.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError("quiet hours are HH:MM-HH:MM, China time (e.g. 21:00-08:00), or "
                         "empty for none") from None
    return start, end


def env_names(field: str) -> list[str]:
    """The environment variables of a setting, the one that wins first."""
    alias = ServerSettings.model_fields[field].validation_alias
    if alias is None:
        return [f"{ENV_PREFIX}{field.upper()}"]
    return [str(name) for name in (alias.choices if isinstance(alias, AliasChoices)
                                   else [alias])]


def env_name(field: str) -> str:
    """The environment variable a setting was read from (the first of its names if none)."""
    names = env_names(field)
    return next((name for name in names if name in os.environ), names[0])


def load_settings(**overrides: Any) -> ServerSettings:
    """The settings from the environment (and `overrides`, by field name); SettingsError for
    the first bad value, in one line rather than pydantic's report."""
    try:
        return ServerSettings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = str(error["loc"][0]) if error["loc"] else ""
        field = next((name for name in ServerSettings.model_fields
                      if name == where or where in env_names(name)), where)
        message = error["msg"].removeprefix("Value error, ")
        env = env_name(field) if field in ServerSettings.model_fields else where
        # A secret's value (a URL may hold a password) is never repeated.
        value = "…" if field in _SECRETS else error.get("input")
        raise SettingsError(field, env, value, message) from None


_SECRETS = frozenset(name for name, field in ServerSettings.model_fields.items()
                     if SecretStr in get_args(field.annotation))
