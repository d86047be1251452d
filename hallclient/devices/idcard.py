"""The ID card reader (二代身份证阅读器): one interface, its errors, the card's text as the readers
give it, the card's fields for a form, and the backend a settings string names.

A certified reader reads the card's chip through its SAM module and hands over the card's
"base message": 256 bytes of text in fixed fields (UCS-2, little-endian) and 1024 bytes of
photo in the vendor's WLT format. The serial protocol (`idcard_serial`) and the vendors' SDK
libraries (`idcard_sdk`) both give that message; `decode_base_message` makes it a `CardData`.
The keyboard-wedge mode has no backend: the reader types the number into the field that has
the cursor, as a clerk would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from hallcore.domain.business import BusinessKind, expired_id_document
from hallcore.domain.contact import validate_address, validate_person_name
from hallcore.domain.ids import IdDocType, normalize_id_input, validate_id
from hallcore.domain.text import InvalidInput, Text


@dataclass(frozen=True, slots=True)
class CardData:
    """What the card's chip holds, as read (the text trimmed, nothing else changed)."""

    name: str
    sex: str  # 男 / 女, as the card says
    nation: str  # 汉, 蒙古...; the card's code where the table has no name for it
    birth_date: date
    address: str
    id_number: str
    authority: str  # the issuing public security bureau
    valid_from: date
    valid_until: date | None  # None: 长期 (long-term, no end date)
    photo: bytes | None  # WLT from a real reader (the vendor's library decodes it)


class CardReaderError(Exception):
    """The reader could not give a card; `reason` says what happened and what to do."""

    reason: Text

    def __init__(self, reason: Text | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(type(self).__name__)  # never personal data in an exception's text


class ReaderNotFound(CardReaderError):
    reason = Text("在设定的端口上找不到身份证阅读器：请检查阅读器的连接线和设置；"
                  "可先手工输入证件号码",
                  "no ID card reader answers at the port set up: check its cable and the "
                  "setting; meanwhile type the ID number")


class ReaderUnplugged(CardReaderError):
    reason = Text("读卡时身份证阅读器断开了连接：请插好阅读器后重新放卡；可先手工输入证件号码",
                  "the ID card reader was disconnected while reading: plug it in again and lay "
                  "the card again; meanwhile type the ID number")


class NoCard(CardReaderError):
    reason = Text("阅读器上没有身份证：请将证件平放在阅读器上",
                  "there is no ID card on the reader: lay the card flat on it")


class CardUnreadable(CardReaderError):
    reason = Text("身份证未能读取：请将证件拿开后重新平放在阅读器上再试",
                  "the ID card could not be read: take it off the reader, lay it flat again "
                  "and try again")


class SdkUnavailable(CardReaderError):
    reason = Text("身份证阅读器的厂商驱动库缺失或无法加载：请检查设置中的库文件路径，"
                  "或重新安装厂商驱动；可先手工输入证件号码",
                  "the ID card reader's vendor library is missing or cannot be loaded: check "
                  "the library path in the settings or reinstall the vendor's driver; "
                  "meanwhile type the ID number")


class CardRefused(CardReaderError):
    """The card was read, and what it says cannot be taken (expired, a name the receipt
    cannot print): `reason` is the rule's own."""


class CardReader(Protocol):
    """A backend: opened once, then asked for one card at a time, closed at the end. Each
    method raises only CardReaderError."""

    def open(self) -> None: ...

    def read_card(self, timeout: float) -> CardData:
        """The card laid on the reader, waiting up to `timeout` seconds for one (NoCard)."""
        ...

    def close(self) -> None: ...


# --- the base message ------------------------------------------------------------------------

TEXT_BYTES, PHOTO_BYTES = 256, 1024
# The text's fields in order, with their lengths in bytes (UCS-2: two a character).
_TEXT_FIELDS = (("name", 30), ("sex", 2), ("nation", 4), ("birth", 16), ("address", 70),
                ("id_number", 36), ("authority", 30), ("start", 16), ("end", 16),
                ("spare", 36))
LONG_TERM = "长期"  # the end of a card that has none
_SEXES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}
# GB 3304: the nationalities by their two-digit code, 01 to 56.
_NATIONS = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
    "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
    "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京",
    "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺")
_OTHER_NATIONS = {"97": "其他", "98": "外国血统中国籍人士"}


def _nation(code: str) -> str:
    if code.isdigit() and 1 <= int(code) <= len(_NATIONS):
        return _NATIONS[int(code) - 1]
    return _OTHER_NATIONS.get(code, code)


def _nation_code(name: str) -> str:
    if name in _NATIONS:
        return f"{_NATIONS.index(name) + 1:02d}"
    return next((code for code, other in _OTHER_NATIONS.items() if other == name), name)


