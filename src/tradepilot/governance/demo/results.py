"""Demo data: replicable experience cases and their adoption, and the areas' annual results reports.

- Twelve experience cases on the plan's themes (通关便利, 服务外包转型, 技术贸易无纸化登记, 跨境人民币结算, 文化出口基地 …)
  from twelve areas: ten published during the round, one submitted and awaiting the ministry's review, one
  returned with a note. Other areas adopted the published ones (1–5 each), so the adoption table and map show flows;
  Hangzhou adopts some but not all, so its bureau still has cases to adopt.
- Results reports for 2018 and 2019 of every area, accepted by the ministry early the following year, with
  figures pulled from the live data as it is now (the demo's trade covers only recent months, so 2018/2019 trade
  figures are empty and say so; governance figures count the demo's tasks, measures and experiences) and a
  narrative written from those figures.
- For the years the analytics store has trade: Hangzhou's draft report for the latest such year with figures
  pulled live through the service, and Beijing's report for the latest complete year, submitted for review.

Everything random comes from `ctx.rng`; dates are fixed relative to the round.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from tradepilot.core.audit import diff, record
from tradepilot.governance import results
from tradepilot.governance.models import Adoption, ExperienceCase, ResultsReport, ReviewStatus, Task

HANGZHOU, BEIJING = "330100", "110000"
REASON = "演示数据"

# (area region code, title, problem, measure, effect, task codes, published on | "submitted" | "returned")
CASES = [
    ("310000", "技术进出口合同登记无纸化改革",
     "技术进出口合同登记须提交纸质材料并到窗口办理，企业往返多次，登记周期长。",
     "依托国际贸易“单一窗口”上线技术进出口合同网上登记，实行电子签章和电子证书，登记材料网上一次提交、全程网办。",
     "合同登记办理时间由3个工作日缩短至1个工作日以内，企业无需到窗口办理。",
     ["8.4", "8.5"], dt.date(2019, 4, 18)),
    ("440300", "研发设计用品“保税+通关便利”监管模式",
     "研发设计企业进口用于测试的样品、零部件批次多、数量小，逐票申报通关时间长、成本高。",
     "对研发设计类服务贸易企业实行企业信用分类管理，对其进口研发用品实行集中申报、担保放行和保税监管。",
     "试点企业研发用品平均通关时间缩短一半以上，研发设计服务出口合同额明显增加。",
     ["5.1", "4.2"], dt.date(2019, 3, 27)),
    ("110000", "服务贸易跨境人民币结算便利化",
     "服务贸易企业跨境收付汇单证审核要求多，小额高频业务办理效率低。",
     "支持银行凭企业收付款指令直接办理服务贸易跨境人民币结算，优化单证审核，推广跨境人民币结算电子化。",
     "试点银行为服务贸易企业办理跨境人民币结算的平均时间明显缩短，企业汇兑成本下降。",
     ["6.8", "6.7"], dt.date(2019, 5, 22)),
    ("330100", "数字服务“服务+”整体出口模式",
     "数字内容、软件和信息服务企业单独出海，难以形成整体竞争力。",
     "依托数字服务出口基地，组织数字内容、软件开发、云服务企业联合承接境外项目，打包提供“技术+内容+运营”服务。",
     "基地企业数字服务出口额保持较快增长，一批企业以整体解决方案进入“一带一路”沿线市场。",
     ["4.3", "4.4"], dt.date(2019, 7, 9)),
    ("320500", "服务外包企业数字化转型升级",
     "传统服务外包企业以人力密集型业务为主，附加值低，受人工成本上升影响大。",
     "设立服务外包数字化转型专项资金，支持企业发展云计算、大数据、人工智能等高端外包业务，建设公共技术服务平台。",
     "知识流程外包占比持续提高，一批企业由数据录入转向数据分析和研发外包。",
     ["4.5", "3.1"], dt.date(2019, 9, 12)),
    ("120000", "服务贸易重点联系企业统计直报与运行监测",
     "服务贸易统计以事后汇总为主，地方难以及时掌握重点企业运行情况。",
     "建立服务贸易重点联系企业名录，开展统计数据直报，按月监测重点企业进出口和订单变化并形成分析报告。",
     "重点联系企业直报覆盖率显著提高，统计监测结果及时服务于政策制定。",
     ["7.1", "8.1"], dt.date(2019, 8, 20)),
    ("420100", "服务贸易出口信用保险统保平台",
     "中小服务贸易企业投保出口信用保险意识弱、保费负担重。",
     "与保险机构合作搭建服务贸易出口信用保险统保平台，对符合条件的中小企业给予保费支持，并开展保单融资。",
     "参保中小服务贸易企业数量成倍增加，企业凭保单获得融资，拓展国际市场的风险得到分担。",
     ["6.5", "6.6"], dt.date(2019, 12, 3)),
    ("440100", "国际会展展品通关便利化",
     "境外参展展品进境手续复杂，展后留购、退运办理周期长。",
     "对重点展会展品实行“展前备案、展中监管、展后核销”，推行展品担保放行和ATA单证册便利通关。",
     "重点展会展品通关时间大幅缩短，境外参展商参展成本下降，展会国际化水平提升。",
     ["5.1"], dt.date(2019, 11, 5)),
    ("510100", "国家文化出口基地“文化+科技”出口",
     "文化企业规模小、海外渠道少，原创内容出口难。",
     "依托国家文化出口基地建设公共服务平台，支持游戏、动漫、数字音乐企业开展海外发行和版权交易。",
     "基地文化服务出口额快速增长，多款原创数字内容产品进入海外市场。",
     ["4.5", "4.1"], dt.date(2020, 1, 14)),
    ("320100", "服务贸易企业“信用+”分类监管",
     "服务贸易监管手段单一，守信企业与失信企业享受同等监管待遇。",
     "建立服务贸易市场主体信用记录，按信用等级实施分类监管，对守信企业提供通关、结算等便利。",
     "高信用等级企业的检查频次减少，失信企业受到联合惩戒，事中事后监管更有针对性。",
     ["8.3", "8.2"], dt.date(2020, 3, 10)),
    ("371000", "中韩服务贸易合作促进中心",
     "地方服务贸易企业开拓韩国市场缺少信息、渠道和专业服务。",
     "在韩国设立服务贸易促进中心，提供市场信息、商务对接、法律咨询等服务，组织企业参加两国服务贸易展会。",
     "促进中心已服务企业百余家次，促成一批文化、旅游和医疗健康服务合作项目。",
     ["3.3", "3.6"], "submitted"),
    ("460000", "游艇自驾游出入境担保便利",
     "境外游艇入境须逐船缴纳保证金，手续繁琐，制约游艇旅游发展。",
     "允许游艇服务企业为境外游艇提供总担保，简化游艇出入境手续，推行游艇旅游“一站式”服务。",
     "境外游艇入境手续明显简化，游艇旅游产品有所增加。",
     ["5.6", "2.1"], "returned"),
]
RETURN_NOTE = "请补充可复制推广的适用条件和量化成效数据后重新报送。"
ADOPTION_NOTES = [
    "参照{origin}做法，出台本地实施细则并在重点园区推广。",
    "借鉴{origin}经验，结合本地产业特点开展试点，已有企业受益。",
    "会同海关、人民银行等部门学习{origin}做法，纳入本地试点工作方案。",
    "组织企业赴{origin}交流学习，相关做法已在本地落地。",
]


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _tasks(rnd, codes) -> list[Task]:
    return list(Task.objects.filter(round=rnd, code__in=codes))


def _build_cases(ctx, ministry, bureaus) -> tuple[list[ExperienceCase], int]:
    rnd, areas = ctx.round, ctx.areas
    published: list[ExperienceCase] = []
    for code, title, problem, measure, effect, task_codes, state in CASES:
        area = areas.get(code)
        if area is None:
            continue
        rng = ctx.rng("experience", code)
        author = bureaus.get(code)
        if isinstance(state, dt.date):
            on = min(state, ctx.today)
            submitted = on - dt.timedelta(days=rng.randint(14, 40))
            case = ExperienceCase.objects.create(
                area=area, title=title, problem=problem, measure=measure, effect=effect, created_by=author,
                created_at=_aware(submitted - dt.timedelta(days=rng.randint(5, 20))), submitted_at=_aware(submitted),
                status=ReviewStatus.APPROVED, reviewed_by=ministry, reviewed_at=_aware(on), published_at=_aware(on))
            published.append(case)
        else:
            submitted = min(rnd.end_date, ctx.today) - dt.timedelta(days=rng.randint(20, 60))
            returned = state == "returned"
            case = ExperienceCase.objects.create(
                area=area, title=title, problem=problem, measure=measure, effect=effect, created_by=author,
                created_at=_aware(submitted - dt.timedelta(days=10)), submitted_at=_aware(submitted),
                status=ReviewStatus.RETURNED if returned else ReviewStatus.SUBMITTED,
                reviewed_by=ministry if returned else None,
                reviewed_at=_aware(submitted + dt.timedelta(days=12)) if returned else None,
                review_note=RETURN_NOTE if returned else "")
        case.tasks.set(_tasks(rnd, task_codes))
        record(author, "experience.create", case, changes=diff({}, {"title": title, "status": case.status}),
               reason=REASON)
    adoptions = _adopt(ctx, published, bureaus)
    return published, adoptions


def _adopt(ctx, published: list[ExperienceCase], bureaus) -> int:
    codes = sorted(ctx.areas)
    # Hangzhou adopts the Shanghai and Shenzhen cases; the others stay open for its bureau to adopt in the demo.
    hangzhou_adopts = {"310000", "440300"}
    last_day = min(ctx.round.end_date + dt.timedelta(days=180), ctx.today)
    made = 0
    for case in published:
        origin = case.area.region.code
        rng = ctx.rng("adoption", origin)
        others = [c for c in codes if c not in (origin, HANGZHOU)]
        adopters = rng.sample(others, k=min(len(others), rng.randint(1, 4)))
        if origin in hangzhou_adopts and HANGZHOU in ctx.areas:
            adopters.append(HANGZHOU)
        start = timezone.localtime(case.published_at).date()
        for code in adopters:
            span = (last_day - start).days
            if span < 1:
                continue
            on = start + dt.timedelta(days=rng.randint(20 if span > 20 else 1, span))
            note = rng.choice(ADOPTION_NOTES).format(origin=case.area.name_zh)
            adoption = Adoption.objects.create(case=case, area=ctx.areas[code], adopted_on=on, note=note,
                                               recorded_by=bureaus.get(code), recorded_at=_aware(on, 16))
            record(bureaus.get(code), "experience.adopt", adoption,
                   changes=diff({}, {"case": case.pk, "area": code, "adopted_on": on.isoformat()}), reason=REASON)
            made += 1
    return made


def _value(figures: list[dict], code: str) -> str:
    return next((f["value"] for f in figures if f["code"] == code), None) or "0"


def _narrative(area, year: int, figures: list[dict], rng) -> str:
    name = area.region.name_zh
    done, total = _value(figures, "tasks_completed"), _value(figures, "tasks_total")
    implemented, applicable = _value(figures, "measures_implemented"), _value(figures, "measures_applicable")
    published, adopted = _value(figures, "experiences_published"), _value(figures, "experiences_adopted_elsewhere")
    start = "2018年7月试点启动以来" if year == 2018 else f"{year}年"
    focus = rng.choice(["数字服务出口", "服务外包转型升级", "技术贸易便利化", "文化服务出口", "跨境金融服务"])
    parts = [
        f"{start}，{name}按照深化服务贸易创新发展试点工作方案，健全跨部门统筹协调机制，逐项推进试点任务。",
        f"截至{year}年底，完成试点任务{done}项（共{total}项），落实开放便利举措{implemented}项（适用{applicable}项）。",
    ]
    if published != "0":
        parts.append(f"形成可复制推广经验{published}项，被其他试点地区复制推广{adopted}次。")
    parts.append(f"下一步将以{focus}为重点，完善政策保障，扩大服务出口。")
    trade = next((f for f in figures if f["code"] == "exports"), None)
    if trade is not None and trade["value"] is None:
        parts.append("本年度服务进出口数据以商务部直报系统数据为准，平台暂无该年度直报数据。")
    return "".join(parts)


def _annual_reports(ctx, ministry, bureaus) -> int:
    made = 0
    for year in (2018, 2019):
        if year not in results.allowed_years(ctx.round, ctx.today):
            continue
        for code, area in sorted(ctx.areas.items(), key=lambda kv: kv[1].order):
            rng = ctx.rng("results", code, year)
            figures = results.compute_figures(area, year, today=ctx.today)
            submitted = dt.date(year + 1, 1, 10) + dt.timedelta(days=rng.randint(0, 40))
            reviewed = submitted + dt.timedelta(days=rng.randint(7, 30))
            report = ResultsReport.objects.create(
                area=area, year=year, narrative=_narrative(area, year, figures, rng), figures=figures,
                figures_at=_aware(submitted - dt.timedelta(days=rng.randint(1, 5))), status=ReviewStatus.APPROVED,
                submitted_by=bureaus.get(code), submitted_at=_aware(submitted), reviewed_by=ministry,
                reviewed_at=_aware(reviewed), review_note="经审核，同意。")
            record(bureaus.get(code), "results.create", report, changes=diff({}, {"year": year, "status": "approved"}),
                   reason=REASON)
            made += 1
    return made


def _data_years(ctx, area) -> list[int]:
    """Years with trade of the area in the store that the area may report and has not reported yet."""
    from tradepilot.analytics import queries

    years = {p // 100 for p in queries.periods(queries.Filter(region_path=area.region.path))}
    taken = set(ResultsReport.objects.filter(area=area).values_list("year", flat=True))
    return sorted(y for y in years - taken if y in results.allowed_years(ctx.round, ctx.today))


def _live_reports(ctx, bureaus) -> list[str]:
    """Reports with figures pulled live, for the years the store has trade."""
    done = []
    hz, bj = ctx.areas.get(HANGZHOU), ctx.areas.get(BEIJING)
    if hz is not None and bureaus.get(HANGZHOU) is not None:
        years = _data_years(ctx, hz)
        if years:
            user = bureaus[HANGZHOU]
            report = results.create_report(hz, years[-1], user)
            report = results.pull_figures(report, user)
            results.update_narrative(report, _trade_narrative(hz, years[-1], report.figures, final=False), user)
            done.append(f"杭州 {years[-1]} draft")
    if bj is not None and bureaus.get(BEIJING) is not None:
        full = [y for y in _data_years(ctx, bj) if y < ctx.today.year]
        if full:
            user = bureaus[BEIJING]
            report = results.create_report(bj, full[-1], user)
            report = results.pull_figures(report, user)
            results.update_narrative(report, _trade_narrative(bj, full[-1], report.figures, final=True), user)
            results.submit(report, user)
            done.append(f"北京 {full[-1]} submitted")
    return done


def _trade_narrative(area, year: int, figures: list[dict], final: bool) -> str:
    """The narrative of a report with live trade figures: what the figures say, then the year's work."""
    def value(code):
        return next((f["value"] for f in figures if f["code"] == code), None)

    name = area.region.name_zh
    exports, total, growth = value("exports"), value("total"), value("exports_growth")
    text = f"{year}年，{name}重点联系企业服务进出口{Decimal(total or 0):,.2f}美元，其中服务出口{Decimal(exports or 0):,.2f}美元"
    if growth is None:
        text += "（上年同期数据不完整，暂不计算同比）。"
    elif Decimal(growth) >= 0:
        text += f"，同比增长{growth}%。"
    else:
        text += f"，同比下降{growth.lstrip('-')}%，主要受外部需求波动影响。"
    coverage = value("reporting_coverage")
    if coverage is not None:
        text += f"重点联系企业直报覆盖率{coverage}%。"
    if final:
        return text + "全年持续推进试点任务和开放便利举措落地，复制推广其他试点地区经验，服务贸易创新发展取得新进展。"
    return text + "（初稿，待补充典型案例和下一步工作安排）"


def build(ctx) -> str:
    rnd = ctx.round
    if ExperienceCase.objects.filter(area__round=rnd).exists() or ResultsReport.objects.filter(
            area__round=rnd).exists():
        return ""
    ministry = ctx.user("ministry")
    bureaus = {code: ctx.user(name) for code, name in ((BEIJING, "bureau-beijing"), (HANGZHOU, "bureau-hangzhou"))}
    bureaus = {code: user for code, user in bureaus.items() if user is not None}
    with transaction.atomic():
        published, adoptions = _build_cases(ctx, ministry, bureaus)
        reports = _annual_reports(ctx, ministry, bureaus)
        live = _live_reports(ctx, bureaus)
    cases = ExperienceCase.objects.filter(area__round=rnd).count()
    return (f"results: {cases} experience cases ({len(published)} published), {adoptions} adoptions; "
            f"{reports} accepted annual reports{'; ' + ', '.join(live) if live else ''}")
