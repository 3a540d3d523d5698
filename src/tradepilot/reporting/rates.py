"""Exchange rates and conversion to USD.

Rates are monthly CNY central parities (`cny_per_unit`). A USD value is amount × rate(currency) / rate(USD),
rounded half-up to the cent; CNY has rate 1 by definition and USD converts to itself without a rate.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from tradepilot.reporting.models import ExchangeRate

CENT = Decimal("0.01")
_WIDE = Context(prec=60)
ONE = Decimal(1)


class MissingRate(Exception):
    def __init__(self, currency: str, year: int, month: int):
        self.currency, self.year, self.month = currency, year, month
        super().__init__(f"No exchange rate for {currency} in {year}-{month:02d}")


class RateTable:
    """The rates of one month, loaded once; `to_usd` is called per line on the hot import path."""

    def __init__(self, year: int, month: int, rates: dict[str, Decimal]):
        self.year, self.month = year, month
        self.rates = dict(rates)
        self.rates.setdefault("CNY", ONE)

    @classmethod
    def for_month(cls, year: int, month: int) -> RateTable:
        rows = ExchangeRate.objects.filter(year=year, month=month).values_list("currency__code", "cny_per_unit")
        return cls(year, month, dict(rows))

    def has(self, currency: str) -> bool:
        return currency == "USD" or (currency in self.rates and "USD" in self.rates)

    def to_usd(self, amount: Decimal, currency: str) -> Decimal:
        return convert(amount, currency, self.rates, self.year, self.month)


def convert(amount: Decimal, currency: str, rates: dict[str, Decimal], year: int, month: int) -> Decimal:
    if currency == "USD":
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    rate = rates.get(currency)
    usd = rates.get("USD")
    if rate is None:
        raise MissingRate(currency, year, month)
    if usd is None:
        raise MissingRate("USD", year, month)
    # Enough precision that the product of a 20-digit amount and an 18-digit rate is exact before rounding; one
    # shared context object, because this runs once per line on the import path.
    return _WIDE.divide(_WIDE.multiply(amount, rate), usd).quantize(CENT, rounding=ROUND_HALF_UP, context=_WIDE)


def parse_rate_rows(rows, currencies: dict[str, object]) -> tuple[list[tuple], list[dict]]:
    """Rows of (row_no, {period, currency, rate, units}) → ([(currency, year, month, cny_per_unit)], errors).

    `rate` is CNY per `units` units of the currency (the central parity quotes JPY per 100 yen)."""
    from django.utils.translation import gettext as _

    from tradepilot.reporting.lines import clean_text
    from tradepilot.reporting.periods import Period

    parsed, errors = [], []
    seen = set()
    for row_no, raw in rows:
        def err(field, value, code, message, row_no=row_no):
            errors.append({"row": row_no, "field": field, "value": clean_text(value)[:50], "code": code,
                           "message": message})

        try:
            period = Period.parse(clean_text(raw.get("period")))
            if not period.month:
                raise ValueError("monthly period required")
        except ValueError:
            err("period", raw.get("period"), "invalid_period", _("The period must be a month: YYYY-MM."))
            continue
        code = clean_text(raw.get("currency")).upper()
        if code not in currencies:
            err("currency", code, "unknown_currency",
                _("%(c)s is not an ISO 4217 currency code.") % {"c": code or "—"})
            continue
        try:
            rate = Decimal(clean_text(raw.get("rate")).replace(",", ""))
            units = Decimal(clean_text(raw.get("units")) or "1")
            if not rate.is_finite() or rate <= 0 or units <= 0:
                raise ValueError
        except (ArithmeticError, ValueError):
            err("rate", raw.get("rate"), "invalid_rate", _("The rate must be a positive number."))
            continue
        key = (code, period.year, period.month)
        if key in seen:
            err("currency", code, "duplicate", _("%(c)s appears twice for %(p)s.") % {"c": code, "p": period})
            continue
        seen.add(key)
        with localcontext(Context(prec=40)):
            per_unit = (rate / units).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)
        parsed.append((code, period.year, period.month, per_unit))
    return parsed, errors


def save_rates(parsed: list[tuple], user, source: str = "") -> int:
    """Upsert the parsed rates (all-or-nothing, the caller holds the transaction); changes are audited."""
    from tradepilot.core import audit
    from tradepilot.core.models import Currency

    currencies = {c.code: c for c in Currency.objects.filter(code__in={p[0] for p in parsed})}
    changed = 0
    for code, year, month, per_unit in parsed:
        obj, created = ExchangeRate.objects.get_or_create(
            currency=currencies[code], year=year, month=month,
            defaults={"cny_per_unit": per_unit, "source": source, "uploaded_by": user},
        )
        if created:
            audit.record(user, "rate:create", obj, changes={"cny_per_unit": [None, per_unit]}, reason=source)
            changed += 1
        elif obj.cny_per_unit != per_unit:
            audit.record(user, "rate:update", obj, changes={"cny_per_unit": [obj.cny_per_unit, per_unit]}, reason=source)
            obj.cny_per_unit, obj.source, obj.uploaded_by = per_unit, source, user
            obj.save()
            changed += 1
    return changed