def _card_date(text: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise CardUnreadable
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardUnreadable from None


def decode_base_message(text: bytes, photo: bytes | None) -> CardData:
    """The card from its base message; CardUnreadable when the text is not one (a read gone
    wrong gives no card rather than a card half right)."""
    if len(text) != TEXT_BYTES:
        raise CardUnreadable
    fields: dict[str, str] = {}
    at = 0
    for name, size in _TEXT_FIELDS:
        try:
            # UTF-16: a rare character beyond U+FFFF (𬌗) comes as a surrogate pair.
            fields[name] = text[at:at + size].decode("utf-16-le").strip(" \x00")
        except UnicodeDecodeError:
            raise CardUnreadable from None
        at += size
    end = fields["end"]
    return CardData(
        name=fields["name"], sex=_SEXES.get(fields["sex"], fields["sex"]),
        nation=_nation(fields["nation"]), birth_date=_card_date(fields["birth"]),
        address=fields["address"], id_number=fields["id_number"],
        authority=fields["authority"], valid_from=_card_date(fields["start"]),
        valid_until=None if end == LONG_TERM else _card_date(end),
        photo=photo or None)


def encode_base_text(card: CardData) -> bytes:
    """The card's text as a reader sends it (the simulated reader and the tests)."""
    sex = next((code for code, label in _SEXES.items() if label == card.sex), card.sex)
    values = {"name": card.name, "sex": sex, "nation": _nation_code(card.nation),
              "birth": f"{card.birth_date:%Y%m%d}", "address": card.address,
              "id_number": card.id_number, "authority": card.authority,
              "start": f"{card.valid_from:%Y%m%d}",
              "end": LONG_TERM if card.valid_until is None else f"{card.valid_until:%Y%m%d}",
              "spare": ""}
    out = b""
    for name, size in _TEXT_FIELDS:
        encoded = values[name].encode("utf-16-le")[:size]
        out += encoded + " ".encode("utf-16-le") * ((size - len(encoded)) // 2)
    return out


# --- the card's fields for a form ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardForm:
    """Where a form takes the card: its fields of the person presenting it (`prefix`), and
    the field the card's address goes to, if any."""

    prefix: str
    address: str | None = None


# The forms a card fills: a transfer's new holder, a new connection's applicant. The card's
# address is where the applicant is registered (户籍), not the premises to be connected: it
# goes to the mailing address, never to the supply address.
CARD_FORMS: Mapping[BusinessKind, CardForm] = {
    BusinessKind.TRANSFER: CardForm("new_holder"),
    BusinessKind.NEW_CONNECTION: CardForm("applicant", address="mailing_address"),
}

# Residence permits for Hong Kong, Macao and Taiwan residents are cards of the same kind,
# numbered from these areas.
_HMT_AREAS = ("81", "82", "83")


def card_document_type(card: CardData) -> IdDocType:
    number = normalize_id_input(card.id_number)
    return (IdDocType.RESIDENCE_PERMIT_HMT if number.startswith(_HMT_AREAS)
            else IdDocType.RESIDENT_ID)


def card_refusal(card: CardData, today: date) -> Text | None:
    """Why the card cannot be taken today (it has expired: the domain's own rule), or None."""
    if card.valid_until is None:
        return None
    return expired_id_document(card.valid_until, today)


def card_fields(card: CardData, prefix: str, *, today: date,
                address_field: str | None = None) -> dict[str, str]:
    """The form's fields of the person `prefix` names (new_holder, applicant), filled from the
    card and cleaned as the form cleans what is typed; the address into `address_field`. A
    long-term card gives no end date (""). Raises CardRefused, with the rule's own words, for
    a card the form would refuse: expired, a name or address the receipt cannot print, a
    number that is not well-formed. All or nothing: no fields without the whole card."""
    refusal = card_refusal(card, today)
    if refusal is not None:
        raise CardRefused(refusal)
    doc_type = card_document_type(card)
    try:
        fields = {
            f"{prefix}_name": validate_person_name(card.name),
            f"{prefix}_id_type": doc_type.value,
            f"{prefix}_id_number": validate_id(doc_type, card.id_number, today=today).number,
            f"{prefix}_id_valid_until": (
                "" if card.valid_until is None else card.valid_until.isoformat()),
        }
        if address_field is not None:
            fields[address_field] = validate_address(card.address)
    except InvalidInput as exc:
        raise CardRefused(exc.reason) from None
    return fields


# --- which backend ---------------------------------------------------------------------------

Backend = Literal["keyboard", "serial", "sdk", "simulated"]
KEYBOARD = "keyboard"


@dataclass(frozen=True, slots=True)
class ReaderSetting:
    """The terminal's `id_reader` setting: keyboard, simulated, serial:PORT or sdk:LIBRARY."""

    backend: Backend
    target: str = ""  # the serial port or the library's path

    def __str__(self) -> str:
        return f"{self.backend}:{self.target}" if self.target else self.backend


_SETTING_FORMS = Text("id_reader 应为 keyboard、simulated、serial:端口（如 serial:/dev/ttyUSB0）"
                      "或 sdk:库文件路径（如 sdk:/opt/reader/libsdtapi.so）",
                      "id_reader must be keyboard, simulated, serial:PORT (e.g. "
                      "serial:/dev/ttyUSB0) or sdk:LIBRARY (e.g. sdk:/opt/reader/libsdtapi.so)")


def parse_reader_setting(text: str) -> ReaderSetting:
    """The setting's text as a ReaderSetting; InvalidInput saying the forms it takes."""
    backend, colon, target = text.strip().partition(":")
    target = target.strip()
    if not colon and backend in ("keyboard", "simulated"):
        return ReaderSetting("keyboard" if backend == "keyboard" else "simulated")
    if colon and target and backend == "serial":
        return ReaderSetting("serial", target)
    if colon and target and backend == "sdk":
        return ReaderSetting("sdk", target)
    raise InvalidInput(_SETTING_FORMS)


def make_reader(setting: ReaderSetting) -> CardReader | None:
    """The backend the setting names, not opened yet; None for the keyboard-wedge mode, where
    no backend reads anything: the reader types the number into the field with the cursor."""
    if setting.backend == "serial":
        from hallclient.devices.idcard_serial import SerialCardReader

        return SerialCardReader(setting.target)
    if setting.backend == "sdk":
        from hallclient.devices.idcard_sdk import SdkCardReader

        return SdkCardReader(setting.target)
    if setting.backend == "simulated":
        from hallclient.devices.idcard_sim import SimulatedReader

        return SimulatedReader()
    return None
