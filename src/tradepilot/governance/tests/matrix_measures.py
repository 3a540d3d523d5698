"""Permission-matrix rows for the governance measures pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.

The target is Beijing's first opening measure (an `AreaMeasure` of `ctx.gov.area_bj`). The measure pages are for
the ministry, auditors, departments and bureaus (enterprise users are refused, 403, before any lookup); bureaus of
other regions get 404 for Beijing's rows; only Beijing's own bureau changes them (everyone else who reads them:
403). The programme's measure page itself is readable by every reader role (each sees the areas in its scope).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tradepilot.core.tests.test_permission_matrix import B, D, M, O, Op, effect
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus

GOV = "/governance"


def am_bj(c) -> AreaMeasure:
    """Beijing × its first opening measure (cached on the cell's context)."""
    if not hasattr(c, "_am_bj"):
        c._am_bj = (AreaMeasure.objects.select_related("area__region", "measure")
                    .filter(area=c.gov.area_bj).order_by("measure__order").first())
    return c._am_bj


def with_effect(c) -> None:
    c.effect = MeasureEffect.objects.create(area_measure=am_bj(c), year=2019, quarter=1, indicator="enterprises",
                                            value=Decimal(5))


def effect_exists(c) -> bool:
    return MeasureEffect.objects.filter(area_measure=am_bj(c), year=2019, quarter=2, indicator="enterprises",
                                        value=Decimal(7)).exists()


def effects_csv(c) -> SimpleUploadedFile:
    am = am_bj(c)
    content = f"area,measure,year,quarter,indicator,value\n{am.area.region.code},{am.measure.code},2019,2,enterprises,7\n"
    return SimpleUploadedFile("effects.csv", content.encode(), content_type="text/csv")


def _http_class(response) -> str:
    # defined below the line that imports this module: looked up when a cell runs
    from tradepilot.core.tests.test_permission_matrix import http_class

    return http_class(response, anonymous=False)


def judge_import_page(c, response) -> str:
    """The upload page: 200 = every row valid; 400 listing an unknown area = not the user's (missing)."""
    if response.status_code == 200:
        return O
    if response.status_code == 400:
        return M if b'data-code="unknown_area"' in response.content else B
    return _http_class(response)


def judge_import_api(c, response) -> str:
    if response.status_code not in (200, 400):
        return _http_class(response)
    body = response.json()
    if body.get("ok"):
        return O
    return M if any(e.get("code") == "unknown_area" for e in body.get("errors", [])) else B


def stored_upload(c) -> None:
    """The acting bureau's checked file with a row for Beijing (other roles cannot upload: a token of nothing)."""
    from tradepilot.governance import measure_imports

    c.token = "0" * 64 + ".csv"
    if c.user is not None and measure_imports.may_import(c.user):
        c.token, _path = measure_imports.store_upload(effects_csv(c), c.user)


def judge_commit(c, response) -> str:
    if effect_exists(c):
        return O
    return judge_import_page(c, response)


def impl_url(c) -> str:
    return reverse("governance:measures_implementation", args=[am_bj(c).pk])


#                                                   anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
WEB: dict = {
    # the grid: every reader role (rows scoped); enterprises are refused
    "GET governance:measures_matrix":                   (D, O, O, O, O, O, O, D, D),
    "GET governance:measures_matrix [xlsx]":            (D, O, O, O, O, O, O, D, D),
    "GET governance:measures_area":                     (D, O, O, O, O, M, M, D, D),
    "GET governance:measures_implementation":           (D, O, O, O, O, M, M, D, D),
    # only Beijing's own bureau records Beijing's measures
    "POST governance:measures_implementation [save]":   (D, D, D, D, O, M, M, D, D),
    "POST governance:measures_implementation [effect]": (D, D, D, D, O, M, M, D, D),
    "POST governance:measures_implementation [delete_effect]": (D, D, D, D, O, M, M, D, D),
    "GET governance:measures_measure":                  (D, O, O, O, O, O, O, D, D),
    # uploads are the bureaus'; a row for Beijing is "unknown area" to another region's bureau
    # Zhejiang's provincial bureau has no pilot area of its own: it uploads no effects.
    "GET governance:measures_import":                   (D, D, D, D, O, O, D, D, D),
    "POST governance:measures_import":                  (D, D, D, D, O, M, D, D, D),
    "POST governance:measures_import_commit":           (D, D, D, D, O, M, D, D, D),
    "GET governance:measures_import_template":          (D, D, D, D, O, O, D, D, D),
}

API: dict = {
    f"GET {GOV}/measures/implementation":                       (D, O, O, O, O, O, O, D, D),
    f"GET {GOV}/measures/implementation/{{am_id}}":             (D, O, O, O, O, M, M, D, D),
    f"PATCH {GOV}/measures/implementation/{{am_id}}":           (D, D, D, D, O, M, M, D, D),
    f"GET {GOV}/measures/implementation/{{am_id}}/effects":     (D, O, O, O, O, M, M, D, D),
    f"POST {GOV}/measures/implementation/{{am_id}}/effects":    (D, D, D, D, O, M, M, D, D),
    f"DELETE {GOV}/measures/implementation/{{am_id}}/effects/{{effect_id}}": (D, D, D, D, O, M, M, D, D),
    f"POST {GOV}/measures/effects/import":                      (D, D, D, D, O, M, D, D, D),
}

WEB_OPS: dict = {
    "GET governance:measures_matrix": Op(lambda c: c.web().get(reverse("governance:measures_matrix"))),
    "GET governance:measures_matrix [xlsx]": Op(
        lambda c: c.web().get(reverse("governance:measures_matrix"), {"format": "xlsx"})),
    "GET governance:measures_area": Op(
        lambda c: c.web().get(reverse("governance:measures_area", args=[c.gov.area_bj.pk]))),
    "GET governance:measures_implementation": Op(lambda c: c.web().get(impl_url(c))),
    "POST governance:measures_implementation [save]": Op(
        lambda c: c.web().post(impl_url(c), {"action": "save", "status": "in_progress", "implemented_on": "",
                                             "enabling_document": "《矩阵测试文件》", "legal_basis": "",
                                             "note": "", "reason": "matrix"}),
        judge=effect(lambda c: AreaMeasure.objects.get(pk=am_bj(c).pk).status == MeasureStatus.IN_PROGRESS)),
    "POST governance:measures_implementation [effect]": Op(
        lambda c: c.web().post(impl_url(c), {"action": "effect", "period": "2019Q2", "indicator": "enterprises",
                                             "value": "7"}),
        judge=effect(effect_exists)),
    "POST governance:measures_implementation [delete_effect]": Op(
        lambda c: c.web().post(impl_url(c), {"action": "delete_effect", "effect": c.effect.pk}),
        prepare=with_effect, judge=effect(lambda c: not MeasureEffect.objects.filter(pk=c.effect.pk).exists())),
    "GET governance:measures_measure": Op(
        lambda c: c.web().get(reverse("governance:measures_measure", args=[am_bj(c).measure_id]))),
    "GET governance:measures_import": Op(lambda c: c.web().get(reverse("governance:measures_import"))),
    "POST governance:measures_import": Op(
        lambda c: c.web().post(reverse("governance:measures_import"), {"file": effects_csv(c)}),
        judge=judge_import_page, judge_bad=True),
    "POST governance:measures_import_commit": Op(
        lambda c: c.web().post(reverse("governance:measures_import_commit"), {"token": c.token}),
        prepare=stored_upload, judge=judge_commit, judge_bad=True),
    "GET governance:measures_import_template": Op(
        lambda c: c.web().get(reverse("governance:measures_import_template", args=["xlsx"]))),
}


def _impl(c) -> str:
    return f"{GOV}/measures/implementation/{am_bj(c).pk}"


API_OPS: dict = {
    f"GET {GOV}/measures/implementation": Op(lambda c: c.api("GET", f"{GOV}/measures/implementation")),
    f"GET {GOV}/measures/implementation/{{am_id}}": Op(lambda c: c.api("GET", _impl(c))),
    f"PATCH {GOV}/measures/implementation/{{am_id}}": Op(
        lambda c: c.api("PATCH", _impl(c), {"status": "in_progress", "reason": "matrix"})),
    f"GET {GOV}/measures/implementation/{{am_id}}/effects": Op(lambda c: c.api("GET", f"{_impl(c)}/effects")),
    f"POST {GOV}/measures/implementation/{{am_id}}/effects": Op(
        lambda c: c.api("POST", f"{_impl(c)}/effects", {"year": 2019, "quarter": 2, "indicator": "enterprises",
                                                        "value": "7"})),
    f"DELETE {GOV}/measures/implementation/{{am_id}}/effects/{{effect_id}}": Op(
        lambda c: c.api("DELETE", f"{_impl(c)}/effects/{c.effect.pk}"), prepare=with_effect),
    f"POST {GOV}/measures/effects/import": Op(
        lambda c: c.api("POST", f"{GOV}/measures/effects/import?dry_run=false", files={"file": effects_csv(c)}),
        judge=judge_import_api, judge_bad=True),
}
