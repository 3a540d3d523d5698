"""Parsing and checking monthly-report lines: the one place where a line's fields are validated.

The web form, the API and the bulk import all turn their input into `RawLine` dicts and call `parse_line`;
each problem becomes a `LineError` naming the row, the field, the value and the reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from tradepilot.core.models import Country, Currency, ServiceCategory, SupplyMode

# Ten trillion per line is far above any real transaction, and keeps every amount exact even where the database
# stores decimals with 15 significant digits (SQLite).
MAX_AMOUNT = Decimal("1e13")
FIELDS = ("direction", "service", "partner", "mode", "related_party", "amount", "currency", "note")

DIRECTIONS = {
    "X": "X", "EXPORT": "X", "出口": "X", "E": "X", "C": "X",
    "M": "M", "IMPORT": "M", "进口": "M", "I": "M", "D": "M",
}
TRUE_WORDS = {"1", "Y", "YES", "TRUE", "T", "是", "关联", "√"}
FALSE_WORDS = {"", "0", "N", "NO", "FALSE", "F", "否", "非关联"}


@dataclass
class LineError:
    row: int | None
    field: str
    value: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ParsedLine:
    direction: str
    service_id: int
    service_code: str
    partner_id: int
    partner_code: str
    mode_id: int
    mode_code: str
    related_party: bool
    amount: Decimal
    currency_id: int
    currency_code: str
    note: str = ""

    def key(self) -> tuple:
        return (self.direction, self.service_code, self.partner_code, self.mode_code, self.related_party,
                self.currency_code, self.amount, self.note)


class ReferenceCache:
    """Code → id maps for the reference tables, loaded once per request or import."""

    def __init__(self):
        cats = list(ServiceCategory.objects.values_list("code", "id", "is_leaf"))
        self.leaf_services = {code: pk for code, pk, leaf in cats if leaf}
        self.nonleaf_services = {code for code, _pk, leaf in cats if not leaf}
        self.countries = dict(Country.objects.values_list("alpha2", "id"))
        self.countries_alpha3 = {a3: a2 for a2, a3 in Country.objects.values_list("alpha2", "alpha3")}
        modes = list(SupplyMode.objects.values_list("code", "id", "in_direct_report"))
        self.report_modes = {code: pk for code, pk, ok in modes if ok}
        self.other_modes = {code for code, _pk, ok in modes if not ok}
        self.currencies = dict(Currency.objects.values_list("code", "id"))


def clean_text(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # NFKC only matters for non-ASCII input (full-width digits and letters); most cells are plain ASCII.
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()


def parse_amount(value) -> Decimal:
    """A non-negative amount with at most two decimals; thousands separators allowed. Raises ValueError."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        # Spreadsheet cells arrive as floats: go through repr to keep the digits the user typed.
        amount = Decimal(repr(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        text = clean_text(value).replace(",", "").replace(" ", "")
        if not text:
            raise ValueError(_("An amount is required."))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("'%(v)s' is not a number.") % {"v": text}) from None
    if not amount.is_finite():
        raise ValueError(_("The amount must be a finite number."))
    if amount <= 0:
        raise ValueError(_("The amount must be greater than zero."))
    if amount >= MAX_AMOUNT:
        raise ValueError(_("The amount is too large."))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("The amount may have at most two decimal places."))
    return amount.quantize(Decimal("0.01"))


def parse_line(raw: dict, ref: ReferenceCache, row: int | None) -> tuple[ParsedLine | None, list[LineError]]:
    errors: list[LineError] = []

    def err(field: str, value, code: str, message: str):
        errors.append(LineError(row, field, clean_text(value)[:100], code, message))

    direction_raw = clean_text(raw.get("direction")).upper()
    direction = DIRECTIONS.get(direction_raw)
    if direction is None:
        err("direction", direction_raw, "invalid_direction", _("Direction must be X (export) or M (import)."))

    service_code = clean_text(raw.get("service")).upper()
    service_id = ref.leaf_services.get(service_code)
    if service_id is None:
        if not service_code:
            err("service", service_code, "required", _("An EBOPS 2010 code is required."))
        elif service_code in ref.nonleaf_services:
            err("service", service_code, "not_leaf",
                _("%(c)s is an aggregate; report one of its sub-components.") % {"c": service_code})
        else:
            err("service", service_code, "unknown_service",
                _("%(c)s is not an EBOPS 2010 code.") % {"c": service_code})

    partner_code = clean_text(raw.get("partner")).upper()
    partner_code = ref.countries_alpha3.get(partner_code, partner_code)
    partner_id = ref.countries.get(partner_code)
    if partner_id is None:
        if not partner_code:
            err("partner", partner_code, "required", _("A partner country is required."))
        else:
            err("partner", partner_code, "unknown_country",
                _("%(c)s is not an ISO 3166-1 country code.") % {"c": partner_code})
    elif partner_code == "CN":
        err("partner", partner_code, "domestic_partner", _("The partner must be outside the Chinese mainland."))

    mode_code = clean_text(raw.get("mode"))
    mode_id = ref.report_modes.get(mode_code)
    if mode_id is None:
        if mode_code in ref.other_modes:
            err("mode", mode_code, "mode_not_in_report",
                _("Mode %(m)s (commercial presence) is reported in FATS, not here.") % {"m": mode_code})
        else:
            err("mode", mode_code, "invalid_mode", _("Mode of supply must be 1, 2 or 4."))

    rp_raw = clean_text(raw.get("related_party")).upper()
    if isinstance(raw.get("related_party"), bool):
        related = raw["related_party"]
    elif rp_raw in TRUE_WORDS:
        related = True
    elif rp_raw in FALSE_WORDS:
        related = False
    else:
        related = False
        err("related_party", rp_raw, "invalid_flag", _("Related party must be Y or N."))

    amount = None
    try:
        amount = parse_amount(raw.get("amount"))
    except ValueError as exc:
        err("amount", raw.get("amount"), "invalid_amount", str(exc))

    currency_code = clean_text(raw.get("currency")).upper()
    currency_id = ref.currencies.get(currency_code)
    if currency_id is None:
        err("currency", currency_code, "unknown_currency",
            _("%(c)s is not an ISO 4217 currency code.") % {"c": currency_code or "—"})

    note = clean_text(raw.get("note"))
    if len(note) > 300:
        err("note", note, "too_long", _("The note may have at most 300 characters."))

    if errors:
        return None, errors
    return ParsedLine(direction, service_id, service_code, partner_id, partner_code, mode_id, mode_code, related,
                      amount, currency_id, currency_code, note), []
