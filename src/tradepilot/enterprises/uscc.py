"""Validation of the Chinese unified social credit code (统一社会信用代码, GB 32100-2015).

Layout of the 18 characters (1-based positions):

====  =========================================================================
1     registration authority (登记管理部门代码)
2     institution type, valid values depend on the authority (机构类别代码)
3-8   administrative division of the registering office (GB/T 2260)
9-17  organisation code (组织机构代码, GB 11714); position 17 is its own check
18    GB 32100 check character (ISO 7064 style, modulus 31)
====  =========================================================================

python-stdnum (``stdnum.cn.uscc``) only checks the length, "first eight are
digits" and position 18.  That rejects legitimate codes whose authority is a
letter (``A``, ``N``, ``Y``) and accepts structurally impossible ones, so this
module checks every part and reports *which* part is wrong, which is what a
form needs to tell the user.  stdnum is still the source of the position-18
check character.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from stdnum.cn import uscc as stdnum_uscc

__all__ = [
    "ALPHABET",
    "AUTHORITY_KINDS",
    "CHECK_ORDER",
    "NATIONAL_DIVISION",
    "PROVINCES",
    "InvalidUSCC",
    "compute_check_digit",
    "compute_org_check",
    "django_validator",
    "is_valid",
    "make_uscc",
    "normalize",
    "validate",
]


def _(message: str) -> str:
    """Translate with Django's gettext when Django is usable, else return the msgid.

    The module is also used outside a configured Django process (scripts, the
    demo data generator, tests run with ``-p no:django``); there gettext would
    raise ImproperlyConfigured / AppRegistryNotReady.  Named ``_`` so that
    ``makemessages`` still extracts the msgids below.
    """
    from django.conf import settings

    if not settings.configured:
        return message
    from django.core.exceptions import AppRegistryNotReady
    from django.utils.translation import gettext

    try:
        return gettext(message)
    except AppRegistryNotReady:
        return message


#: GB 32100 character set: digits and capitals without I, O, S, V, Z.  The index of a
#: character is its numeric value in the position-18 check.
ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"

LENGTH: Final = 18

#: Registration authority (position 1) -> institution types allowed at position 2.
#: GB 32100-2015 appendix A, including the later additions A and N.
AUTHORITY_KINDS: Final[dict[str, frozenset[str]]] = {
    "1": frozenset("1239"),  # 机构编制: 机关, 事业单位, 中央编办直管群众团体, 其他
    "2": frozenset("19"),  # 外交: 外国常驻新闻机构, 其他
    "3": frozenset("123459"),  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委, 其他
    "4": frozenset("19"),  # 文化: 外国在华文化中心, 其他
    "5": frozenset("1239"),  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": frozenset("129"),  # 旅游: 外国 / 港澳台旅游部门常驻代表机构, 其他
    "7": frozenset("129"),  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": frozenset("19"),  # 工会: 基层工会, 其他
    "9": frozenset("123"),  # 工商 (市场监管): 企业, 个体工商户, 农民专业合作社
    "A": frozenset("19"),  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": frozenset("1239"),  # 农业: 组级 / 村级 / 乡镇级集体经济组织, 其他
    "Y": frozenset("1"),  # 其他: not subdivided, always 1
}

#: Province-level GB/T 2260 codes (positions 3-4), incl. Taiwan, Hong Kong and Macao.
PROVINCES: Final = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

#: Division used by national-level registration offices (e.g. SAMR for large state-owned
#: enterprises, 91100000100003962T).  Not a GB/T 2260 entry, but real codes carry it.
NATIONAL_DIVISION: Final = "100000"

#: GB 11714 organisation code check weights over its first eight characters.
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)

#: Check codes, in the order the checks run; the first failing one is reported.
CHECK_ORDER: Final = (
    "empty",
    "length",
    "charset",
    "registration_authority",
    "division",
    "organization_code",
    "check_digit",
)

# Dashes people paste from documents and word processors (after NFKC, which already
# folds the full-width hyphen-minus U+FF0D to "-").
_DASHES: Final = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d")


class InvalidUSCC(ValueError):
    """The code is not a valid USCC; ``check`` says which rule failed (see CHECK_ORDER)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
        self.message = message


