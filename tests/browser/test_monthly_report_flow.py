"""The monthly report in a real browser: fill in, save, submit, review (one and two levels), revise, errors, language."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from conftest import OPEN_PERIOD, login

from tradepilot.core.models import AuditLog
from tradepilot.reporting.models import Report, Status

pytestmark = pytest.mark.browser

SUBMITTED_LABELS = {"已提交", "Submitted"}


def start_report(page, live_server, period: str = OPEN_PERIOD):
    """From "My reports", start the report of `period` and return the report page's pk."""
    if "/reporting/my/" not in page.url:
        page.goto(f"{live_server.url}/reporting/my/")
    start = page.locator(f"form:has(input[name=period][value='{period}']) button[type=submit]")
    with page.expect_navigation():
        start.click()
    match = re.search(r"/reporting/reports/(\d+)/$", page.url)
    assert match, page.url
    return int(match.group(1))


def line_rows(page):
    return page.locator("table#lines tbody tr.line")


def fill_line(row, *, direction: str, service: str, partner: str, mode: str, amount: str, currency: str):
    row.locator("select[name=direction]").select_option(direction)
    row.locator("input[name=service]").fill(service)
    row.locator("input[name=partner]").fill(partner)
    row.locator("select[name=mode]").select_option(mode)
    row.locator("input[name=amount]").fill(amount)
    row.locator("input[name=currency]").fill(currency)


def ensure_rows(page, n: int):
    """The form starts with one blank row (added by report.js); add rows with "#add-line" up to n."""
    rows = line_rows(page)
    rows.first.wait_for()
    while rows.count() < n:
        page.click("#add-line")
    assert rows.count() == n


def click_and_wait(page, selector: str):
    with page.expect_navigation():
        page.click(selector)


def save(page):
    click_and_wait(page, "#report-form button[name=action][value=save]")


def open_from_workbench(page, live_server, enterprise_name: str, status: str | None = None):
    """Open a report from the review queue (optionally filtering by status through the filter form)."""
    if "/reporting/workbench/" not in page.url:
        page.goto(f"{live_server.url}/reporting/workbench/")
    if status is not None:
        page.locator("form.filters select[name=status]").select_option(status)
        click_and_wait(page, "form.filters button[type=submit]")
    row = page.locator("table.grid tbody tr", has_text=enterprise_name)
    assert row.count() == 1, page.content()
    click_and_wait(page, f"table.grid tbody tr:has-text('{enterprise_name}') a.button")


def audit_actions(page) -> list[str]:
    # The action column shows a readable label; the code is in its title.
    cells = page.locator("table.audit tbody td[title]")
    return [cells.nth(i).get_attribute("title") for i in range(cells.count())]


