"""The replicable-experience library: writing, review and publication, public versus scoped visibility, adoption
rules, `adopted_elsewhere`, the adoption table, map and XLSX."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tradepilot.core.models import AuditLog, Notification, PilotArea
from tradepilot.core.tokens import issue_token
from tradepilot.governance import experiences
from tradepilot.governance.models import Adoption, ExperienceCase, ReviewStatus, Task
from tradepilot.governance.results import ResultsError

API = "/api/v1/governance"
TEXT = {"title": "服务贸易通关便利化改革", "problem": "研发设计用样品通关时间长", "measure": "实行分类监管和担保放行",
        "effect": "平均通关时间缩短一半"}


@pytest.fixture
def areas(world, programme):
    found = {a.region.code: a for a in PilotArea.objects.select_related("region", "round")}
    return found


def publish(case: ExperienceCase, on: dt.datetime) -> ExperienceCase:
    ExperienceCase.objects.filter(pk=case.pk).update(status=ReviewStatus.APPROVED,
                                                     published_at=timezone.make_aware(on))
    case.refresh_from_db()
    return case


def make_case(area, user, title="经验", published: dt.datetime | None = None, status=None) -> ExperienceCase:
    case = experiences.create_case(area, user, {**TEXT, "title": title})
    if published:
        return publish(case, published)
    if status:
        ExperienceCase.objects.filter(pk=case.pk).update(status=status)
        case.refresh_from_db()
    return case


@pytest.fixture
def library(world, areas):
    """Hangzhou: a published case, a draft; Beijing: a published case, a submitted and a returned case."""
    bj, hz = areas["110000"], areas["330100"]
    lib = type("Library", (), {})()
    lib.hz_pub = make_case(hz, world.bureau_hz, "杭州：技术贸易无纸化登记", published=dt.datetime(2019, 6, 1, 9))
    lib.hz_draft = make_case(hz, world.bureau_hz, "杭州：草稿经验")
    lib.bj_pub = make_case(bj, world.bureau_bj, "北京：跨境人民币结算便利化", published=dt.datetime(2019, 3, 1, 9))
    lib.bj_submitted = make_case(bj, world.bureau_bj, "北京：待审经验", status=ReviewStatus.SUBMITTED)
    lib.bj_returned = make_case(bj, world.bureau_bj, "北京：退回经验", status=ReviewStatus.RETURNED)
    return lib


# --- writing and review ------------------------------------------------------------------------------------------

def test_bureau_writes_submits_and_the_ministry_publishes(world, areas):
    hz = areas["330100"]
    task = Task.objects.get(round=hz.round, code="5.1")
    case = experiences.create_case(hz, world.bureau_hz, TEXT, [task])
    assert case.status == ReviewStatus.DRAFT and list(case.tasks.all()) == [task]
    case = experiences.update_case(case, world.bureau_hz, {"effect": "通关时间由3天缩短至1天"})
    assert case.effect == "通关时间由3天缩短至1天" and case.title == TEXT["title"]
    case = experiences.submit_case(case, world.bureau_hz)
    assert case.status == ReviewStatus.SUBMITTED and Notification.objects.filter(user=world.ministry).exists()
    with pytest.raises(ResultsError) as frozen:
        experiences.update_case(case, world.bureau_hz, {"title": "改名"})
    assert frozen.value.status == 409
    case = experiences.review_case(case, world.ministry, "approve")
    assert case.is_published and case.published_at is not None and case.reviewed_by == world.ministry
    assert Notification.objects.filter(user=world.bureau_hz, title__contains="published").exists()
    actions = list(AuditLog.objects.filter(object_type="governance.experiencecase", object_id=str(case.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["experience.create", "experience.update", "experience.submit", "experience.publish"]


def test_returned_case_carries_the_note_and_is_editable_again(world, areas):
    case = make_case(areas["330100"], world.bureau_hz)
    experiences.submit_case(case, world.bureau_hz)
    with pytest.raises(ResultsError) as no_note:
        experiences.review_case(case, world.ministry, "return", "  ")
    assert no_note.value.errors[0]["field"] == "note"
    case = experiences.review_case(case, world.ministry, "return", "请补充量化成效。")
    assert (case.status, case.review_note, case.published_at) == (ReviewStatus.RETURNED, "请补充量化成效。", None)
    case = experiences.update_case(case, world.bureau_hz, {"effect": "企业办理时间减少60%"})
    assert experiences.submit_case(case, world.bureau_hz).status == ReviewStatus.SUBMITTED


def test_only_the_own_bureau_writes_and_only_the_ministry_reviews(world, areas, library):
    hz = areas["330100"]
    for user in (world.ministry, world.bureau_bj, world.bureau_zj, world.agency, world.ent_hz):
        with pytest.raises(PermissionDenied):
            experiences.create_case(hz, user, TEXT)
        with pytest.raises(PermissionDenied):
            experiences.submit_case(library.hz_draft, user)
    for user in (world.bureau_bj, world.auditor, world.agency):
        with pytest.raises(PermissionDenied):
            experiences.review_case(library.bj_submitted, user, "approve")


def test_required_fields_and_unknown_tasks_are_named(world, areas):
    hz = areas["330100"]
    with pytest.raises(ResultsError) as missing:
        experiences.create_case(hz, world.bureau_hz, {**TEXT, "effect": "   "})
    assert missing.value.errors[0]["field"] == "effect"
    with pytest.raises(ResultsError) as long_title:
        experiences.create_case(hz, world.bureau_hz, {**TEXT, "title": "长" * 201})
    assert long_title.value.errors[0]["field"] == "title"
    with pytest.raises(ResultsError) as unknown:
        experiences.resolve_tasks(hz.round, codes=["5.1", "9.9"])
    assert unknown.value.errors[0]["field"] == "tasks.1" and unknown.value.errors[0]["value"] == "9.9"
    assert not ExperienceCase.objects.exists()


# --- visibility --------------------------------------------------------------------------------------------------

def titles(qs) -> set[str]:
    return {c.title for c in qs}


def test_anonymous_and_enterprises_see_only_published_cases(world, library):
    from django.contrib.auth.models import AnonymousUser

    published = {library.hz_pub.title, library.bj_pub.title}
    assert titles(experiences.visible_cases(AnonymousUser())) == published
    assert titles(experiences.visible_cases(world.ent_bj)) == published
    client = Client()
    page = client.get(reverse("governance:results_experiences"))
    assert page.status_code == 200
    html = page.content.decode()
    assert library.hz_pub.title in html and library.hz_draft.title not in html and library.bj_returned.title not in html
    body = client.get(f"{API}/experiences").json()
    assert {c["title"] for c in body["items"]} == published and body["count"] == 2
    assert client.get(f"{API}/experiences/{library.bj_pub.pk}").status_code == 200
    assert client.get(f"{API}/experiences/{library.hz_draft.pk}").status_code == 404
    assert client.get(reverse("governance:results_experience", args=[library.hz_draft.pk])).status_code == 404
    assert client.get(reverse("governance:results_experience", args=[library.bj_pub.pk])).status_code == 200


def test_bureaus_see_their_own_unpublished_cases_and_not_others(world, library):
    published = {library.hz_pub.title, library.bj_pub.title}
    assert titles(experiences.visible_cases(world.bureau_hz)) == published | {library.hz_draft.title}
    assert titles(experiences.visible_cases(world.bureau_zj)) == published | {library.hz_draft.title}
    assert titles(experiences.visible_cases(world.bureau_bj)) == published | {
        library.bj_submitted.title, library.bj_returned.title}
    assert len(titles(experiences.visible_cases(world.ministry))) == 5
    body = Client().get(f"{API}/experiences", headers={"Authorization": f"Bearer {issue_token(world.bureau_hz)}"})
    assert {c["title"] for c in body.json()["items"]} == published | {library.hz_draft.title}
    client = Client()
    client.force_login(world.bureau_hz)
    assert client.get(reverse("governance:results_experience", args=[library.bj_submitted.pk])).status_code == 404
    html = client.get(reverse("governance:results_experiences")).content.decode()
    assert library.hz_draft.title in html and library.bj_submitted.title not in html


def test_search_and_filters(world, areas, library):
    task = Task.objects.get(round=areas["330100"].round, code="8.4")
    library.hz_pub.tasks.set([task])
    anyone = experiences.visible_cases(world.ent_bj)

    def found(**kw):
        return titles(experiences.search(anyone, experiences.CaseFilters(**kw)))

    assert found(q="人民币") == {library.bj_pub.title}
    assert found(area="330100") == {library.hz_pub.title}
    assert found(task="8.4") == {library.hz_pub.title}
    assert found(task_area="8") == {library.hz_pub.title}
    assert found(task_area="5") == set()
    # Filters narrow what one may see, never widen it.
    assert found(status="draft") == set()
    html = Client().get(reverse("governance:results_experiences"), {"q": "无纸化"}).content.decode()
    assert library.hz_pub.title in html and library.bj_pub.title not in html


# --- adoption ----------------------------------------------------------------------------------------------------

TODAY = dt.date(2020, 6, 30)


def test_adoption_rules(world, areas, library):
    record = experiences.record_adoption
    adoption = record(library.bj_pub, world.bureau_hz, dt.date(2019, 4, 1), "参照北京做法出台实施细则", today=TODAY)
    assert adoption.area == areas["330100"] and adoption.recorded_by == world.bureau_hz
    assert Notification.objects.filter(user=world.bureau_bj, title__contains="adopted").exists()
    with pytest.raises(ResultsError) as twice:
        record(library.bj_pub, world.bureau_hz, dt.date(2019, 5, 1), today=TODAY)
    assert (twice.value.status, twice.value.code) == (409, "exists")
    with pytest.raises(ResultsError) as own:
        record(library.hz_pub, world.bureau_hz, dt.date(2019, 7, 1), today=TODAY)
    assert (own.value.status, own.value.code) == (409, "own_case")
    with pytest.raises(ResultsError) as early:
        record(library.hz_pub, world.bureau_bj, dt.date(2019, 5, 31), today=TODAY)
    assert (early.value.status, early.value.errors[0]["field"]) == (400, "adopted_on")
    with pytest.raises(ResultsError) as future:
        record(library.hz_pub, world.bureau_bj, TODAY + dt.timedelta(days=1), today=TODAY)
    assert (future.value.status, future.value.errors[0]["field"]) == (400, "adopted_on")
    with pytest.raises(ResultsError) as unpublished:
        record(library.hz_draft, world.bureau_bj, dt.date(2019, 7, 1), today=TODAY)
    assert unpublished.value.code == "not_published"
    for user in (world.bureau_zj, world.ministry, world.agency, world.ent_hz):  # not a pilot area's bureau
        with pytest.raises(PermissionDenied):
            record(library.hz_pub, user, dt.date(2019, 7, 1), today=TODAY)
    assert Adoption.objects.count() == 1


def test_adoption_api_and_page(world, library):
    headers = {"Authorization": f"Bearer {issue_token(world.bureau_hz)}"}
    client = Client()
    url = f"{API}/experiences/{library.bj_pub.pk}/adoptions"
    ok = client.post(url, {"adopted_on": "2019-04-01", "note": "复制推广"}, content_type="application/json",
                     headers=headers)
    assert ok.status_code == 201 and ok.json()["area"] == "330100"
    again = client.post(url, {"adopted_on": "2019-04-02"}, content_type="application/json", headers=headers)
    assert again.status_code == 409
    early = client.post(f"{API}/experiences/{library.hz_pub.pk}/adoptions", {"adopted_on": "2019-01-01"},
                        content_type="application/json", headers={"Authorization": f"Bearer {issue_token(world.bureau_bj)}"})
    assert early.status_code == 400 and early.json()["errors"][0]["field"] == "adopted_on"
    page = Client()
    page.force_login(world.bureau_bj)
    page.post(reverse("governance:results_experience_adopt", args=[library.hz_pub.pk]),
              {"adopted_on": "2019-08-01", "note": "借鉴"})
    assert Adoption.objects.filter(case=library.hz_pub, area__region__code="110000").exists()


def test_adopted_elsewhere_counts_other_areas_adoptions_until_a_date(world, areas, library):
    rnd = areas["330100"].round
    sh, sz = areas["310000"], areas["440300"]
    Adoption.objects.create(case=library.hz_pub, area=areas["110000"], adopted_on=dt.date(2019, 7, 1))
    Adoption.objects.create(case=library.hz_pub, area=sh, adopted_on=dt.date(2019, 12, 31))
    Adoption.objects.create(case=library.hz_pub, area=sz, adopted_on=dt.date(2020, 1, 1))
    Adoption.objects.create(case=library.bj_pub, area=sh, adopted_on=dt.date(2019, 5, 1))
    # A record of an area adopting its own case (the service refuses it; data may still hold one) never counts.
    Adoption.objects.create(case=library.bj_pub, area=areas["110000"], adopted_on=dt.date(2019, 5, 1))
    counts = experiences.adopted_elsewhere(rnd, dt.date(2019, 12, 31))
    assert counts[areas["330100"].pk] == 2 and counts[areas["110000"].pk] == 1
    assert counts[sh.pk] == 0 and set(counts) == set(PilotArea.objects.filter(round=rnd).values_list("pk", flat=True))
    assert experiences.adopted_elsewhere(rnd, dt.date(2020, 6, 30))[areas["330100"].pk] == 3
    # Until its case was published, Hangzhou counts nothing.
    assert experiences.adopted_elsewhere(rnd, dt.date(2019, 5, 31))[areas["330100"].pk] == 0


def test_adoption_table_map_and_xlsx(world, areas, library):
    from openpyxl import load_workbook

    rnd = areas["330100"].round
    Adoption.objects.create(case=library.hz_pub, area=areas["110000"], adopted_on=dt.date(2019, 7, 1))
    Adoption.objects.create(case=library.hz_pub, area=areas["310000"], adopted_on=dt.date(2019, 8, 1))
    table = experiences.adoption_table(rnd)
    assert [r["case"] for r in table.rows] == [library.bj_pub, library.hz_pub]  # Beijing is listed first
    hz_row = table.rows[1]
    assert hz_row["count"] == 2 and hz_row["cells"][[a.pk for a in table.areas].index(areas["330100"].pk)] == "origin"
    assert table.elsewhere[areas["330100"].pk] == 2 and table.adopted_by[areas["310000"].pk] == 1
    drawn = experiences.adoption_map(rnd)
    assert len(drawn["points"]) == PilotArea.objects.filter(round=rnd).count()  # every area has coordinates
    assert {(line["from"], line["to"]) for line in drawn["lines"]} == {("330100", "110000"), ("330100", "310000")}
    client = Client()  # public
    page = client.get(reverse("governance:results_adoptions"))
    assert page.status_code == 200 and library.hz_pub.title in page.content.decode()
    assert library.hz_draft.title not in page.content.decode()
    api = client.get(f"{API}/experiences/adoptions").json()
    assert api["adopted_elsewhere"]["330100"] == 2
    xlsx = client.get(reverse("governance:results_adoptions"), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows(values_only=True))
    hz_line = next(r for r in rows if r[0] == library.hz_pub.pk)
    assert hz_line[-1] == 2


# --- the API's writes --------------------------------------------------------------------------------------------

def test_api_create_patch_submit_review(world, areas):
    headers = {"Authorization": f"Bearer {issue_token(world.bureau_hz)}"}
    client = Client()
    created = client.post(f"{API}/experiences", {"area": "330100", **TEXT, "tasks": ["5.1"]},
                          content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and [t["code"] for t in body["tasks"]] == ["5.1"]
    cid = body["id"]
    bad = client.patch(f"{API}/experiences/{cid}", {"tasks": ["0.0"]}, content_type="application/json",
                       headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "tasks.0"
    patched = client.patch(f"{API}/experiences/{cid}", {"title": "新标题"}, content_type="application/json",
                           headers=headers).json()
    assert patched["title"] == "新标题" and [t["code"] for t in patched["tasks"]] == ["5.1"]
    assert client.post(f"{API}/experiences/{cid}/submit", headers=headers).json()["status"] == "submitted"
    ministry = {"Authorization": f"Bearer {issue_token(world.ministry)}"}
    published = client.post(f"{API}/experiences/{cid}/review", {"decision": "approve"},
                            content_type="application/json", headers=ministry).json()
    assert published["status"] == "approved" and published["published_at"]
    assert Client().get(f"{API}/experiences/{cid}").status_code == 200  # now public


def test_web_form_creates_and_edits_a_draft(world, areas):
    client = Client()
    client.force_login(world.bureau_hz)
    assert client.get(reverse("governance:results_experience_new")).status_code == 200
    task = Task.objects.get(round=areas["330100"].round, code="4.5")
    response = client.post(reverse("governance:results_experience_new"),
                           {"area": areas["330100"].pk, **TEXT, "tasks": [task.pk]})
    assert response.status_code == 302
    case = ExperienceCase.objects.get()
    assert list(case.tasks.all()) == [task] and case.created_by == world.bureau_hz
    refused = client.post(reverse("governance:results_experience_edit", args=[case.pk]),
                          {**TEXT, "title": "", "tasks": [task.pk]})
    assert refused.status_code == 400 and ExperienceCase.objects.get().title == TEXT["title"]
    client.post(reverse("governance:results_experience_submit", args=[case.pk]))
    assert ExperienceCase.objects.get().status == ReviewStatus.SUBMITTED
    client.force_login(world.bureau_zj)  # a province bureau reads it but does not write experiences
    assert client.get(reverse("governance:results_experience", args=[case.pk])).status_code == 200
    assert client.get(reverse("governance:results_experience_new")).status_code == 403
