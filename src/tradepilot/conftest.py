"""Shared fixtures: reference data, the report forms, a few enterprises, users of every role, exchange rates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from tradepilot.core.models import Agency, Currency, Profile, Region, Role
from tradepilot.enterprises.models import Enterprise
from tradepilot.enterprises.uscc import make_uscc
from tradepilot.reporting.models import ExchangeRate


@pytest.fixture(autouse=True)
def english_messages():
    """Service-level tests compare English messages; requests still get zh-Hans through LocaleMiddleware."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def analytics_root(settings, tmp_path):
    """Every test gets its own, empty analytics store: what one test (or the demo command) writes there is not
    what another reads."""
    settings.ANALYTICS_ROOT = tmp_path / "analytics"
    return settings.ANALYTICS_ROOT


def load_reference() -> None:
    from tradepilot.core.reference import load_all
    from tradepilot.reporting.setup import load_defaults

    load_all()
    load_defaults()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database starts with the reference data (divisions, EBOPS, countries, the programme…) and the report
    forms, as every real database does: loaded once per run instead of once per test (each test's changes are
    rolled back)."""
    with django_db_blocker.unblock():
        load_reference()


@pytest.fixture(autouse=True)
def restore_reference_after_flush(request, django_db_blocker):
    """A transactional test ends by emptying every table: load the reference data again for the tests after it.

    Autouse, so it is set up before the database fixtures and torn down after their flush."""
    yield
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or any(
        m.kwargs.get("transaction") for m in request.node.iter_markers("django_db"))
    if transactional:
        with django_db_blocker.unblock():
            load_reference()


@pytest.fixture
def reference(db):
    """The reference data, as loaded for the run (django_db_setup); loaded here only if a test emptied it."""
    if not Region.objects.filter(code="110000").exists():
        load_reference()


def make_enterprise(region_code: str, serial: int, name: str, **kwargs) -> Enterprise:
    region = Region.objects.get(code=region_code)
    defaults = {"is_key_contact": True, "key_contact_year": 2018}
    defaults.update(kwargs)
    return Enterprise.objects.create(uscc=make_uscc(region_code, serial), name=name, region=region, **defaults)


def make_user(username: str, role: str, *, region: str | None = None, enterprises=(), agency: str | None = None):
    user = get_user_model().objects.create_user(username, f"{username}@example.cn", "pw")
    profile = Profile.objects.create(
        user=user, role=role,
        region=Region.objects.get(code=region) if region else None,
        agency=Agency.objects.get(code=agency) if agency else None,
    )
    profile.enterprises.set(enterprises)
    return user


@pytest.fixture
def world(reference):
    """Two enterprises in Beijing (single-level review) and one in Hangzhou (city approves, Zhejiang accepts)."""

    class World:
        pass

    w = World()
    w.bj = make_enterprise("110000", 1, "北京云图数据科技有限公司")
    w.bj2 = make_enterprise("110000", 2, "北京华章咨询有限公司")
    w.hz = make_enterprise("330100", 3, "杭州西湖软件有限公司")
    w.ministry = make_user("ministry", Role.MINISTRY)
    w.auditor = make_user("auditor", Role.AUDITOR)
    w.agency = make_user("customs", Role.AGENCY, agency="GACC")
    w.bureau_bj = make_user("bureau-beijing", Role.BUREAU, region="110000")
    w.bureau_hz = make_user("bureau-hangzhou", Role.BUREAU, region="330100")
    w.bureau_zj = make_user("bureau-zhejiang", Role.BUREAU, region="330000")
    w.ent_bj = make_user("enterprise-bj", Role.ENTERPRISE, enterprises=[w.bj])
    w.ent_bj2 = make_user("enterprise-bj2", Role.ENTERPRISE, enterprises=[w.bj2])
    w.ent_hz = make_user("enterprise-hz", Role.ENTERPRISE, enterprises=[w.hz])
    return w


RATES = {"USD": "7.10000000", "EUR": "7.70000000", "JPY": "0.04800000", "HKD": "0.91000000", "GBP": "9.00000000"}


@pytest.fixture
def rates(reference):
    """Central parities for every month of 2024–2026."""
    currencies = {c.code: c for c in Currency.objects.filter(code__in=RATES)}
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=currencies[code], year=y, month=m, cny_per_unit=Decimal(v))
        for code, v in RATES.items() for y in (2024, 2025, 2026) for m in range(1, 13)
    )
