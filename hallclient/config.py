"""Where HallClient keeps its files, and the terminal's settings.

Settings hold no secrets: the terminal's key and the clerks' tokens live in the keyring.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from platformdirs import user_data_dir

from hallclient.devices.idcard import parse_reader_setting
from hallcore.domain.text import InvalidInput, Text

APP_NAME = "HallClient"
DATA_DIR_ENV = "HALLCLIENT_DATA_DIR"


def data_dir() -> Path:
    """The user data directory; HALLCLIENT_DATA_DIR overrides it (tests, demos, a second till)."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(user_data_dir(APP_NAME, appauthor=False))


def cache_path(base: Path | None = None) -> Path:
    return (base or data_dir()) / "cache.sqlite3"


# A receipt's page: the 80 mm thermal roll, or A4 (hallclient/receipts/render.py).
ReceiptLayout = Literal["80mm", "a4"]
RECEIPT_LAYOUTS: tuple[ReceiptLayout, ...] = get_args(ReceiptLayout)


@dataclass(frozen=True, slots=True)
class Settings:
    server_url: str = "http://127.0.0.1:8600"
    # An https server's certificate is checked against this CA file (PEM) when set, else
    # against the system's trust store.
    ca_file: str = ""
    hall_id: str = ""
    terminal_id: str = ""
    # Made once by `hallclient setup`; the server ties the terminal id to it.
    installation_id: str = ""
    language: str = "zh"
    # Business types refused while the server cannot be reached.
    online_only: tuple[str, ...] = ("close",)
    # How long after a clerk's last online login the password is still checked offline.
    offline_login_days: int = 7
    # Idle minutes before the counter window locks and asks the clerk's password again.
    idle_lock_minutes: int = 5
    # The layout receipts are drawn in unless the clerk chooses another for one receipt.
    receipt_layout: ReceiptLayout = "80mm"
    # The ID card reader: keyboard (it types the number), serial:PORT, sdk:LIBRARY or
    # simulated (hallclient/devices/idcard.py).
    id_reader: str = "keyboard"
    # The hall's queue system (叫号系统, hallclient/devices/queue.py): its base URL, empty when
    # the hall has none, and this counter's window number in it.
    queue_url: str = ""
    queue_counter: int = 0


def settings_path(base: Path | None = None) -> Path:
    return (base or data_dir()) / "settings.json"


class SettingsError(Exception):
    """The settings file cannot be read; `reason` names it, what is wrong and what to do, in
    both languages. The file is left as it was."""

    def __init__(self, path: Path, what: Text) -> None:
        reason = Text("终端设置文件 {path} 无法读取（{what}）。请修正该文件，或将其删除后重新设置"
                      "本终端。",
                      "The settings file {path} cannot be read ({what}). Fix it or delete it to "
                      "set the terminal up again.").format(path=path, what=what)
        super().__init__(str(reason))
        self.reason = reason


def load_settings(base: Path | None = None) -> Settings:
    path = settings_path(base)
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise InvalidInput(Text("内容不是一个 JSON 对象", "it does not hold a JSON object"))
        text_fields = ("server_url", "ca_file", "hall_id", "terminal_id", "installation_id",
                       "language")
        values: dict[str, Any] = {name: str(raw[name]) for name in text_fields if name in raw}
        online_only = raw.get("online_only", Settings().online_only)
        if not isinstance(online_only, list | tuple):
            raise InvalidInput(Text("online_only 必须是业务类型的列表",
                                    "online_only must be a list of business types"))
        values.update({name: _positive(raw, name) for name in ("offline_login_days",
                                                                "idle_lock_minutes")
                       if name in raw})
        if "receipt_layout" in raw:
            values["receipt_layout"] = _receipt_layout(raw["receipt_layout"])
        if "id_reader" in raw:
            values["id_reader"] = _id_reader(raw["id_reader"])
        if raw.get("queue_url"):
            values.update(_queue_system(raw))
        return Settings(**values, online_only=tuple(str(v) for v in online_only))
    except InvalidInput as exc:
        raise SettingsError(path, exc.reason) from exc
    except json.JSONDecodeError as exc:
        raise SettingsError(path, Text(
            f"JSON 格式有误：第 {exc.lineno} 行第 {exc.colno} 列",
            f"it is not valid JSON: an error at line {exc.lineno}, column {exc.colno}")) from exc
    except UnicodeDecodeError as exc:
        raise SettingsError(path, Text("内容不是 UTF-8 编码的文本", "it is not UTF-8 text")
                            ) from exc
    except OSError as exc:  # not allowed to read it, a folder in its place, a disk error
        reason = exc.strerror or type(exc).__name__
        raise SettingsError(path, Text(f"打不开：{reason}", f"it cannot be opened: {reason}")
                            ) from exc


def _positive(raw: dict[str, object], name: str) -> int:
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidInput(Text(f"{name} 必须是 1 到 10000 之间的整数",
                                f"{name} must be a whole number from 1 to 10000"))
    return value


def _receipt_layout(value: object) -> ReceiptLayout:
    for layout in RECEIPT_LAYOUTS:
        if value == layout:
            return layout
    layouts = ", ".join(RECEIPT_LAYOUTS)
    raise InvalidInput(Text(f"receipt_layout 必须是 {layouts} 之一",
                            f"receipt_layout must be one of {layouts}"))


def _queue_system(raw: dict[str, object]) -> dict[str, Any]:
    """The queue system's URL and this counter's window number in it: one needs the other."""
    url = raw["queue_url"]
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        usable = parts is not None and parts.scheme in ("http", "https") and bool(
            parts.hostname) and not parts.query and not parts.fragment
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        usable = False
    if not usable:
        raise InvalidInput(Text("queue_url 必须是叫号系统的 http:// 或 https:// 地址，或留空",
                                "queue_url must be the queue system's http:// or https:// "
                                "address, or empty"))
    if "queue_counter" not in raw:
        raise InvalidInput(Text("设置了 queue_url 时，须将 queue_counter 设为本窗口在叫号系统"
                                "中的窗口号",
                                "with a queue_url, queue_counter must be this counter's window "
                                "number in the queue system"))
    return {"queue_url": url, "queue_counter": _positive(raw, "queue_counter")}


def _id_reader(value: object) -> str:
    return str(parse_reader_setting(value if isinstance(value, str) else ""))


def save_settings(settings: Settings, base: Path | None = None) -> None:
    path = settings_path(base)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)  # a crash leaves the old or the new file, never half of one