def test_enterprise_submits_and_single_level_bureau_accepts(transactional_db, live_server, world, rates,
                                                            fixed_today, new_page, shots):
    ent = new_page()
    login(ent, live_server, "enterprise-bj")
    assert ent.url.endswith("/reporting/my/")

    pk = start_report(ent, live_server)
    report = Report.objects.get(pk=pk)
    assert (report.enterprise_id, f"{report.year}-{report.month:02d}") == (world.bj.pk, OPEN_PERIOD)
    assert report.status == Status.DRAFT

    ensure_rows(ent, 2)
    rows = line_rows(ent)
    fill_line(rows.nth(0), direction="X", service="SI2", partner="US", mode="1", amount="120000.50", currency="USD")
    fill_line(rows.nth(1), direction="M", service="SJ2", partner="DE", mode="2", amount="80000", currency="EUR")
    save(ent)

    lines = list(report.lines.order_by("line_no").select_related("service", "partner", "currency"))
    assert [(x.direction, x.service.code, x.partner.alpha2, x.amount, x.currency.code) for x in lines] == [
        ("X", "SI2", "US", Decimal("120000.50"), "USD"),
        ("M", "SJ2", "DE", Decimal("80000.00"), "EUR"),
    ]
    assert lines[0].usd_amount == Decimal("120000.50")
    assert lines[1].usd_amount is not None and lines[1].usd_amount > Decimal("80000")  # EUR is worth more than USD
    # The saved form shows the USD values the server computed, and the totals.
    usd_cells = ent.locator("table#lines tbody tr.line td.num").all_inner_texts()
    assert [c.strip() for c in usd_cells] == [str(lines[0].usd_amount), str(lines[1].usd_amount)]
    totals = ent.locator(".totals").inner_text()
    assert "120000.50" in totals and f"{lines[1].usd_amount:.2f}" in totals
    ent.screenshot(path=str(shots / "report-form-filled.png"), full_page=True)

    click_and_wait(ent, "#submit-report")
    status = ent.locator("#report-status")
    assert "status-submitted" in status.get_attribute("class")
    assert status.inner_text().strip() in SUBMITTED_LABELS
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and report.submitted_by == world.ent_bj
    assert ent.locator("#submit-report").count() == 0  # no longer editable

    bureau = new_page()
    login(bureau, live_server, "bureau-beijing")
    assert "/reporting/workbench/" in bureau.url
    open_from_workbench(bureau, live_server, world.bj.name)
    assert bureau.url.endswith(f"/reporting/reports/{pk}/")
    click_and_wait(bureau, "#approve")

    report.refresh_from_db()
    assert report.status == Status.ACCEPTED  # Beijing: the provincial bureau's approval is final
    assert report.approved_by == world.bureau_bj and report.accepted_by == world.bureau_bj
    assert "status-accepted" in bureau.locator("#report-status").get_attribute("class")
    actions = audit_actions(bureau)
    assert "submit" in actions and "approve" in actions
    assert list(AuditLog.objects.filter(report=report, action__in=["submit", "approve"])
                .order_by("timestamp").values_list("action", "actor__username")) == [
        ("submit", "enterprise-bj"), ("approve", "bureau-beijing")]
    assert bureau.locator("#approve").count() == 0

    # The ministry's completeness page for the period, with this report counted.
    ministry = new_page()
    login(ministry, live_server, "ministry")
    ministry.goto(f"{live_server.url}/reporting/completeness/?period={OPEN_PERIOD}")
    ministry.locator("#completeness-table").wait_for()
    ministry.screenshot(path=str(shots / "completeness-ministry.png"), full_page=True)
    beijing = ministry.locator("#completeness-table tbody tr", has_text="北京")
    cells = [c.strip() for c in beijing.locator("td").all_inner_texts()]
    assert cells[1:3] == ["2", "1"]  # two key-contact enterprises expected in Beijing, one submitted


def test_invalid_lines_are_located_and_nothing_is_lost(transactional_db, live_server, world, rates, fixed_today,
                                                       page):
    login(page, live_server, "enterprise-bj")
    pk = start_report(page, live_server)
    ensure_rows(page, 3)
    rows = line_rows(page)
    fill_line(rows.nth(0), direction="X", service="SI2", partner="US", mode="1", amount="5000", currency="USD")
    fill_line(rows.nth(1), direction="X", service="SI", partner="GB", mode="1", amount="7000", currency="GBP")
    fill_line(rows.nth(2), direction="M", service="SJ1", partner="JP", mode="4", amount="-250", currency="JPY")
    rows.nth(2).locator("input[name=note]").fill("负数测试")
    save(page)

    assert Report.objects.get(pk=pk).lines.count() == 0  # all or nothing: the valid first line is not saved either
    assert page.locator("ul.messages .msg-error").count() == 1

    rows = line_rows(page)
    assert rows.count() == 3
    values = [
        {name: r.locator(f"[name={name}]").input_value()
         for name in ("direction", "service", "partner", "mode", "amount", "currency", "note")}
        for r in (rows.nth(i) for i in range(3))
    ]
    assert values == [
        {"direction": "X", "service": "SI2", "partner": "US", "mode": "1", "amount": "5000", "currency": "USD",
         "note": ""},
        {"direction": "X", "service": "SI", "partner": "GB", "mode": "1", "amount": "7000", "currency": "GBP",
         "note": ""},
        {"direction": "M", "service": "SJ1", "partner": "JP", "mode": "4", "amount": "-250", "currency": "JPY",
         "note": "负数测试"},
    ]
    # Each error sits right below its own line; the valid line has none.
    assert "has-error" not in (rows.nth(0).get_attribute("class") or "")
    for i, expected in ((1, "SI"), (2, "-250")):
        row = rows.nth(i)
        assert "has-error" in row.get_attribute("class")
        message = row.locator("xpath=following-sibling::tr[1]")
        assert "line-msg" in message.get_attribute("class")
        assert message.locator(".error").count() == 1
        if expected == "SI":
            assert "SI" in message.inner_text()
        else:
            assert re.search(r"greater than zero|大于", message.inner_text())
    assert page.locator("tr.line-msg").count() == 2


