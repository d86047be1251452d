"""Realistic demo data: Guangzhou/Shenzhen-style customers, valid ID numbers, communities.

Deterministic for a given seed and streamed (a generator), so a million accounts need no list
in memory. Used by the demo, the server's seed command and the tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from hallcore.domain.accounts import Account, AccountStatus, Community
from hallcore.domain.ids import IdDocType, make_resident_id


@dataclass(frozen=True, slots=True)
class District:
    code: str
    city: str
    name: str
    id_area: str  # resident-ID area code of people born here


DISTRICTS: tuple[District, ...] = (
    District("GZ-TH", "广州市", "天河区", "440106"),
    District("GZ-YX", "广州市", "越秀区", "440104"),
    District("GZ-HZ", "广州市", "海珠区", "440105"),
    District("GZ-BY", "广州市", "白云区", "440111"),
    District("SZ-FT", "深圳市", "福田区", "440304"),
    District("SZ-NS", "深圳市", "南山区", "440305"),
    District("SZ-LH", "深圳市", "罗湖区", "440303"),
    District("SZ-BA", "深圳市", "宝安区", "440306"),
)

# Where many of a Guangdong city's residents were born.
_MIGRANT_AREAS = ("430102", "450102", "360102", "510104", "420102", "350102", "445102",
                  "441302", "440512", "110105", "310104")
_SINGLE_SURNAMES = "陈李黄张梁林刘吴罗何郑谢杨冯朱邓曾彭许苏钟卢蔡潘叶"
_DOUBLE_SURNAMES = ("欧阳", "司徒", "上官", "诸葛")
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲志建国文嘉俊浩宇欣怡子轩梓涵晓燕健康"
_MINORITY_NAMES = ("阿卜杜热合曼·买买提明", "古丽娜尔·吐尔逊", "扎西·多吉", "买买提·艾力")
_FOREIGN_NAMES = ("John Smith", "Maria Garcia", "Nguyen Van An", "Anna Müller", "Kim Min-jun")
_ROADS = ("天河路", "体育西路", "中山大道", "黄埔大道", "环市东路", "江南大道", "新港西路",
          "深南大道", "滨海大道", "福华路", "南山大道", "宝安大道", "人民南路", "白云大道")
_ESTATE_NAMES = ("丽景", "锦绣", "翠湖", "金沙", "碧桂", "天韵", "东湖", "海逸", "星河", "骏景",
                 "华景", "荔港", "南湾", "富力", "保利", "汇景")
_ESTATES = ("花园", "雅苑", "新村", "华庭", "名苑", "小区", "公寓", "家园")
_MANAGERS = ("黄经理", "陈经理", "李经理", "梁经理", "周经理", "何经理")
_MOBILE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "158", "159", "186",
                    "188", "189", "177", "199")


def _person_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.01:
        return rng.choice(_MINORITY_NAMES)
    surname = rng.choice(_DOUBLE_SURNAMES) if roll < 0.03 else rng.choice(_SINGLE_SURNAMES)
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return surname + given


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _birth(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 62))


def _id_valid_until(number: str, id_type: IdDocType | None) -> date | None:
    """The last day of an ID card's validity: 10 or 20 years from its issue, a few cards expired
    by the demo's day, a few long-term (长期, no end date). Drawn apart from the rest of the
    account, so the other demo values stay as they were before the field existed."""
    if id_type is not IdDocType.RESIDENT_ID:
        return None
    rng = random.Random(f"id-valid-until-{number}")
    if rng.random() < 0.08:
        return None  # 长期
    return date(2025, 1, 1) + timedelta(days=rng.randrange(-200, 20 * 365))


def _id_document(rng: random.Random, district: District) -> tuple[IdDocType, str, str] | None:
    """(type, number, name) of a holder; None for an old record with no ID on file."""
    roll = rng.random()
    if roll < 0.04:
        return None
    if roll < 0.05:
        number = rng.choice("EG") + f"{rng.randrange(10**8):08d}"
        return IdDocType.PASSPORT, number, rng.choice(_FOREIGN_NAMES)
    if roll < 0.06:
        number = rng.choice("HM") + f"{rng.randrange(10**8):08d}"
        return IdDocType.TRAVEL_PERMIT_HKMO, number, _person_name(rng)
    area = district.id_area if rng.random() < 0.6 else rng.choice(_MIGRANT_AREAS)
    number = make_resident_id(area, _birth(rng), rng.randrange(1000))
    return IdDocType.RESIDENT_ID, number, _person_name(rng)


def communities(district: District, count: int, seed: int = 0) -> Iterator[Community]:
    rng = random.Random(f"{seed}-{district.code}-communities")
    for i in range(count):
        households = rng.choice((30, 45, 80, 120, 240, 600))
        managed = households >= 50  # communities of 50+ households have a customer manager
        yield Community(
            code=f"{district.code}-C{i:04d}",
            name=f"{rng.choice(_ESTATE_NAMES)}{rng.choice(_ESTATES)}",
            households=households,
            manager_name=rng.choice(_MANAGERS) if managed else None,
            manager_phone=_mobile(rng) if managed else None,
        )


def accounts(
    district: District,
    count: int,
    district_communities: list[Community],
    *,
    seed: int = 0,
    first_serial: int = 0,
) -> Iterator[Account]:
    """`count` accounts of one district, numbered from its two-digit prefix."""
    rng = random.Random(f"{seed}-{district.code}-accounts-{first_serial}")
    prefix = DISTRICTS.index(district) + 10
    for serial in range(first_serial, first_serial + count):
        community = rng.choice(district_communities) if district_communities else None
        document = _id_document(rng, district)
        id_type, id_number, name = document or (None, None, _person_name(rng))
        road = rng.choice(_ROADS)
        estate = community.name if community else rng.choice(_ESTATES)
        address = (f"{district.city}{district.name}{road}{rng.randrange(1, 900)}号{estate}"
                   f"{rng.randrange(1, 30)}栋{rng.randrange(1, 33)}{rng.randrange(1, 9):02d}房")
        status_roll = rng.random()
        status = (AccountStatus.SUSPENDED if status_roll < 0.05
                  else AccountStatus.CLOSED if status_roll < 0.07
                  else AccountStatus.PENDING_CONNECTION if status_roll < 0.08
                  else AccountStatus.ACTIVE)
        number = f"{prefix:02d}{serial:08d}"
        yield Account(
            number=number,
            holder_name=name,
            id_type=id_type,
            id_number=id_number,
            phone=_mobile(rng) if rng.random() < 0.95 else None,
            supply_address=address,
            mailing_address=address if rng.random() < 0.88 else None,
            status=status,
            version=1,
            district=district.code,
            arrears_fen=rng.choice((0, 0, 0, 0, 0, 0, 3250, 12880, 45600)),
            sms_consent=rng.random() < 0.85,
            # Some customers (foreign residents among them) read their SMS in English.
            sms_language="en" if rng.random() < 0.03 else "zh",
            id_valid_until=_id_valid_until(number, id_type),
            community=community,
        )
