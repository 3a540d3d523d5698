"""Server-rendered pages: the annual forms' page and a rejected monthly save keeping what was typed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from tradepilot.reporting.models import FatsInward, MonthlyLine, Report


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 3, 1))


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_annual_fats_form_is_filled_submitted_and_approved_in_the_ui(world, rates):
    ent = client_for(world.ent_bj)
    assert ent.get("/reporting/my/").status_code == 200
    r = ent.post("/reporting/open/", {"enterprise": world.bj.pk, "period": "2025", "form": "fats_in"})
    report = Report.objects.get(enterprise=world.bj, form__code="fats_in", year=2025)
    assert r.url == f"/reporting/reports/{report.pk}/"
    form = {"ultimate_parent_country": "JP", "activity": "65", "turnover": "900", "services_sales": "700",
            "employment": "80", "compensation": "150", "value_added": "300", "exports": "90", "imports": "20",
            "total_assets": "1200", "rd_expenditure": "40", "component:SI": "700", "action": "submit"}
    bad = ent.post(r.url, dict(form, turnover="abc"))
    assert bad.status_code == 200 and "abc" in bad.content.decode()  # kept on screen with the error
    assert not FatsInward.objects.filter(report=report).exists()
    ok = ent.post(r.url, form)
    assert ok.status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted" and report.fats_in.services_sales == 700
    bureau = client_for(world.bureau_bj)
    assert bureau.post(r.url, {"action": "approve"}).status_code == 302
    report.refresh_from_db()
    assert report.status == "accepted"


@pytest.mark.django_db
def test_rejected_monthly_save_keeps_the_typed_lines_and_reports_only_their_errors(world, rates, monkeypatch):
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 10, 25))
    ent = client_for(world.ent_bj)
    ent.post("/reporting/open/", {"enterprise": world.bj.pk, "period": "2026-09"})
    report = Report.objects.get(enterprise=world.bj, year=2026, month=9)
    page = ent.post(f"/reporting/reports/{report.pk}/", {
        "direction": ["X", "M"], "service": ["SI2", "SI"], "partner": ["US", "JP"], "mode": ["1", "1"],
        "amount": ["1000", "-250"], "currency": ["USD", "USD"], "note": ["", "典型备注"], "action": "save",
    })
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="-250"' in html and "典型备注" in html
    assert html.count('class="error"') >= 2  # aggregate code and negative amount, on line 2
    assert "nil return" not in html.lower()
    assert MonthlyLine.objects.filter(report=report).count() == 0


@pytest.mark.django_db
def test_bulk_approve_never_redirects_off_site(world, rates):
    bureau = client_for(world.bureau_bj)
    r = bureau.post("/reporting/workbench/bulk-approve/", {"next": "https://evil.example/phish"})
    assert r.status_code == 302 and r.url == "/reporting/workbench/"
    r = bureau.post("/reporting/workbench/bulk-approve/", {"next": "/reporting/workbench/?status=submitted"})
    assert r.url == "/reporting/workbench/?status=submitted"


@pytest.mark.django_db
def test_ministry_overview_shows_completeness_by_region_and_a_twelve_month_trend(world, rates, monkeypatch):
    from tradepilot.reporting.tests.test_workflow_api import LINES, Api

    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 10, 25))
    api = Api(world.ent_bj)
    rid = api.post("/reports", {"enterprise_id": world.bj.id, "period": "2026-09"}).json()["id"]
    api.put(f"/reports/{rid}/lines", {"lines": LINES})
    api.post(f"/reports/{rid}/submit")
    page = client_for(world.ministry).get("/reporting/overview/?period=2026-09")
    ctx = page.context
    assert ctx["total"].expected == 3 and ctx["total"].submitted == 1
    assert [r.region_code for r in ctx["rows"]] == ["110000", "330000"]
    assert len(ctx["trend"]) == 12 and ctx["trend"][0]["total"].submitted == 1
    assert [e.pk for e in ctx["missing"]] == [world.bj2.pk, world.hz.pk]  # by region, then name
    csv = client_for(world.ministry).get("/reporting/overview/?period=2026-09&format=csv").content.decode("utf-8-sig")
    assert csv.splitlines()[1].startswith("110000,")
