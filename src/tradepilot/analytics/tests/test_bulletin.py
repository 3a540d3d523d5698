from __future__ import annotations

import time

import pytest
from django.test import Client

from tradepilot.analytics import bulletin, queries
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import Region, Role

pytestmark = pytest.mark.django_db


def test_scratch(trade):
    from tradepilot.conftest import make_user
    m = make_user("m", Role.MINISTRY)
    bz = make_user("bzj", Role.BUREAU, region="330000")
    for r in Region.objects.filter(level__lte=2):
        cs = queries.cells(Filter(start=202606, end=202606, region_path=r.path), ["direction"])
        print(r.code, r.name_en, r.level, [(c.key, c.contributors, c.value) for c in cs])
    for u, name, params in ((m, "nat", {"period": "2026-06"}), (bz, "zj", {"period": "2026-06"}),
                            (m, "hz", {"period": "2026-06", "pilot_area": "330100"})):
        c = Client(); c.force_login(u)
        r = c.get("/analytics/bulletin/", params)
        print(name, r.status_code)
        open(f"/tmp/bl/{name}.html", "wb").write(r.content)
        t = time.perf_counter()
        r = c.get("/analytics/bulletin/", {**params, "format": "pdf"})
        print("pdf", r.status_code, len(r.content), time.perf_counter() - t, r["Content-Disposition"])
        open(f"/tmp/bl/{name}.pdf", "wb").write(r.content)
        r = c.get("/analytics/bulletin/", {**params, "format": "xlsx"})
        open(f"/tmp/bl/{name}.xlsx", "wb").write(r.content)
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    r = c.get("/analytics/bulletin/", {"period": "2026-06", "region": "330000"})
    open("/tmp/bl/en.html", "wb").write(r.content)
    r = c.get("/analytics/bulletin/", {"period": "2026-06", "region": "330000", "format": "pdf"})
    open("/tmp/bl/en.pdf", "wb").write(r.content)
