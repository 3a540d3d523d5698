"""Opening-measure pages, downloads and API operations, and the demo data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from tradepilot.core.models import AuditLog, PilotRound
from tradepilot.core.tokens import issue_token
from tradepilot.governance import measures
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus
from tradepilot.governance.tests.measures_fixtures import (  # noqa: F401 - fixtures
    area,
    area_measure,
    loaded_programme,
    programme,
    reference,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/governance/measures/implementation"
BASIS = "国函〔2018〕79号 附件2"

def shown(text: str, **kwargs) -> str:
    """`text` as the default (Chinese-first) interface shows it."""
    with translation.override(settings.LANGUAGE_CODE):
        message = translation.gettext(text)
    return message % kwargs if kwargs else message



def client_of(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def api(user, method: str, path: str, data=None):
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    c = Client()
    if method == "GET":
        return c.get(path, data or {}, headers=headers)
    return getattr(c, method.lower())(path, json.dumps(data or {}), content_type="application/json",
                                      headers=headers)


def implement(region: str, code: str, day: str = "2019-03-01", document: str = "") -> AreaMeasure:
    am = area_measure(region, code)
    AreaMeasure.objects.filter(pk=am.pk).update(status=MeasureStatus.IMPLEMENTED, legal_basis=BASIS,
                                                implemented_on=dt.date.fromisoformat(day),
                                                enabling_document=document)
    return AreaMeasure.objects.get(pk=am.pk)


# --- the grid ----------------------------------------------------------------------------------------------------

def test_the_ministry_sees_every_area_and_a_province_only_its_city(world):
    grid = client_of(world.ministry).get(reverse("governance:measures_matrix")).context["grid"]
    assert len(grid.rows) == 17 and [m.code for m in grid.measures] == [f"M{i}" for i in range(1, 9)]
    grid = client_of(world.bureau_zj).get(reverse("governance:measures_matrix")).context["grid"]
    assert [r.area.region.code for r in grid.rows] == ["330100"]
    assert client_of(world.ent_hz).get(reverse("governance:measures_matrix")).status_code == 403


def test_the_grid_filters_by_domain_and_status(world):
    implement("330100", "M6")
    c = client_of(world.ministry)
    grid = c.get(reverse("governance:measures_matrix"), {"domain": "专业服务"}).context["grid"]
    assert [m.code for m in grid.measures] == ["M6", "M7", "M8"]
    response = c.get(reverse("governance:measures_matrix"), {"status": "implemented"})
    grid = response.context["grid"]
    assert [r.area.region.code for r in grid.rows] == ["330100"]
    assert [am.measure.code for am in grid.rows[0].cells if am] == ["M6"]
    assert (grid.rows[0].implemented, grid.rows[0].applicable) == (1, 8)
    empty = c.get(reverse("governance:measures_matrix"), {"status": "not_applicable"})
    assert empty.context["grid"].empty and shown("No area has a measure matching these filters.") in empty.content.decode()


def test_the_grid_downloads_hold_the_statuses_and_details(world):
    implement("330100", "M1", "2019-03-01", "《杭州市深化服务贸易创新发展试点实施方案》")
    AreaMeasure.objects.filter(pk=area_measure("330100", "M4").pk).update(status=MeasureStatus.NOT_APPLICABLE)
    c = client_of(world.bureau_hz)
    response = c.get(reverse("governance:measures_matrix"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    with translation.override(settings.LANGUAGE_CODE):  # pages answer in the default language
        labels = [gettext(t) for t in ("Region code", "Pilot area", "Implemented", "Not applicable")]
    header = rows[1]
    assert header[:3] == [labels[0], labels[1], "M1"] and len(header) == 2 + 8 + 3
    hz = rows[2]
    assert hz[0] == "330100" and hz[2] == f"{labels[2]} 2019-03-01" and hz[5] == labels[3]
    assert hz[-3:] == ["1", "7", "0.1429"]
    assert len([r for r in rows if r and r[0].isdigit() and len(r[0]) == 6]) == 1  # Hangzhou's bureau: one area

    wb = load_workbook(io.BytesIO(c.get(reverse("governance:measures_matrix"), {"format": "xlsx"}).content))
    details = list(wb["details"].iter_rows(values_only=True))
    m1 = next(r for r in details if r[2] == "M1")
    assert m1[5:8] == ("implemented", "2019-03-01", "《杭州市深化服务贸易创新发展试点实施方案》")
    share = wb["grid"].cell(row=3, column=wb["grid"].max_column)
    assert str(share.value) == "0.1429" and share.number_format == "0.00%"  # read back as a number


# --- one area, one area measure ----------------------------------------------------------------------------------

def test_the_area_page_offers_edit_forms_only_to_the_areas_bureau(world):
    url = reverse("governance:measures_area", args=[area("330100").pk])
    own = client_of(world.bureau_hz).get(url)
    assert own.status_code == 200 and own.context["can_edit"] and b"quick-edit" in own.content
    province = client_of(world.bureau_zj).get(url)
    assert province.status_code == 200 and not province.context["can_edit"] and b"quick-edit" not in province.content
    assert client_of(world.bureau_bj).get(url).status_code == 404


def test_saving_from_the_page_shows_the_errors_and_audits_a_change(world):
    am = area_measure("330100", "M1")
    url = reverse("governance:measures_implementation", args=[am.pk])
    c = client_of(world.bureau_hz)
    form = {"action": "save", "status": "implemented", "implemented_on": "", "enabling_document": "",
            "legal_basis": "", "note": ""}
    response = c.post(url, form)
    assert response.status_code == 400
    assert set(response.context["errors"]) == {"implemented_on", "legal_basis"}
    form.update(implemented_on="2019-01-15", legal_basis=BASIS, reason="实施方案印发")
    assert c.post(url, form).status_code == 302
    am.refresh_from_db()
    assert am.status == MeasureStatus.IMPLEMENTED
    page = c.get(url)
    assert "实施方案印发" in page.content.decode() and page.context["history"][0].action == "measure:update"
    # the province reads the page but cannot save
    assert client_of(world.bureau_zj).post(url, {**form, "status": "in_progress"}).status_code == 403


def test_effects_are_entered_and_deleted_on_the_page(world):
    am = area_measure("330100", "M1")
    url = reverse("governance:measures_implementation", args=[am.pk])
    c = client_of(world.bureau_hz)
    bad = c.post(url, {"action": "effect", "period": "2019Q1", "indicator": "amount", "value": "1.234"})
    assert bad.status_code == 400 and set(bad.context["effect_errors"]) == {"value"}
    assert c.post(url, {"action": "effect", "period": "2019Q1", "indicator": "amount", "value": "12.5"}).status_code == 302
    effect = MeasureEffect.objects.get(area_measure=am)
    assert effect.value == Decimal("12.50")
    assert c.post(url, {"action": "delete_effect", "effect": effect.pk}).status_code == 302
    assert not MeasureEffect.objects.filter(area_measure=am).exists()
    assert list(AuditLog.objects.filter(object_id=str(am.pk)).values_list("action", flat=True).order_by("pk")) == [
        "measure_effect:create", "measure_effect:delete"]


def test_the_measure_page_charts_the_effects_of_the_areas_shown(world):
    hz = implement("330100", "M1", "2018-10-01")
    bj = implement("110000", "M1", "2018-10-01")
    for am, value in ((hz, 5), (bj, 7)):
        MeasureEffect.objects.create(area_measure=am, year=2019, quarter=1, indicator="enterprises", value=value)
    MeasureEffect.objects.create(area_measure=hz, year=2019, quarter=2, indicator="enterprises", value=9)
    url = reverse("governance:measures_measure", args=[hz.measure_id])
    ministry = client_of(world.ministry).get(url)
    assert ministry.context["chart"]["quarters"] == ["2019Q1", "2019Q2"]
    assert ministry.context["chart"]["series"][0]["values"] == ["12.00", "9.00"]
    assert b'id="effects-data"' in ministry.content and b"echarts.min.js" in ministry.content
    zj = client_of(world.bureau_zj).get(url)  # only Hangzhou
    assert [r.area.region.code for r in zj.context["rows"]] == ["330100"]
    assert zj.context["chart"]["series"][0]["values"] == ["5.00", "9.00"]
    one = client_of(world.ministry).get(url, {"area": bj.area_id})
    assert one.context["chart"]["series"][0]["values"] == ["7.00"]
    empty = client_of(world.ministry).get(reverse("governance:measures_measure", args=[area_measure("110000", "M8")
                                                                                       .measure_id]))
    assert shown("No effects have been recorded for this measure yet. The area bureaus add them quarter by quarter "
                  "once the measure is in effect.") in empty.content.decode()


# --- the API -----------------------------------------------------------------------------------------------------

def test_the_list_filters_by_area_measure_and_status(world):
    implement("330100", "M1")
    implement("110000", "M1")
    body = api(world.ministry, "GET", API, {"status": "implemented"}).json()
    assert body["count"] == 2
    body = api(world.ministry, "GET", API, {"area": "330100", "measure": "M1"}).json()
    assert [(i["region_code"], i["measure_code"], i["status"]) for i in body["items"]] == [
        ("330100", "M1", "implemented")]
    assert api(world.bureau_zj, "GET", API).json()["count"] == 8  # Hangzhou's eight
    bad = api(world.ministry, "GET", API, {"status": "finished"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"


def test_patch_validates_scopes_and_audits(world):
    am = area_measure("330100", "M2")
    url = f"{API}/{am.pk}"
    bad = api(world.bureau_hz, "PATCH", url, {"status": "implemented", "implemented_on": "2018-01-01"})
    assert bad.status_code == 400
    assert {e["field"]: e["code"] for e in bad.json()["errors"]} == {"implemented_on": "before_round",
                                                                    "legal_basis": "required"}
    assert api(world.bureau_zj, "PATCH", url, {"status": "in_progress"}).status_code == 403
    assert api(world.bureau_bj, "PATCH", url, {"status": "in_progress"}).status_code == 404
    assert api(world.ministry, "PATCH", url, {"status": "in_progress"}).status_code == 403
    ok = api(world.bureau_hz, "PATCH", url, {"status": "implemented", "implemented_on": "2019-06-30",
                                             "legal_basis": BASIS, "reason": "api"})
    assert ok.status_code == 200 and ok.json()["implemented_on"] == "2019-06-30" and ok.json()["can_edit"]
    assert ok.json()["regulations"][0]["instrument"]  # the quoted regulations come with the detail
    assert AuditLog.objects.get(object_id=str(am.pk), action="measure:update").reason == "api"


def test_effects_through_the_api(world):
    am = area_measure("330100", "M1")
    url = f"{API}/{am.pk}/effects"
    created = api(world.bureau_hz, "POST", url, {"year": 2019, "quarter": 3, "indicator": "amount", "value": "88.8"})
    assert created.status_code == 201 and created.json()["value"] == "88.80"
    replaced = api(world.bureau_hz, "POST", url, {"year": 2019, "quarter": 3, "indicator": "amount", "value": 90})
    assert replaced.status_code == 200 and replaced.json()["id"] == created.json()["id"]
    bad = api(world.bureau_hz, "POST", url, {"year": 2021, "quarter": 1, "indicator": "amount", "value": "1"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "quarter"
    assert [e["period"] for e in api(world.bureau_zj, "GET", url).json()] == ["2019Q3"]
    assert api(world.bureau_zj, "DELETE", f"{url}/{created.json()['id']}").status_code == 403
    assert api(world.bureau_hz, "DELETE", f"{url}/{created.json()['id']}").status_code == 204
    assert api(world.bureau_hz, "DELETE", f"{url}/{created.json()['id']}").status_code == 404
    assert not MeasureEffect.objects.exists()


# --- the demo ----------------------------------------------------------------------------------------------------

def test_the_demo_implements_most_measures_with_rising_effects_and_144_hours_only_in_guangdong(world):
    from tradepilot.governance.demo import DemoContext
    from tradepilot.governance.demo import measures as demo

    rnd = PilotRound.objects.get(code="2018")
    ctx = DemoContext(round=rnd, today=dt.date(2025, 1, 1))
    assert "implemented" in demo.build(ctx)
    rows = AreaMeasure.objects.filter(area__round=rnd).select_related("area__region", "measure")
    visa = [r for r in rows if r.measure.code == "M4"]
    assert {r.area.region.code for r in visa if r.status != MeasureStatus.NOT_APPLICABLE} == {"440300", "440100"}
    assert {r.status for r in visa if r.area.region.code in ("440300", "440100")} == {MeasureStatus.IMPLEMENTED}
    implemented = [r for r in rows if r.status == MeasureStatus.IMPLEMENTED]
    assert len(implemented) > 0.6 * len([r for r in rows if r.status != MeasureStatus.NOT_APPLICABLE])
    assert all(dt.date(2018, 10, 1) <= r.implemented_on <= dt.date(2019, 12, 31) and r.legal_basis
               and r.enabling_document.startswith(f"《{r.area.region.name_zh}") for r in implemented)
    for am in implemented[:10]:
        series = list(am.effects.filter(indicator="enterprises").order_by("year", "quarter")
                      .values_list("value", flat=True))
        assert series and series == sorted(series) and series[-1] > series[0]
        assert (am.effects.order_by("year", "quarter").first().year,) >= (am.implemented_on.year,)
    # every value the demo wrote passes the rules a bureau's input passes
    for e in MeasureEffect.objects.select_related("area_measure__area__round")[:200]:
        assert measures.clean_effect(e.area_measure, e.year, e.quarter, e.indicator, e.value)
    summary = measures.implementation_summary(rnd, 2019)
    assert all(Decimal(0) <= s["share"] <= Decimal(1) for s in summary.values())
    # deterministic: the same seed gives the same statuses
    first = list(rows.order_by("pk").values_list("status", "implemented_on"))
    MeasureEffect.objects.all().delete()
    AreaMeasure.objects.update(status=MeasureStatus.NOT_STARTED, implemented_on=None, enabling_document="",
                               legal_basis="", note="")
    demo.build(DemoContext(round=rnd, today=dt.date(2025, 1, 1)))
    assert list(rows.order_by("pk").values_list("status", "implemented_on")) == first


def test_the_pages_render_the_demo_data_and_say_when_there_is_nothing_to_show(world):
    from tradepilot.conftest import make_user
    from tradepilot.core.models import Role
    from tradepilot.governance.demo import DemoContext
    from tradepilot.governance.demo import measures as demo

    demo.build(DemoContext(round=PilotRound.objects.get(code="2018"), today=dt.date(2025, 1, 1)))
    am = AreaMeasure.objects.filter(status=MeasureStatus.IMPLEMENTED, area__region__code="440300").first()
    for user in (world.ministry, world.agency, world.bureau_zj):
        c = client_of(user)
        assert c.get(reverse("governance:measures_matrix")).status_code == 200
        assert c.get(reverse("governance:measures_measure", args=[am.measure_id])).status_code == 200
    c = client_of(world.ministry)
    assert c.get(reverse("governance:measures_area", args=[am.area_id])).status_code == 200
    page = c.get(reverse("governance:measures_implementation", args=[am.pk]))
    assert page.status_code == 200 and page.context["table"] and b'id="effects-data"' in page.content

    # a bureau whose region holds no pilot area is told so
    xinjiang = make_user("bureau-xinjiang", Role.BUREAU, region="650000")
    page = client_of(xinjiang).get(reverse("governance:measures_matrix"))
    assert page.status_code == 200 and not page.context["areas_visible"]
    assert b"measure-grid" not in page.content
