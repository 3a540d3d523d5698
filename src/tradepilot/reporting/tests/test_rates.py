"""Currency conversion (Decimal, half-up to the cent) and the rate upload."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from tradepilot.core.models import AuditLog
from tradepilot.reporting.models import ExchangeRate
from tradepilot.reporting.rate_upload import RateUploadError, upload_rates
from tradepilot.reporting.rates import CENT, MissingRate, convert

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999999999999.99"), places=2)
# Central parities span from about 0.0003 (IDR, VND) to about 25 (KWD) yuan per unit; test well beyond both ends.
rates = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("100000"), places=8)


@given(amounts)
def test_usd_converts_to_itself(amount):
    assert convert(amount, "USD", {}, 2026, 1) == amount


@given(amounts, rates, rates)
def test_conversion_is_exact_then_rounded_half_up(amount, rate, usd):
    result = convert(amount, "EUR", {"EUR": rate, "USD": usd}, 2026, 1)
    # Reference computed with Python integers: no decimal context can lose digits here.
    num = int(amount * 100) * int(rate * 10**8)
    den = int(usd * 10**8)
    cents, rest = divmod(num, den)
    if 2 * rest >= den:
        cents += 1
    assert result == Decimal(cents).scaleb(-2)
    assert result == result.quantize(CENT)
    assert isinstance(result, Decimal)


@given(amounts, rates)
def test_cny_needs_only_the_usd_rate(amount, usd):
    from decimal import Context, localcontext

    with localcontext(Context(prec=60)):
        expected = (amount / usd).quantize(CENT, rounding=ROUND_HALF_UP)
    assert convert(amount, "CNY", {"CNY": Decimal(1), "USD": usd}, 2026, 1) == expected


@given(amounts)
def test_missing_rates_name_the_currency(amount):
    with pytest.raises(MissingRate) as exc:
        convert(amount, "EUR", {"USD": Decimal("7.1")}, 2026, 3)
    assert exc.value.currency == "EUR" and "2026-03" in str(exc.value)
    with pytest.raises(MissingRate) as exc:
        convert(amount, "EUR", {"EUR": Decimal("7.7")}, 2026, 3)
    assert exc.value.currency == "USD"


def csv_file(text: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("rates.csv", text.encode(encoding), content_type="text/csv")


@pytest.mark.django_db
def test_rate_upload_is_all_or_nothing_with_located_errors(world):
    good = "period,currency,rate,units\n2026-10,USD,7.1186,1\n2026-10,JPY,4.7361,100\n2026-10,EUR,8.2571,1\n"
    assert upload_rates(csv_file(good), world.ministry) == (3, 3)
    jpy = ExchangeRate.objects.get(currency__code="JPY", year=2026, month=10)
    assert jpy.cny_per_unit == Decimal("0.04736100")
    assert upload_rates(csv_file(good), world.ministry) == (3, 0)  # re-upload changes nothing
    bad = "报告期,币种,中间价\n2026-11,USD,7.2\n2026-13,EUR,8\n2026-11,ABC,1\n2026-11,GBP,-3\n"
    with pytest.raises(RateUploadError) as exc:
        upload_rates(csv_file(bad, "gb18030"), world.ministry)
    assert [(e["row"], e["field"], e["code"]) for e in exc.value.errors] == [
        (3, "period", "invalid_period"), (4, "currency", "unknown_currency"), (5, "rate", "invalid_rate")]
    assert not ExchangeRate.objects.filter(year=2026, month=11).exists()
    changed = "period,currency,rate\n2026-10,USD,7.2000\n"
    upload_rates(csv_file(changed), world.ministry)
    entry = AuditLog.objects.filter(action="rate:update").get()
    assert entry.changes == {"cny_per_unit": ["7.11860000", "7.20000000"]}
