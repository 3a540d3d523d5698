"""Permission-matrix rows for the governance results pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.

Targets are Beijing's: its 2019 results report and its experience cases (made in the cell's transaction).
Results reports are for the ministry, auditors, departments and bureaus (enterprise users: 403 before any
lookup); other regions' bureaus get 404 for Beijing's; only Beijing's bureau writes, only the ministry reviews.
Published experiences, the library and the adoption table are public (anonymous too); an unpublished case is
404 outside the scope. Adoption is recorded by another pilot area's bureau (Hangzhou): Beijing's own bureau is
refused (its own case: 409 in the API, nothing happens on the page), Zhejiang's bureau is no pilot area (403).
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from tradepilot.core.tests.test_permission_matrix import B, D, M, O, Op, effect
from tradepilot.governance.models import Adoption, ExperienceCase, ResultsReport, ReviewStatus

GOV = "/governance"
TEXT = {"title": "矩阵测试经验", "problem": "问题", "measure": "举措", "effect": "成效"}
PUBLISHED_AT = dt.datetime(2019, 3, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def bj_report(c, status: str = ReviewStatus.DRAFT, pulled: bool = True) -> None:
    """Beijing's 2019 results report, with a narrative and (unless `pulled` is False) pulled figures."""
    c.report = ResultsReport.objects.create(area=c.gov.area_bj, year=2019, narrative="北京2019年试点成效",
                                            figures_at=timezone.now() if pulled else None, status=status)


def bj_case(c, status: str = ReviewStatus.DRAFT) -> None:
    c.case = ExperienceCase.objects.create(
        area=c.gov.area_bj, **TEXT, status=status,
        published_at=PUBLISHED_AT if status == ReviewStatus.APPROVED else None)


def published(c) -> None:
    bj_case(c, ReviewStatus.APPROVED)


def report_is(*statuses):
    return lambda c: ResultsReport.objects.get(pk=c.report.pk).status in statuses


def case_is(*statuses):
    return lambda c: ExperienceCase.objects.get(pk=c.case.pk).status in statuses


def rurl(name: str):
    return lambda c: reverse(f"governance:{name}", args=[c.report.pk])


def curl(name: str):
    return lambda c: reverse(f"governance:{name}", args=[c.case.pk])


READERS = (D, O, O, O, O, M, M, D, D)        # Beijing's records: read by national roles, departments, own bureau
OWN_BUREAU = (D, D, D, D, O, M, M, D, D)      # written by Beijing's bureau only
MINISTRY = (D, O, D, D, D, M, M, D, D)        # reviewed by the ministry only
PUBLIC = (O, O, O, O, O, O, O, O, O)

