"""The programme loaded from `governance/data/programme/2018.json` against the seed (国函〔2018〕79号), the loader's
idempotence and errors, a second round from its own file, and the public programme pages and API."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from tradepilot.core.models import PilotArea, PilotRound, Region
from tradepilot.governance.models import (
    AdjustedRegulation,
    AreaMeasure,
    AreaTask,
    OpeningMeasure,
    PolicyGuarantee,
    Programme,
    ProgressReport,
    Responsibility,
    Task,
    TaskArea,
    TaskStatus,
)
from tradepilot.governance.programme import PROGRAMME_DIR, ProgrammeError, load_programme

# The approving document as extracted from its PDF (published: 此件公开发布), kept beside the data it was read into,
# so that every checkout checks the programme against it.
SEED = Path(__file__).resolve().parents[1] / "data" / "source" / "guohan-2018-79.txt"
DATA_2018 = PROGRAMME_DIR / "2018.json"


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def seed() -> dict[str, str]:
    """The seed without whitespace, cut into the plan (附件1 三), the measures (附件2) and the task table (附件3)."""
    text = flat(SEED.read_text(encoding="utf-8"))
    annex2 = text.index("附件2深化服务贸易创新发展试点开放便利举措")
    annex3 = text.index("附件3深化服务贸易创新发展试点任务及政策保障措施")
    return {"plan": text[text.index("三、深化试点任务"):annex2], "annex2": text[annex2:annex3],
            "annex3": text[annex3:]}


def located(text: str, haystack: str, max_gap: int = 120) -> int | None:
    """Where `text` starts in `haystack`, or None. The text may be cut in at most three runs that follow each other
    with 4 to `max_gap` characters between them: PDF extraction prints a neighbouring cell's lines (at least 4
    characters) into the middle of a cell that runs over a page break. A dropped, added or changed
    character does not pass (it would need a run of fewer than 2 characters or a gap of fewer than 4) unless it
    sits at a page-break cut; a truncated text is caught by the checks on paragraph starts and full stops."""
    text = flat(text)
    pos, start, runs = 0, None, 0
    while text:
        n = len(text)
        while n >= 2:
            i = haystack.find(text[:n], pos)
            if i >= 0 and (start is None or i == pos or 4 <= i - pos <= max_gap):
                break
            n -= 1
        runs += 1
        if n < 2 and text[1:] or runs > 3:
            return None
        if n < 2:  # a last single character must follow directly
            return start if haystack.startswith(text, pos) else None
        start = i if start is None else start
        pos, text = i + n, text[n:]
    return start


# --- what was loaded -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_counts(programme):
    rnd = PilotRound.objects.get(code="2018")
    n_areas = PilotArea.objects.filter(round=rnd).count()
    assert n_areas == 17
    assert list(TaskArea.objects.filter(round=rnd).values_list("code", flat=True)) == [str(i) for i in range(1, 9)]
    per_area = [TaskArea.objects.get(round=rnd, code=str(i)).tasks.count() for i in range(1, 9)]
    assert per_area == [4, 5, 6, 5, 6, 8, 3, 5]
    assert Task.objects.filter(round=rnd).count() == 42
    assert PolicyGuarantee.objects.filter(task__round=rnd).count() == 40
    assert OpeningMeasure.objects.filter(round=rnd).count() == 8
    assert AdjustedRegulation.objects.filter(measure__round=rnd).count() == 16
    # Every task names 试点地区 except 1.1 (the ministry), 3.5 (服贸会: the ministry and Beijing), 5.5 (职业资格互认)
    # and 6.7 (外汇: the departments).
    assert set(Task.objects.filter(round=rnd, for_all_areas=False).values_list("code", flat=True)) == {
        "1.1", "3.5", "5.5", "6.7"}
    n_all = Task.objects.filter(round=rnd, for_all_areas=True).count()
    assert AreaTask.objects.filter(task__round=rnd).count() == n_areas * n_all + 1 == 647
    assert AreaMeasure.objects.filter(measure__round=rnd).count() == n_areas * 8
    assert AreaTask.objects.filter(task__round=rnd).exclude(due_date=rnd.end_date).count() == 0
    assert Programme.objects.get(round=rnd).work_plan_deadline == dt.date(2018, 12, 31)
    assert programme == {"task_areas": 8, "tasks": 42, "guarantees": 40,
                         "responsibilities": Responsibility.objects.filter(task__round=rnd).count(),
                         "measures": 8, "regulations": 16, "area_tasks": 647, "area_measures": 136}


@pytest.mark.django_db
def test_every_text_is_the_seeds(programme, seed):
    """Every task, guarantee, responsible-units cell, measure and quoted regulation occurs in its annex, in the
    printed order; every task area's text is the plan's paragraph."""
    rnd = PilotRound.objects.get(code="2018")
    for area in TaskArea.objects.filter(round=rnd):
        assert f"{area.name_zh}。{area.plan_text_zh}" in seed["plan"], area.code
    last = -1
    for task in Task.objects.filter(round=rnd).prefetch_related("guarantees"):
        assert task.text_zh.endswith("。"), task.code
        at = located(task.text_zh, seed["annex3"])
        assert at is not None and at > last, f"task {task.code} not found after the previous one"
        last = at
        if task.responsible_zh:
            assert located(task.responsible_zh, seed["annex3"]) is not None, task.code
        for g in task.guarantees.all():
            assert g.text_zh.endswith("。"), g.code
            at = located(g.text_zh, seed["annex3"])
            assert at is not None and at > last, f"guarantee {g.code} not found after the previous text"
            last = at
            assert located(g.responsible_zh, seed["annex3"]) is not None, g.code
    last = -1
    for m in OpeningMeasure.objects.filter(round=rnd).prefetch_related("regulations"):
        assert m.text_zh.endswith("。"), m.code
        at = located(m.text_zh, seed["annex2"])
        assert at is not None and at > last, m.code
        last = at
        assert m.domain_zh in seed["annex2"] and m.industry_zh in seed["annex2"], m.code
        for r in m.regulations.all():
            assert located(r.text_zh, seed["annex2"]) is not None, (m.code, r.order)
            assert flat(r.text_zh).startswith(flat(r.instrument_zh)), (m.code, r.order)


@pytest.mark.django_db
def test_the_seeds_task_cells_are_all_loaded(programme, seed):
    """The other way round: each indented paragraph of 附件3 that is a task or a guarantee is loaded (no text of the
    table is left out); 附件3 has 82 such paragraphs."""
    loaded = [flat(t) for t in Task.objects.values_list("text_zh", flat=True)]
    loaded += [flat(t) for t in PolicyGuarantee.objects.values_list("text_zh", flat=True)]
    assert len(loaded) == 82
    raw = SEED.read_text(encoding="utf-8")
    table = raw[raw.index("深化服务贸易创新发展试点任务及政策保障措施", raw.index("附件 3")):]
    # a paragraph starts with two spaces at the start of a line, or after a neighbouring cell's "。" on that line
    starts = [flat(m.group(1))[:8] for m in re.finditer(r"(?:^  |。   )(\S[^\n]*)", table, re.M)]
    assert len(starts) == 82
    for start in starts:
        assert any(text.startswith(start) for text in loaded), start


@pytest.mark.django_db
def test_responsibilities_as_printed(programme):
    def units(code, guarantee=None):
        qs = Responsibility.objects.filter(task__round__code="2018", task__code=code)
        qs = qs.filter(guarantee__code=guarantee) if guarantee else qs.filter(guarantee__isnull=True)
        return {(r.unit, r.agency.code if r.agency_id else r.area_region_code, tuple(r.duties), r.is_lead)
                for r in qs.select_related("agency")}

    # 服贸会: 商务部、北京市人民政府负责推进 — the ministry and Beijing lead; only Beijing tracks it.
    assert units("3.5") == {("agency", "MOFCOM", ("lead",), False), ("area", "110000", ("lead",), False)}
    fair = Task.objects.get(round__code="2018", code="3.5")
    assert list(AreaTask.objects.filter(task=fair).values_list("area__region__code", flat=True)) == ["110000"]
    # 牵头 only once in the table (1.1).
    assert units("1.1") == {("agency", "MOFCOM", ("lead",), True)}
    assert Responsibility.objects.filter(is_lead=True).count() == 1
    # 外汇局 leads both 外汇 guarantees and implements them.
    for g in ("6.7.1", "6.7.2"):
        assert ("agency", "SAFE", ("lead", "policy"), False) in units("6.7", g)
    # customs implements every guarantee of the 通关 task, with the areas leading.
    customs = Task.objects.get(round__code="2018", text_zh__startswith="深入改革通关监管制度和模式")
    assert customs.guarantees.count() == 13
    for g in customs.guarantees.all():
        assert ("agency", "GACC", ("policy",), False) in units(customs.code, g.code)
        assert ("areas", "", ("lead",), False) in units(customs.code, g.code)
    # 职业资格互认 names no area: not tracked per area.
    mutual = Task.objects.get(round__code="2018", text_zh="推动职业资格互认。")
    assert not mutual.responsibilities.filter(unit__in=["areas", "area"]).exists()
    assert not mutual.for_all_areas and not mutual.area_tasks.exists()
    assert ("agency", "MOHRSS", ("lead",), False) in units(mutual.code)
    # merged cells repeated; group units
    assert {Task.objects.get(round__code="2018", code=c).responsible_zh for c in ("1.2", "1.3", "1.4")} == {
        "试点地区负责推进；商务部支持指导"}
    assert ("member_units", "", ("lead",), False) in units("8.2") and units("8.2") == units("8.3")
    assert ("industry_regulators", "", ("measures", "support"), False) in units("2.4")
    assert units("2.3") == {("areas", "", ("lead",), False), ("agency", "MOFCOM", ("support",), False),
                            ("relevant", "", ("support",), False)}


@pytest.mark.django_db
def test_measures(programme):
    m = {x.code: x for x in OpeningMeasure.objects.filter(round__code="2018").prefetch_related("regulations")}
    assert [m[c].industry_zh for c in sorted(m)] == ["银行业", "离岸呼叫中心业务", "签证便利", "签证便利", "跨境自驾游",
                                                     "工程咨询服务", "工程咨询服务", "法律服务"]
    assert m["M1"].ebops_components == ["SG"] and m["M2"].ebops_components == ["SI"]
    assert m["M8"].text_zh == "探索密切内地（大陆）律师事务所与港澳台地区律师事务所业务合作的方式与机制。"
    assert "工程设计业绩要求" in m["M7"].text_zh
    # one industry row's regulations are repeated on each of its measures
    assert [r.instrument_zh for r in m["M3"].regulations.all()] == [r.instrument_zh for r in m["M4"].regulations.all()]
    assert m["M6"].regulations.count() == m["M7"].regulations.count() == 3


# --- the loader --------------------------------------------------------------------------------------------------


def write(tmp_path: Path, data: dict, name: str = "2018.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def data_2018() -> dict:
    return json.loads(DATA_2018.read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_reloading_writes_nothing_and_repairs_changes(programme):
    with CaptureQueriesContext(connection) as ctx:
        assert load_programme() == programme
    writes = [q["sql"] for q in ctx.captured_queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)]
    assert writes == []

    task = Task.objects.get(round__code="2018", code="5.1")
    Task.objects.filter(pk=task.pk).update(text_zh="x", for_all_areas=False)
    Responsibility.objects.filter(task=task, agency__code="GACC").first().delete()
    AreaTask.objects.filter(task=task, area__region__code="330100").delete()
    AdjustedRegulation.objects.filter(measure__code="M6").delete()
    assert load_programme("2018") == programme
    task.refresh_from_db()
    assert task.text_zh.startswith("深入改革通关监管制度和模式") and task.for_all_areas
    assert Responsibility.objects.filter(task=task, agency__code="GACC").count() == 13
    assert AreaTask.objects.filter(task=task, area__region__code="330100").exists()
    assert AdjustedRegulation.objects.filter(measure__code="M6").count() == 3


@pytest.mark.django_db
def test_removed_rows_are_removed_but_recorded_work_is_kept(programme, tmp_path):
    data = data_2018()
    data["tasks"] = [t for t in data["tasks"] if t["code"] != "4.4"]
    data["measures"] = [m for m in data["measures"] if m["code"] != "M8"]
    counts = load_programme(path=write(tmp_path, data))
    assert counts["tasks"] == 41 and counts["measures"] == 7
    assert not Task.objects.filter(round__code="2018", code="4.4").exists()
    assert AreaTask.objects.filter(task__round__code="2018").count() == 647 - 17
    assert not OpeningMeasure.objects.filter(code="M8").exists()
    assert AreaMeasure.objects.filter(measure__round__code="2018").count() == 17 * 7
    load_programme()
    assert Task.objects.filter(round__code="2018").count() == 42

    # an area task with progress is neither deleted nor lost with its task
    area_task = AreaTask.objects.get(task__code="4.4", area__region__code="110000")
    ProgressReport.objects.create(area_task=area_task, year=2019, quarter=1, status_reported=TaskStatus.IN_PROGRESS,
                                  narrative="已启动")
    with pytest.raises(ProgrammeError, match=r"2018\.json: tasks 4\.4: .*recorded"):
        load_programme(path=write(tmp_path, data))
    assert Task.objects.filter(round__code="2018").count() == 42
    # a task that no longer names the areas keeps the area tasks that carry work, and drops the others
    data = data_2018()
    task = next(t for t in data["tasks"] if t["code"] == "4.4")
    task["responsibilities"] = [r for r in task["responsibilities"] if r["unit"] != "areas"]
    load_programme(path=write(tmp_path, data))
    assert list(AreaTask.objects.filter(task__code="4.4").values_list("pk", flat=True)) == [area_task.pk]


def broken(mutate) -> dict:
    data = data_2018()
    mutate(data)
    return data


def task(data, code):
    return next(t for t in data["tasks"] if t["code"] == code)


ERRORS = [
    (lambda d: task(d, "1.1")["responsibilities"][0].update(agency="NOPE"), r"task 1\.1: unknown agency code 'NOPE'"),
    (lambda d: task(d, "3.5")["responsibilities"][1].update(area="990000"),
     r"task 3\.5: unknown area region code '990000'"),
    (lambda d: task(d, "2.1").update(area="9"), r"task 2\.1: unknown task area '9'"),
    (lambda d: task(d, "2.2").update(code="2.1"), r"task 2\.1: duplicate code"),
    (lambda d: task(d, "3.2")["guarantees"][1].update(code="3.2.1"), r"guarantee 3\.2\.1: duplicate code"),
    (lambda d: d["measures"][1].update(code="M1"), r"measure M1: duplicate code"),
    (lambda d: d["task_areas"][1].update(code="1"), r"task area 1: duplicate code"),
    (lambda d: d.update(round="1999"), r"round 1999: unknown pilot round"),
    (lambda d: task(d, "5.1")["guarantees"][0]["responsibilities"][1].update(duties=["own"]), r"guarantee 5\.1\.1"),
    (lambda d: d["measures"][0].update(ebops_components=["SX"]), r"measure M1: unknown EBOPS codes"),
    (lambda d: d["tasks"].append("5.7"), r"tasks item 43: must be an object"),
    (lambda d: d.update(work_plan_deadline="2018-13-01"), r"work_plan_deadline: not an ISO date"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("mutate,message", ERRORS)
def test_bad_files_are_refused_whole(programme, tmp_path, mutate, message):
    data = broken(mutate)
    task(data, "1.1")["text_zh"] = "changed before the error"  # written first: must be rolled back
    with pytest.raises(ValueError, match=r"^2018\.json: " + message):
        load_programme(path=write(tmp_path, data))
    assert Task.objects.get(round__code="2018", code="1.1").text_zh.startswith("加强国务院服务贸易发展部际联席会议")


@pytest.mark.django_db
def test_unknown_round_file(programme):
    with pytest.raises(ProgrammeError, match="no programme file for round '2099'"):
        load_programme("2099")


# --- a second round is another file --------------------------------------------------------------------------------


SECOND_ROUND = {
    "round": "2099",
    "work_plan_deadline": "2099-03-31",
    "source": "test",
    "task_areas": [{"code": "A", "name_zh": "改革管理体制", "name_en": "Reform management", "plan_text_zh": "…"}],
    "tasks": [
        {"code": "A.1", "area": "A", "text_zh": "全体试点地区的任务。", "responsible_zh": "试点地区负责推进；商务部支持指导",
         "responsibilities": [{"unit": "areas", "duties": ["lead"], "lead": False},
                              {"unit": "agency", "agency": "MOFCOM", "duties": ["support"], "lead": False}]},
        {"code": "A.2", "area": "A", "text_zh": "杭州的任务。",
         "guarantees": [{"code": "A.2.1", "text_zh": "保障。", "responsible_zh": "杭州市人民政府负责推进；海关总署负责落实政策保障",
                         "responsibilities": [{"unit": "area", "area": "330100", "duties": ["lead"], "lead": False},
                                              {"unit": "agency", "agency": "GACC", "duties": ["policy"],
                                               "lead": False}]}]},
        {"code": "A.3", "area": "A", "text_zh": "部门的任务。", "responsible_zh": "商务部牵头推进",
         "responsibilities": [{"unit": "agency", "agency": "MOFCOM", "duties": ["lead"], "lead": True}]},
    ],
    "measures": [{"code": "M1", "domain_zh": "专业服务", "industry_zh": "法律服务", "text_zh": "举措。",
                  "ebops_components": ["SJ"], "regulations": [{"instrument_zh": "《条例》", "text_zh": "《条例》规定。"}]}],
}


@pytest.mark.django_db
def test_a_second_round_from_its_own_file(programme, tmp_path):
    rnd = PilotRound.objects.create(code="2099", name_zh="第二轮", start_date=dt.date(2099, 1, 1),
                                    end_date=dt.date(2101, 12, 31))
    for order, code in enumerate(["110000", "330100", "440300"], start=1):
        PilotArea.objects.create(round=rnd, region=Region.objects.get(code=code), name_zh=code, order=order)
    path = write(tmp_path, SECOND_ROUND, "2099.json")
    counts = load_programme(path=path)
    assert counts == {"task_areas": 1, "tasks": 3, "guarantees": 1, "responsibilities": 5, "measures": 1,
                      "regulations": 1, "area_tasks": 4, "area_measures": 3}
    assert set(AreaTask.objects.filter(task__round=rnd).values_list("task__code", "area__region__code")) == {
        ("A.1", "110000"), ("A.1", "330100"), ("A.1", "440300"), ("A.2", "330100")}
    assert set(AreaTask.objects.filter(task__round=rnd).values_list("due_date", flat=True)) == {rnd.end_date}
    assert Programme.objects.get(round=rnd).work_plan_deadline == dt.date(2099, 3, 31)
    assert load_programme(path=path) == counts
    # the first round is untouched, and loading it again leaves the second alone
    assert Task.objects.filter(round__code="2018").count() == 42
    load_programme("2018")
    assert Task.objects.filter(round=rnd).count() == 3
    # a named area must be one of the round's areas
    bad = json.loads(json.dumps(SECOND_ROUND))
    bad["tasks"][1]["guarantees"][0]["responsibilities"][0]["area"] = "120000"
    with pytest.raises(ProgrammeError, match=r"2099\.json: guarantee A\.2\.1: unknown area region code '120000'"):
        load_programme(path=write(tmp_path, bad, "2099.json"))


# --- pages and API (public) ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_table_page_is_public_and_filters(programme, client):
    url = reverse("governance:programme_tasks")
    html = client.get(url).content.decode()
    for t in Task.objects.filter(round__code="2018"):
        assert f'id="task-{t.code}"' in html
    assert html.count("<section") == 8
    # by department: customs is named on 2.1, 4.2, 5.1 and 8.5 (on a guarantee for 5.1 and 8.5)
    html = client.get(url, {"agency": "GACC"}).content.decode()
    assert set(re.findall(r'id="task-([\d.]+)"', html)) == {"2.1", "4.2", "5.1", "8.5"}
    assert "试点地区负责推进；海关总署负责落实政策保障" in html
    html = client.get(url, {"area": "7"}).content.decode()
    assert set(re.findall(r'id="task-([\d.]+)"', html)) == {"7.1", "7.2", "7.3"}
    html = client.get(url, {"q": "服务贸易交易会"}).content.decode()
    assert set(re.findall(r'id="task-([\d.]+)"', html)) == {"3.5"}
    html = client.get(url, {"q": "ATA单证册"}).content.decode()  # found through a guarantee
    assert set(re.findall(r'id="task-([\d.]+)"', html)) == {"5.1"}
    # an unknown filter value is ignored, an unknown round is not found
    assert client.get(url, {"agency": "NOPE"}).status_code == 200
    assert client.get(url, {"round": "1999"}).status_code == 404


@pytest.mark.django_db
def test_task_page(programme, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the page in English: its labels are asserted below
    response = client.get(reverse("governance:programme_task", args=["5.1"]), {"round": "2018"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "5.1.13" in html
    for g in PolicyGuarantee.objects.filter(task__code="5.1"):
        assert g.text_zh in html
    assert "海关总署" in html and "every pilot area" in html
    html = client.get(reverse("governance:programme_task", args=["3.5"])).content.decode()
    assert "北京" in html and "商务部" in html
    assert client.get(reverse("governance:programme_task", args=["9.9"])).status_code == 404


@pytest.mark.django_db
def test_measures_page(programme, client):
    html = client.get(reverse("governance:programme_measures")).content.decode()
    for m in OpeningMeasure.objects.filter(round__code="2018").prefetch_related("regulations"):
        assert m.text_zh in html
        for r in m.regulations.all():
            assert r.text_zh in html
    assert html.count("《中华人民共和国出境入境管理法》第十五条") == 1  # a row's provisions shown once


@pytest.mark.django_db
def test_the_english_renderings_show_in_the_english_interface_only(programme, client):
    """As on the task table: the Chinese interface shows the plan's text alone, the English one adds its rendering."""
    task = Task.objects.get(round__code="2018", code="5.1")
    guarantee = PolicyGuarantee.objects.filter(task=task).exclude(text_en="").first()
    measure = OpeningMeasure.objects.filter(round__code="2018").exclude(text_en="").first()
    pages = [(reverse("governance:programme_task", args=["5.1"]), task.text_zh, [task.text_en, guarantee.text_en]),
             (reverse("governance:programme_measures"), measure.text_zh, [measure.text_en, measure.domain_en])]
    for url, chinese, english in pages:
        html = client.get(url).content.decode()
        assert escape(chinese) in html
        assert not [text for text in english if escape(text) in html], url
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for url, chinese, english in pages:
        html = client.get(url).content.decode()
        assert escape(chinese) in html and all(escape(text) in html for text in english), url


