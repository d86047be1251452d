"""Phone numbers in service, for property tests: mobile ranges of every mainland carrier, real
area codes with the length of their local numbers, and numbers outside the mainland."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

# Person-to-person mobile ranges, by carrier (174, satellite, is in service only in part).
MOBILE_PREFIXES = (
    # China Mobile
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
    "159", "165", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198",
    # China Unicom
    "130", "131", "132", "155", "156", "166", "167", "171", "175", "176", "185", "186", "196",
    # China Telecom
    "133", "153", "162", "173", "177", "180", "181", "189", "190", "191", "193", "199",
    # China Broadnet; virtual operators
    "192", "170",
)
# Area code -> the lengths of its local numbers.
AREA_CODES: dict[str, tuple[int, ...]] = {
    "010": (8,), "020": (8,), "021": (8,), "022": (8,), "023": (8,), "024": (8,),
    "025": (8,), "027": (8,), "028": (8,), "029": (8,),
    "0755": (8,), "0769": (8,), "0571": (8,), "0311": (8,), "0898": (8,),
    "0931": (7,), "0351": (7,), "0991": (7,), "0310": (7,), "0999": (7,),
    "0851": (7, 8),
}
OUTSIDE_MAINLAND = (
    ("+852 9123 4567", "+85291234567"),  # Hong Kong mobile
    ("+852 2123 4567", "+85221234567"),  # Hong Kong landline
    ("00853 6612 3456", "+85366123456"),  # Macao mobile
    ("+853 2833 1234", "+85328331234"),  # Macao landline
    ("+886 912 345 678", "+886912345678"),  # Taiwan mobile
    ("+886 2 2345 6789", "+886223456789"),  # Taipei landline
    ("+44 20 7946 0958", "+442079460958"),  # London landline
    ("0044 7911 123456", "+447911123456"),  # UK mobile
    ("+1 202 555 0123", "+12025550123"),
)

mainland_mobiles = st.builds(
    str.__add__, st.sampled_from(MOBILE_PREFIXES), st.from_regex(r"[0-9]{8}", fullmatch=True))


@st.composite
def _landline(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(sorted(AREA_CODES)))
    length = draw(st.sampled_from(AREA_CODES[area]))
    local = draw(st.from_regex(rf"[2-9][0-9]{{{length - 1}}}", fullmatch=True))
    # 800 after 010 or 021 is dialled as a free-phone number, no landline.
    assume(not local.startswith("800"))
    return f"{area}-{local}"


mainland_landlines = _landline()
extensions = st.from_regex(r"[0-9]{1,6}", fullmatch=True)
outside_mainland = st.sampled_from([number for _typed, number in OUTSIDE_MAINLAND])
