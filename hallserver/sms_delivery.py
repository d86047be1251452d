"""Which gateway `hallserver notify` delivers the customer SMS through, chosen by the settings
(hallserver/settings.py): the log file, or an SMPP gateway with the per-number limits and the
quiet hours. The log gateway reaches no phone (trials, tests): it applies neither, so a trial
shows every message at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from hallserver.delivery import default_gateway
from hallserver.notifications import SmsGateway, SmsRecorder
from hallserver.settings import ServerSettings, SettingsError, env_name
from hallserver.sms_policy import SmsPolicy


@dataclass(frozen=True, slots=True)
class Delivery:
    gateway: SmsGateway
    policy: SmsPolicy | None  # None: no limits nor quiet hours
    # Why the gateway cannot be used now (unreachable, bind refused), for the operator; None
    # when it can. Delivery goes on: it binds again each round until it can.
    problem: Callable[[], str | None]
    close: Callable[[], None]


def open_delivery(engine: Engine, settings: ServerSettings, sms_log: Path | None) -> Delivery:
    """The log gateway when `sms_log` is given (the option wins over the setting), else the
    one HALLSERVER_SMS_GATEWAY names, started; SettingsError when its settings are not
    usable."""
    if sms_log is not None:
        return Delivery(default_gateway(sms_log), None, lambda: None, lambda: None)
    if settings.sms_gateway == "log":
        raise SettingsError("sms_gateway", env_name("sms_gateway"), "log",
                            "the log gateway needs --sms-log FILE (or set it to smpp)")
    from hallserver.smpp import GatewayUnavailable, SmppGateway

    gateway = SmppGateway(settings.smpp_config(), SmsRecorder(engine))

    def problem() -> str | None:
        try:
            gateway.connect()
        except GatewayUnavailable as exc:
            return str(exc)
        return None

    gateway.start()
    return Delivery(gateway, settings.sms_policy(), problem, gateway.close)
