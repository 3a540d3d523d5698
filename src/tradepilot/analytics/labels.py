"""Display names for dimension codes (in the active language), loaded once per process and language."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language
from django.utils.translation import gettext as _

DATA = Path(__file__).parent / "data"


def _zh() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


@lru_cache(maxsize=4)
def _names(language_is_zh: bool) -> dict[str, dict[str, str]]:
    from tradepilot.core.models import Country, PilotArea, Region, ServiceCategory, SupplyMode
    from tradepilot.enterprises.models import Enterprise

    def pick(zh, en):
        return zh if language_is_zh or not en else en

    names: dict[str, dict[str, str]] = {}
    services = {c.code: pick(c.name_zh, c.name_en) for c in ServiceCategory.objects.all()}
    names["service"] = names["component"] = services
    names["partner"] = names["parent_country"] = names["host_country"] = {
        c.alpha2: pick(c.name_zh, c.name_en) for c in Country.objects.all()}
    regions = {r.code: pick(r.name_zh, r.name_en) for r in Region.objects.all()}
    names["province"] = names["city"] = names["region"] = regions
    names["pilot_area"] = {a.region.code: pick(a.name_zh, a.name_en)
                           for a in PilotArea.objects.select_related("region")}
    names["mode"] = {m.code: pick(m.name_zh, m.name_en) for m in SupplyMode.objects.all()}
    names["registration_type"] = {k: str(v) for k, v in Enterprise.RegistrationType.choices}
    with open(DATA / "continent_names.csv", encoding="utf-8") as f:
        names["continent"] = {r["code"]: pick(r["name_zh"], r["name_en"]) for r in csv.DictReader(f)}
    return names


@lru_cache(maxsize=1)
def continents() -> dict[str, str]:
    with open(DATA / "continents.csv", encoding="utf-8") as f:
        return {r["alpha2"]: r["continent"] for r in csv.DictReader(f)}


def label(dim: str, code) -> str:
    if dim == "direction":
        return {"X": _("Exports"), "M": _("Imports")}.get(code, str(code))
    if dim in ("is_pilot",):
        return _("Pilot areas") if int(code) else _("Other regions")
    if dim in ("knowledge_intensive",):
        return _("Knowledge-intensive") if int(code) else _("Other services")
    if dim == "related_party":
        return _("Related party") if int(code) else _("Unrelated")
    if dim == "period":
        return f"{int(code) // 100}-{int(code) % 100:02d}"
    if dim == "pilot_area" and code == "":
        return _("Not in a pilot area")
    if dim == "city" and code == "":
        return _("Registered at province level")
    return _names(_zh()).get(dim, {}).get(code, str(code))