WEB: dict = {
    #                                              anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
    "GET governance:results_reports":              (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "POST governance:results_report_create":       OWN_BUREAU,
    "GET governance:results_report":               READERS,
    "POST governance:results_report":              OWN_BUREAU,
    "POST governance:results_report_pull":         OWN_BUREAU,
    "POST governance:results_report_submit":       OWN_BUREAU,
    "POST governance:results_report_review":       MINISTRY,
    "GET governance:results_report_export":        READERS,
    "GET governance:results_experiences":          PUBLIC,
    "GET governance:results_experience":           PUBLIC,
    # an unpublished case: only within the scope (404 for everyone else, anonymous included)
    "GET governance:results_experience [draft]":   (M,  O,       O,      O,     O,     M,     M,     M,     M),
    # the form: bureaus of pilot areas (Zhejiang's province bureau is none)
    "GET governance:results_experience_new":       (D,  D,       D,      D,     O,     O,     D,     D,     D),
    "POST governance:results_experience_new":      OWN_BUREAU,
    "GET governance:results_experience_edit":      OWN_BUREAU,
    "POST governance:results_experience_edit":     OWN_BUREAU,
    "POST governance:results_experience_submit":   OWN_BUREAU,
    "POST governance:results_experience_review":   MINISTRY,
    "POST governance:results_experience_adopt":    (D,  D,       D,      D,     D,     O,     D,     D,     D),
    "GET governance:results_adoptions":            PUBLIC,
}

WEB_OPS: dict = {
    "GET governance:results_reports": Op(lambda c: c.web().get(reverse("governance:results_reports"))),
    "POST governance:results_report_create": Op(
        lambda c: c.web().post(reverse("governance:results_report_create"), {"area": c.gov.area_bj.pk, "year": 2019}),
        judge=effect(lambda c: ResultsReport.objects.filter(area=c.gov.area_bj, year=2019).exists())),
    "GET governance:results_report": Op(lambda c: c.web().get(rurl("results_report")(c)), prepare=bj_report),
    "POST governance:results_report": Op(
        lambda c: c.web().post(rurl("results_report")(c), {"narrative": "矩阵修改"}), prepare=bj_report,
        judge=effect(lambda c: ResultsReport.objects.get(pk=c.report.pk).narrative == "矩阵修改")),
    "POST governance:results_report_pull": Op(
        lambda c: c.web().post(rurl("results_report_pull")(c)), prepare=lambda c: bj_report(c, pulled=False),
        judge=effect(lambda c: ResultsReport.objects.get(pk=c.report.pk).figures_at is not None)),
    "POST governance:results_report_submit": Op(
        lambda c: c.web().post(rurl("results_report_submit")(c)), prepare=bj_report,
        judge=effect(report_is(ReviewStatus.SUBMITTED))),
    "POST governance:results_report_review": Op(
        lambda c: c.web().post(rurl("results_report_review")(c), {"decision": "approve"}),
        prepare=lambda c: bj_report(c, ReviewStatus.SUBMITTED), judge=effect(report_is(ReviewStatus.APPROVED))),
    "GET governance:results_report_export": Op(lambda c: c.web().get(rurl("results_report_export")(c)),
                                               prepare=bj_report),
    "GET governance:results_experiences": Op(lambda c: c.web().get(reverse("governance:results_experiences")),
                                             prepare=published),
    "GET governance:results_experience": Op(lambda c: c.web().get(curl("results_experience")(c)), prepare=published),
    "GET governance:results_experience [draft]": Op(lambda c: c.web().get(curl("results_experience")(c)),
                                                    prepare=bj_case),
    "GET governance:results_experience_new": Op(lambda c: c.web().get(reverse("governance:results_experience_new"))),
    "POST governance:results_experience_new": Op(
        lambda c: c.web().post(reverse("governance:results_experience_new"), {"area": c.gov.area_bj.pk, **TEXT}),
        judge=effect(lambda c: ExperienceCase.objects.filter(area=c.gov.area_bj, title=TEXT["title"]).exists())),
    "GET governance:results_experience_edit": Op(lambda c: c.web().get(curl("results_experience_edit")(c)),
                                                 prepare=bj_case),
    "POST governance:results_experience_edit": Op(
        lambda c: c.web().post(curl("results_experience_edit")(c), {**TEXT, "title": "矩阵改名"}), prepare=bj_case,
        judge=effect(lambda c: ExperienceCase.objects.get(pk=c.case.pk).title == "矩阵改名")),
    "POST governance:results_experience_submit": Op(
        lambda c: c.web().post(curl("results_experience_submit")(c)), prepare=bj_case,
        judge=effect(case_is(ReviewStatus.SUBMITTED))),
    "POST governance:results_experience_review": Op(
        lambda c: c.web().post(curl("results_experience_review")(c), {"decision": "approve"}),
        prepare=lambda c: bj_case(c, ReviewStatus.SUBMITTED), judge=effect(case_is(ReviewStatus.APPROVED))),
    "POST governance:results_experience_adopt": Op(
        lambda c: c.web().post(curl("results_experience_adopt")(c), {"adopted_on": "2019-06-01", "note": "矩阵"}),
        prepare=published, judge=effect(lambda c: Adoption.objects.filter(case=c.case).exists())),
    "GET governance:results_adoptions": Op(lambda c: c.web().get(reverse("governance:results_adoptions")),
                                           prepare=published),
}

API: dict = {
    #                                                        anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
    "GET /governance/results-reports":                       (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "POST /governance/results-reports":                      OWN_BUREAU,
    "GET /governance/results-reports/{report_id}":           READERS,
    "PATCH /governance/results-reports/{report_id}":         OWN_BUREAU,
    "POST /governance/results-reports/{report_id}/pull-figures": OWN_BUREAU,
    "POST /governance/results-reports/{report_id}/submit":   OWN_BUREAU,
    "POST /governance/results-reports/{report_id}/review":   MINISTRY,
    "GET /governance/experiences":                           PUBLIC,
    "GET /governance/experiences/adoptions":                 PUBLIC,
    "GET /governance/experiences/{case_id}":                 PUBLIC,
    "POST /governance/experiences":                          OWN_BUREAU,
    "PATCH /governance/experiences/{case_id}":               OWN_BUREAU,
    "POST /governance/experiences/{case_id}/submit":         OWN_BUREAU,
    "POST /governance/experiences/{case_id}/review":         MINISTRY,
    # Beijing's bureau may not adopt Beijing's own case (409); Zhejiang's is no pilot area's bureau (403)
    "POST /governance/experiences/{case_id}/adoptions":      (D,  D,       D,      D,     B,     O,     D,     D,     D),
}


def _rid(c) -> str:
    return f"{GOV}/results-reports/{c.report.pk}"


def _cid(c) -> str:
    return f"{GOV}/experiences/{c.case.pk}"


API_OPS: dict = {
    "GET /governance/results-reports": Op(lambda c: c.api("GET", f"{GOV}/results-reports"), prepare=bj_report),
    "POST /governance/results-reports": Op(
        lambda c: c.api("POST", f"{GOV}/results-reports", {"area": "110000", "year": 2019})),
    "GET /governance/results-reports/{report_id}": Op(lambda c: c.api("GET", _rid(c)), prepare=bj_report),
    "PATCH /governance/results-reports/{report_id}": Op(
        lambda c: c.api("PATCH", _rid(c), {"narrative": "矩阵修改"}), prepare=bj_report),
    "POST /governance/results-reports/{report_id}/pull-figures": Op(
        lambda c: c.api("POST", f"{_rid(c)}/pull-figures"), prepare=lambda c: bj_report(c, pulled=False)),
    "POST /governance/results-reports/{report_id}/submit": Op(lambda c: c.api("POST", f"{_rid(c)}/submit"),
                                                              prepare=bj_report),
    "POST /governance/results-reports/{report_id}/review": Op(
        lambda c: c.api("POST", f"{_rid(c)}/review", {"decision": "approve"}),
        prepare=lambda c: bj_report(c, ReviewStatus.SUBMITTED)),
    "GET /governance/experiences": Op(lambda c: c.api("GET", f"{GOV}/experiences"), prepare=published),
    "GET /governance/experiences/adoptions": Op(lambda c: c.api("GET", f"{GOV}/experiences/adoptions"),
                                                prepare=published),
    "GET /governance/experiences/{case_id}": Op(lambda c: c.api("GET", _cid(c)), prepare=published),
    "POST /governance/experiences": Op(lambda c: c.api("POST", f"{GOV}/experiences", {"area": "110000", **TEXT})),
    "PATCH /governance/experiences/{case_id}": Op(lambda c: c.api("PATCH", _cid(c), {"title": "矩阵改名"}),
                                                  prepare=bj_case),
    "POST /governance/experiences/{case_id}/submit": Op(lambda c: c.api("POST", f"{_cid(c)}/submit"),
                                                        prepare=bj_case),
    "POST /governance/experiences/{case_id}/review": Op(
        lambda c: c.api("POST", f"{_cid(c)}/review", {"decision": "approve"}),
        prepare=lambda c: bj_case(c, ReviewStatus.SUBMITTED)),
    "POST /governance/experiences/{case_id}/adoptions": Op(
        lambda c: c.api("POST", f"{_cid(c)}/adoptions", {"adopted_on": "2019-06-01", "note": "矩阵"}),
        prepare=published),
}