def test_two_level_review_and_revision_shows_changes(transactional_db, live_server, world, rates, fixed_today,
                                                     new_page):
    ent = new_page()
    login(ent, live_server, "enterprise-hz")
    pk = start_report(ent, live_server)
    ensure_rows(ent, 2)
    rows = line_rows(ent)
    fill_line(rows.nth(0), direction="X", service="SI2", partner="US", mode="1", amount="1000", currency="USD")
    fill_line(rows.nth(1), direction="M", service="SC1", partner="HK", mode="1", amount="3000", currency="HKD")
    click_and_wait(ent, "#submit-report")
    v1 = Report.objects.get(pk=pk)
    assert v1.status == Status.SUBMITTED and v1.lines.count() == 2

    city = new_page()
    login(city, live_server, "bureau-hangzhou")
    open_from_workbench(city, live_server, world.hz.name)
    assert city.locator("#accept").count() == 0
    click_and_wait(city, "#approve")
    v1.refresh_from_db()
    assert v1.status == Status.APPROVED and v1.approved_by == world.bureau_hz
    assert "status-approved" in city.locator("#report-status").get_attribute("class")

    province = new_page()
    login(province, live_server, "bureau-zhejiang")
    open_from_workbench(province, live_server, world.hz.name, status="approved")
    assert province.locator("#approve").count() == 0
    click_and_wait(province, "#accept")
    v1.refresh_from_db()
    assert v1.status == Status.ACCEPTED and v1.accepted_by == world.bureau_zj

    # The enterprise revises the accepted report with a reason, changes an amount and resubmits.
    ent.goto(f"{live_server.url}/reporting/reports/{pk}/")
    assert "status-accepted" in ent.locator("#report-status").get_attribute("class")
    revise_form = ent.locator("form:has(#revise)")
    revise_form.locator("input[name=reason]").fill("出口金额更正：合同补充协议")
    click_and_wait(ent, "#revise")
    v2 = Report.objects.get(enterprise=world.hz, year=v1.year, month=v1.month, is_current=True)
    assert v2.pk != v1.pk and v2.version == 2 and v2.status == Status.DRAFT
    assert ent.url.endswith(f"/reporting/reports/{v2.pk}/")
    assert "出口金额更正" in ent.locator(".callout").first.inner_text()
    rows = line_rows(ent)
    assert rows.count() == 2
    assert rows.nth(0).locator("input[name=amount]").input_value() == "1000.00"
    rows.nth(0).locator("input[name=amount]").fill("1500")
    click_and_wait(ent, "#submit-report")
    v2.refresh_from_db()
    v1.refresh_from_db()
    assert v2.status == Status.SUBMITTED and v1.status == Status.SUPERSEDED
    assert sorted(v2.lines.values_list("amount", flat=True)) == [Decimal("1500.00"), Decimal("3000.00")]

    city.goto(f"{live_server.url}/reporting/workbench/")
    open_from_workbench(city, live_server, world.hz.name)
    assert city.url.endswith(f"/reporting/reports/{v2.pk}/")
    review = city.locator("section.review")
    assert review.locator("h3").count() == 1  # "What changed since the last approval"
    changed = review.locator("table tbody tr")
    assert changed.count() == 1
    cells = [c.strip() for c in changed.first.locator("td").all_inner_texts()]
    assert cells[1:6] == ["SI2", "US", "1", "N", "USD"]
    assert cells[6:] == ["1000.00", "1500.00"]
    assert "chg-changed" in changed.first.get_attribute("class")
    # History spans both versions: submit, approve, accept, supersede, revise, submit.
    actions = audit_actions(city)
    for action in ("submit", "approve", "accept", "supersede", "revise"):
        assert action in actions, (action, actions)


def test_language_switch(transactional_db, live_server, world, fixed_today, page):
    login(page, live_server, "enterprise-bj")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    with page.expect_navigation():
        page.locator("form.lang button[name=language][value=en]").click()
    assert page.url.endswith("/reporting/my/")  # stays on the same page
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav.mainnav a").first.inner_text().strip() == "My reports"
    assert page.locator("h1").inner_text().strip() == "My reports"
    switch_back = page.locator("form.lang button[name=language][value=zh-hans]")
    assert switch_back.inner_text().strip() == "中文"
    # The choice sticks across pages (cookie), and switching back works.
    page.goto(f"{live_server.url}/reporting/imports/")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.locator("form.lang button[name=language][value=zh-hans]").click()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("form.lang button[name=language][value=en]").inner_text().strip() == "English"