@pytest.mark.django_db
def test_api(programme, client):
    root = "/api/v1/governance/programme"
    areas = client.get(f"{root}/task-areas").json()
    assert [(a["code"], a["tasks"]) for a in areas] == [(str(i), n) for i, n in
                                                         enumerate([4, 5, 6, 5, 6, 8, 3, 5], start=1)]
    tasks = client.get(f"{root}/tasks").json()
    assert len(tasks) == 42 and sum(len(t["guarantees"]) for t in tasks) == 40
    safe = client.get(f"{root}/tasks", {"agency": "SAFE"}).json()
    assert {t["code"] for t in safe} == {"6.7", "7.1", "7.2", "8.1"}
    fair = client.get(f"{root}/tasks/3.5", {"round": "2018"}).json()
    assert fair["responsibilities"] == [
        {"unit": "agency", "agency": "MOFCOM", "area": None, "duties": ["lead"], "is_lead": False},
        {"unit": "area", "agency": None, "area": "110000", "duties": ["lead"], "is_lead": False}]
    assert not fair["for_all_areas"] and fair["guarantees"] == []
    fx = client.get(f"{root}/tasks/6.7").json()
    assert fx["responsibilities"] == [] and [g["code"] for g in fx["guarantees"]] == ["6.7.1", "6.7.2"]
    measures = client.get(f"{root}/measures").json()
    assert [m["code"] for m in measures] == [f"M{i}" for i in range(1, 9)]
    assert sum(len(m["regulations"]) for m in measures) == 16
    assert client.get(f"{root}/tasks/9.9").status_code == 404
    for params, field in (({"agency": "NOPE"}, "agency"), ({"area": "9"}, "area"), ({"round": "1999"}, "round")):
        response = client.get(f"{root}/tasks", params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == field


@pytest.mark.django_db
def test_command(programme, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("governance", "programme", "--round", "2018", stdout=out)
    assert "tasks: 42" in out.getvalue() and "area_tasks: 647" in out.getvalue()
    path = write(tmp_path, broken(lambda d: task(d, "1.1").update(area="9")))
    with pytest.raises(CommandError, match=r"2018\.json: task 1\.1: unknown task area '9'"):
        call_command("governance", "programme", "--file", str(path), stdout=out)
