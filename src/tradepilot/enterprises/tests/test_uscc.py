"""Tests for the unified social credit code validator (GB 32100-2015)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from tradepilot.enterprises.uscc import (
    ALPHABET,
    AUTHORITY_KINDS,
    CHECK_ORDER,
    PROVINCES,
    InvalidUSCC,
    compute_check_digit,
    compute_org_check,
    django_validator,
    is_valid,
    make_uscc,
    normalize,
    validate,
)

# Published codes that pass every check here and stdnum.
REAL_CODES = [
    "91110000802100433B",
    "914403001922038216",
    "91440300708461136T",
    "91330100716105852F",
    "91100000100003962T",  # national-level registration office: division 100000
    "92371000MA3MXH0E3W",  # individual business, post-2015 "MA" organisation code
    "9135021359498494XQ",  # organisation check character X
]

# Independent re-statement of the GB 32100 check, so the tests do not just trust stdnum.
_GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def reference_check_digit(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, _GB32100_WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def to_full_width(text: str) -> str:
    # Printable ASCII U+0021..U+007E has full-width forms at U+FF01..U+FF5E.
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def with_check_digit(first17: str) -> str:
    return first17 + reference_check_digit(first17)


SEPARATORS = [" ", "-", "\u3000", "\u00a0", "\t", "‐", "‑", "–", "—", "－"]

authority_kinds = st.sampled_from(sorted((a, k) for a, kinds in AUTHORITY_KINDS.items() for k in kinds))
divisions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCES)),
    st.one_of(st.just("0000"), st.text("0123456789", min_size=4, max_size=4)),
)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    authority, kind = draw(authority_kinds)
    return make_uscc(draw(divisions), draw(st.integers(0, 99_999_999)), authority, kind)


# --- accepted input -------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert validate(code) == code
    assert is_valid(code)
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9111 0000 8021 0043 3B", "91110000802100433B"),
        ("  91110000-80210043-3B ", "91110000802100433B"),
        ("91110000802100433b", "91110000802100433B"),
        ("９１１１００００８０２１００４３３Ｂ", "91110000802100433B"),
        ("９１１１００００\u3000８０２１００４３３ｂ", "91110000802100433B"),
        ("92371000\u00a0ma3mxh0e3w", "92371000MA3MXH0E3W"),
        ("91110000–80210043—3B", "91110000802100433B"),
        ("91110000－80210043‑3B", "91110000802100433B"),
    ],
)
def test_formatting_noise_is_accepted(typed: str, expected: str) -> None:
    assert normalize(typed) == expected
    assert validate(typed) == expected


@pytest.mark.parametrize(("authority", "kind"), [("Y", "1"), ("A", "1"), ("N", "3"), ("3", "5"), ("1", "9")])
def test_every_registration_authority_of_the_standard_is_accepted(authority: str, kind: str) -> None:
    code = make_uscc("440300", 12345678, authority, kind)
    assert code[:2] == authority + kind
    assert is_valid(code)


def test_letter_authorities_are_accepted_although_stdnum_rejects_them() -> None:
    # stdnum requires the first eight characters to be digits, which GB 32100 does not.
    code = make_uscc("110000", 42, "Y", "1")
    assert is_valid(code)
    assert not stdnum_uscc.is_valid(code)


# --- rejected input -------------------------------------------------------------------

VALID = "91110000802100433B"


@pytest.mark.parametrize(
    ("code", "check"),
    [
        ("", "empty"),
        ("  \u3000 - ", "empty"),
        (VALID[:-1], "length"),
        (VALID + "0", "length"),
        ("9111000080210O433B", "charset"),
        ("9111000080210043 3I", "charset"),
        ("91110000802100433码", "charset"),
        ("Z1110000802100433B", "charset"),
        ("B1110000802100433B", "registration_authority"),
        ("0111000080210043 3B", "registration_authority"),
        ("94110000802100433B", "registration_authority"),
        ("Y2110000802100433B", "registration_authority"),
        ("A3110000802100433B", "registration_authority"),
        ("911A0000802100433B", "division"),
        ("91990000802100433B", "division"),
        ("91101000802100433B", "division"),
        ("91000000802100433B", "division"),
        # Position 17 wrong but position 18 recomputed: only the organisation code check fails.
        (with_check_digit(VALID[:16] + "4"), "organization_code"),
        ("91110000802100433C", "check_digit"),
    ],
)
def test_each_check_rejects_with_its_code(code: str, check: str) -> None:
    with pytest.raises(InvalidUSCC) as info:
        validate(code)
    assert info.value.check == check
    assert info.value.message
    assert str(info.value) == info.value.message
    assert not is_valid(code)


def test_every_check_code_is_covered() -> None:
    assert CHECK_ORDER == (
        "empty",
        "length",
        "charset",
        "registration_authority",
        "division",
        "organization_code",
        "check_digit",
    )


@pytest.mark.parametrize(
    ("code", "check"),
    [
        ("Z1O", "length"),  # bad charset and authority too, but length comes first
        ("B1AB0000802100433O", "charset"),  # would also fail authority and division
        ("B1AB0000802100433C", "registration_authority"),
        ("91AB0000802100434C", "division"),
        ("91110000802100434C", "organization_code"),
    ],
)
def test_first_failing_check_is_reported(code: str, check: str) -> None:
    with pytest.raises(InvalidUSCC) as info:
        validate(code)
    assert info.value.check == check


def test_messages_name_the_offending_character_and_position() -> None:
    with pytest.raises(InvalidUSCC) as info:
        validate("9111000080210O433B")
    assert "O" in info.value.message and "14" in info.value.message
    with pytest.raises(InvalidUSCC) as info:
        validate(VALID[:16])
    assert "16" in info.value.message


def test_non_strings_are_not_valid() -> None:
    assert not is_valid(None)
    assert not is_valid(91110000802100433)


def test_invalid_uscc_is_a_value_error() -> None:
    assert issubclass(InvalidUSCC, ValueError)


# --- helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [("80210043", "3"), ("MA3MXH0E", "3"), ("59498494", "X"), ("00000000", "0"), ("ma3mxh0e", "3")],
)
def test_compute_org_check(body: str, check: str) -> None:
    assert compute_org_check(body) == check


@pytest.mark.parametrize("body", ["8021004", "802100433", "8021004-", "８０２１００４３"])
def test_compute_org_check_rejects_malformed_input(body: str) -> None:
    with pytest.raises(ValueError):
        compute_org_check(body)


@pytest.mark.parametrize(
    "first17", ["9111000080210043", "91110000802100433B", "9111000080210043O", "91110000 80210043"]
)
def test_compute_check_digit_rejects_malformed_input(first17: str) -> None:
    with pytest.raises(ValueError):
        compute_check_digit(first17)


def test_make_uscc_is_deterministic_and_structured() -> None:
    code = make_uscc("440300", 12345678)
    assert code == make_uscc("440300", 12345678)
    assert code.startswith("91440300" + "12345678")
    assert make_uscc("44", 7) == make_uscc("440000", 7)
    assert make_uscc("440300", 1) != make_uscc("440300", 2)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("4403", 1), ValueError),
        (("44030a", 1), ValueError),
        (("440300", -1), ValueError),
        (("440300", 100_000_000), ValueError),
        (("990000", 1), InvalidUSCC),
        (("440300", 1, "B"), InvalidUSCC),
        (("440300", 1, "9", "9"), InvalidUSCC),
        (("440300", 1, "Z"), ValueError),
    ],
)
def test_make_uscc_refuses_to_build_invalid_codes(args: tuple, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_uscc(*args)


def test_django_validator() -> None:
    django_validator("９１１１００００８０２１００４３３Ｂ")
    with pytest.raises(ValidationError) as info:
        django_validator("91110000802100433C")
    assert info.value.code == "check_digit"
    assert info.value.messages and info.value.messages[0]


# --- properties -----------------------------------------------------------------------


@given(valid_codes())
def test_generated_codes_are_valid(code: str) -> None:
    assert validate(code) == code
    if code[0].isdigit():  # stdnum only knows numeric authorities
        assert stdnum_uscc.is_valid(code)


@given(valid_codes(), st.data())
def test_formatting_noise_normalises_back(code: str, data: st.DataObject) -> None:
    typed = data.draw(st.text(alphabet=SEPARATORS, max_size=3))
    for char in code:
        if data.draw(st.booleans()):
            char = char.lower()
        if data.draw(st.booleans()):
            char = to_full_width(char)
        typed += char + data.draw(st.text(alphabet=SEPARATORS, max_size=2))
    assert normalize(typed) == code
    assert validate(typed) == code


@given(valid_codes(), st.integers(0, 17), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_rejected(code: str, position: int, replacement: str) -> None:
    assume(code[position] != replacement)
    mutated = code[:position] + replacement + code[position + 1 :]
    assert not is_valid(mutated)
    # The mod-31 check alone catches it: every weight (and the implicit weight 1 of
    # position 18) is non-zero mod the prime 31, and two distinct values differ by 1..30.
    assert compute_check_digit(mutated[:17]) != mutated[17]


@given(valid_codes(), st.data())
def test_any_adjacent_transposition_is_rejected(code: str, data: st.DataObject) -> None:
    positions = [i for i in range(17) if code[i] != code[i + 1]]
    assume(positions)
    i = data.draw(st.sampled_from(positions))
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert not is_valid(swapped)
    # Swapping values a != b at weights u, v changes the sum by (a - b)(v - u). Adjacent
    # weights are w and 3w (mod 31), and position 17/18 have weights 28 and 1, so v - u is
    # never 0 mod 31, and |a - b| < 31: every adjacent transposition is detected.
    assert compute_check_digit(swapped[:17]) != swapped[17]


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_check_digit_matches_stdnum_and_the_standard(first17: str) -> None:
    assert (
        compute_check_digit(first17)
        == stdnum_uscc.calc_check_digit(first17)
        == reference_check_digit(first17)
    )


@given(
    authority_kinds.filter(lambda ak: ak[0].isdigit()),
    divisions,
    st.text(alphabet=ALPHABET, min_size=8, max_size=8),
)
def test_validate_agrees_with_stdnum_on_the_check_digit(
    authority_kind: tuple[str, str], division: str, org_body: str
) -> None:
    # A structurally valid 17-character prefix, so the only open question is position 18.
    first17 = "".join(authority_kind) + division + org_body + compute_org_check(org_body)
    for last in ALPHABET:
        code = first17 + last
        assert is_valid(code) == stdnum_uscc.is_valid(code)
        if not is_valid(code):
            with pytest.raises(InvalidUSCC) as info:
                validate(code)
            assert info.value.check == "check_digit"