def normalize(raw: str) -> str:
    """Return the code as typed, folded to canonical form (no validation).

    NFKC turns full-width digits/letters/spaces (common with Chinese IMEs) into ASCII;
    spaces and dashes are grouping noise; the standard only uses capitals.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    return "".join(c for c in text if not c.isspace() and c not in _DASHES).upper()


def _char_value(char: str) -> int:
    # GB 11714 values: digits as themselves, letters A=10 ... Z=35.
    return int(char) if char.isdigit() else ord(char) - 55


def compute_org_check(first8_of_org_code: str) -> str:
    """GB 11714 check character for the first eight characters of an organisation code."""
    body = first8_of_org_code.upper()
    if len(body) != 8 or not all(c.isascii() and c.isalnum() for c in body):
        raise ValueError(f"expected 8 ASCII digits/letters, got {first8_of_org_code!r}")
    value = 11 - sum(_char_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def compute_check_digit(first17: str) -> str:
    """GB 32100 check character (position 18) for the first 17 characters."""
    if len(first17) != LENGTH - 1 or any(c not in ALPHABET for c in first17):
        raise ValueError(f"expected 17 characters from {ALPHABET!r}, got {first17!r}")
    return stdnum_uscc.calc_check_digit(first17)


def validate(raw: str) -> str:
    """Return the normalised code, or raise InvalidUSCC for the first rule it breaks."""
    code = normalize(raw)
    if not code:
        raise InvalidUSCC("empty", _("Enter the unified social credit code."))
    if len(code) != LENGTH:
        raise InvalidUSCC("length", _("The code must have 18 characters; it has %(n)d.") % {"n": len(code)})
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            raise InvalidUSCC(
                "charset",
                _(
                    "Character “%(char)s” at position %(position)d is not allowed; the code uses "
                    "digits and capital letters except I, O, S, V and Z."
                )
                % {"char": char, "position": position},
            )

    authority, kind = code[0], code[1]
    if authority not in AUTHORITY_KINDS:
        raise InvalidUSCC(
            "registration_authority",
            _("The first character “%(char)s” is not a registration authority code.") % {"char": authority},
        )
    if kind not in AUTHORITY_KINDS[authority]:
        raise InvalidUSCC(
            "registration_authority",
            _(
                "The second character “%(kind)s” is not an institution type of registration authority “%(authority)s”."
            )
            % {"kind": kind, "authority": authority},
        )

    division = code[2:8]
    if not division.isdigit():
        raise InvalidUSCC(
            "division",
            _("Characters 3 to 8 must be the six-digit administrative division code; found “%(division)s”.")
            % {"division": division},
        )
    if division[:2] not in PROVINCES and division != NATIONAL_DIVISION:
        raise InvalidUSCC(
            "division",
            _("“%(province)s” (characters 3 and 4) is not a province-level administrative division code.")
            % {"province": division[:2]},
        )

    # Position 17 guards the embedded organisation code on its own, so a typo there is
    # reported as such rather than as a generic checksum failure.
    if compute_org_check(code[8:16]) != code[16]:
        raise InvalidUSCC(
            "organization_code",
            _("The organisation code (characters 9 to 17) is not valid: its check character does not match."),
        )

    if compute_check_digit(code[:17]) != code[17]:
        raise InvalidUSCC(
            "check_digit",
            _("The check character (the 18th) does not match; the code probably contains a typo."),
        )
    return code


def is_valid(raw: object) -> bool:
    """True if ``raw`` is a string holding a valid code (formatting noise allowed)."""
    if not isinstance(raw, str):
        return False
    try:
        validate(raw)
    except InvalidUSCC:
        return False
    return True


def make_uscc(division: str, serial: int, authority: str = "9", kind: str = "1") -> str:
    """Deterministically build a valid code, e.g. for demo data and tests.

    ``division`` is a six-digit GB/T 2260 code (a two-digit province code is padded with
    ``0000``); ``serial`` (0 .. 99 999 999) becomes the eight-digit organisation code body.
    Raises ValueError (InvalidUSCC for a bad authority/kind/division) instead of
    returning something invalid.
    """
    if len(division) == 2:
        division += "0000"
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"division must be 6 digits, got {division!r}")
    if not 0 <= serial <= 99_999_999:
        raise ValueError(f"serial must be in 0..99999999, got {serial}")
    org_body = f"{serial:08d}"
    first17 = f"{authority}{kind}{division}{org_body}{compute_org_check(org_body)}"
    return validate(first17 + compute_check_digit(first17))


def django_validator(value: str) -> None:
    """Django field validator: raises ValidationError with ``code`` = the failed check."""
    from django.core.exceptions import ValidationError

    try:
        validate(value)
    except InvalidUSCC as exc:
        raise ValidationError(exc.message, code=exc.check) from exc
