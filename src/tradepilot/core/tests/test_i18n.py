"""Chinese first, English on request; the catalog covers every message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import tradepilot

PO = Path(tradepilot.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.django_db
def test_pages_are_chinese_by_default_even_for_an_english_browser(world):
    client = Client(headers={"Accept-Language": "en-US,en;q=0.9"})
    client.force_login(world.ent_bj)
    html = client.get("/reporting/my/").content.decode()
    assert "我的报表" in html and 'lang="zh-hans"' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/reporting/my/"})
    html = client.get("/reporting/my/").content.decode()
    assert "My reports" in html and 'lang="en"' in html


def test_every_message_is_translated():
    text = PO.read_text("utf-8")
    entries = [e for e in text.split("\n\n") if "msgid" in e]
    fuzzy = [e for e in entries if re.search(r"^#,.*fuzzy", e, re.M)]
    empty = [e for e in entries[1:] if e.strip().split("\n")[-1] == 'msgstr ""']
    assert fuzzy == [] and empty == []


def test_approved_says_what_was_approved():
    """A monthly report a bureau approved is 已审核; a work plan or results report the ministry approved is 已通过."""
    from django.utils import translation

    from tradepilot.governance.models import ReviewStatus
    from tradepilot.reporting.models import Status

    with translation.override("zh-hans"):
        assert str(Status.APPROVED.label) == "已审核"
        assert str(ReviewStatus.APPROVED.label) == "已通过"
    with translation.override("en"):
        assert str(ReviewStatus.APPROVED.label) == str(Status.APPROVED.label) == "Approved"
