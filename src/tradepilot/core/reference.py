"""Loading the reference tables from `core/data/` (and, for countries and currencies, from pycountry).

Every loader is idempotent: rows are keyed by their official code, missing rows are created, rows whose values
differ from the source are updated, and nothing is deleted (reference rows are protected by foreign keys from
reported data, so a code that disappears from a source file is left for a person to retire).

Data files:

* `regions.csv` – GB/T 2260 divisions used by the platform (all 34 province-level divisions, the pilot cities
  and new areas, provincial capitals, a few districts). Codes of state-level new areas that GB/T 2260 does
  not list are documented in the file's `note` column.
* `pilot_rounds.json` – pilot rounds and their areas, in the order of the approving document.
* `ebops2010.csv` – EBOPS 2010 standard components and sub-components (MSITS 2010 / BPM6).
* `industries.csv` – GB/T 4754-2017 sections (A–T) and divisions (01–97).
* `agencies.csv` – member units of the inter-ministerial joint conference and the other units named as
  responsible in Annex 3 of 国函〔2018〕79号.
* `supply_modes.csv` – GATS modes of supply.

`load_all` ends by loading the governance programme (`governance/data/programme/`, see
`tradepilot.governance.programme`), which is keyed on the rounds and agencies loaded here.
"""

from __future__ import annotations

import csv
import datetime as dt
import gettext
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from django.db import models, transaction

from .models import (
    Agency,
    Country,
    Currency,
    Industry,
    PilotArea,
    PilotRound,
    Region,
    ServiceCategory,
    SupplyMode,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

# --------------------------------------------------------------------------------------------------------------
# Overrides for pycountry data
# --------------------------------------------------------------------------------------------------------------

#: Chinese names for China's own regions (and China itself), as used in Chinese official statistics.
CHINA_REGION_NAMES: dict[str, tuple[str, str]] = {
    "CN": ("中国", "China"),
    "HK": ("中国香港", "Hong Kong, China"),
    "MO": ("中国澳门", "Macao, China"),
    "TW": ("中国台湾", "Taiwan, China"),
}

#: Corrections to pycountry's zh_CN names: typos, non-mainland usage, or long forms where Chinese statistics
#: (海关/外汇统计国别) use the short name.
COUNTRY_NAME_ZH_OVERRIDES: dict[str, str] = {
    "BD": "孟加拉国",
    "BO": "玻利维亚",
    "BV": "布韦岛",
    "GS": "南乔治亚和南桑威奇群岛",
    "GT": "危地马拉",
    "IM": "马恩岛",
    "IR": "伊朗",
    "KG": "吉尔吉斯斯坦",
    "KH": "柬埔寨",
    "KP": "朝鲜",
    "KR": "韩国",
    "LA": "老挝",
    "MD": "摩尔多瓦",
    "PF": "法属波利尼西亚",
    "SY": "叙利亚",
    "VE": "委内瑞拉",
}

#: Corrections to pycountry's zh_CN currency names (missing translations and a few mistranslations).
CURRENCY_NAME_ZH_OVERRIDES: dict[str, str] = {
    "ALL": "阿尔巴尼亚列克",
    "AMD": "亚美尼亚德拉姆",
    "BDT": "孟加拉塔卡",
    "BOB": "玻利维亚诺",
    "CNY": "人民币",
    "ILS": "以色列新谢克尔",
    "JOD": "约旦第纳尔",
    "KGS": "吉尔吉斯斯坦索姆",
    "LRD": "利比里亚元",
    "MKD": "马其顿第纳尔",
    "TWD": "新台币",
    "XAD": "阿拉伯记账第纳尔",
    "XCG": "加勒比盾",
    "ZWG": "津巴布韦金",
}

#: ISO 4217 minor units where they differ from 2 (pycountry does not carry them). Codes whose minor unit is
#: "N.A." in ISO 4217 (precious metals, SDR, bond market units, XTS, XXX) keep the default of 2.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    # zero decimals
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals
    "CLF": 4, "UYW": 4,
}  # fmt: skip
DEFAULT_MINOR_UNITS = 2


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _read_json(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"true", "1", "yes", "y", "t"}:
        return True
    if v in {"false", "0", "no", "n", "f", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _sync(model: type[models.Model], key: str, rows: list[dict[str, Any]]) -> dict[Any, int]:
    """Create missing rows and update changed ones in bulk; returns {key value: pk} for all rows.

    `rows` hold attribute values (use `parent_id`, not `parent`); every row must carry the same attributes.
    """
    if not rows:
        return {}
    keys = [r[key] for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{model.__name__}: duplicate {key} in source data")
    fields = [f for f in rows[0] if f != key]
    existing = {getattr(o, key): o for o in model._default_manager.filter(**{f"{key}__in": keys})}
    to_create: list[models.Model] = []
    to_update: list[models.Model] = []
    changed: set[str] = set()
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            to_create.append(model(**row))
            continue
        diff = [f for f in fields if getattr(obj, f) != row[f]]
        if diff:
            for f in diff:
                setattr(obj, f, row[f])
            changed.update(diff)
            to_update.append(obj)
    if to_create:
        model._default_manager.bulk_create(to_create)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed))
    if to_create and any(o.pk is None for o in to_create):  # backends that do not return ids
        return dict(model._default_manager.filter(**{f"{key}__in": keys}).values_list(key, "pk"))
    result = {k: o.pk for k, o in existing.items()}
    result.update({getattr(o, key): o.pk for o in to_create})
    return result


def _sync_tree(
    model: type[models.Model], rows: list[dict[str, Any]], parent_key: str = "parent_code"
) -> dict[str, int]:
    """`_sync` for self-referencing tables keyed by `code`: parents first, then each level below them."""
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        p = r[parent_key]
        if p and p not in by_code:
            raise ValueError(f"{model.__name__} {r['code']}: unknown parent {p}")

    def depth(code: str) -> int:
        d, seen = 0, {code}
        while p := by_code[code][parent_key]:
            if p in seen:
                raise ValueError(f"{model.__name__} {code}: cycle in parents")
            seen.add(p)
            code, d = p, d + 1
        return d

    levels: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        levels.setdefault(depth(r["code"]), []).append(r)
    ids: dict[str, int] = {}
    for d in sorted(levels):
        batch = []
        for r in levels[d]:
            values = {k: v for k, v in r.items() if k != parent_key}
            values["parent_id"] = ids[r[parent_key]] if r[parent_key] else None
            batch.append(values)
        ids.update(_sync(model, "code", batch))
    return ids


# --------------------------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------------------------


def load_regions() -> int:
    """GB/T 2260 divisions. Saved one by one (only when new or changed) because `Region.save` computes `path`."""
    rows = _read_csv("regions.csv")
    by_code = {r["code"]: r for r in rows}
    if len(by_code) != len(rows):
        raise ValueError("regions.csv: duplicate codes")
    kinds = set(Region.Kind.values)
    for r in rows:
        if r["kind"] not in kinds:
            raise ValueError(f"regions.csv {r['code']}: unknown kind {r['kind']!r}")
        if r["parent_code"] and r["parent_code"] not in by_code:
            raise ValueError(f"regions.csv {r['code']}: unknown parent {r['parent_code']}")
        if int(r["level"]) != (int(by_code[r["parent_code"]]["level"]) + 1 if r["parent_code"] else 1):
            raise ValueError(f"regions.csv {r['code']}: level does not match its parent")

    existing = {r.code: r for r in Region.objects.filter(code__in=list(by_code))}
    saved: dict[str, Region] = {}
    with transaction.atomic():
        for r in sorted(rows, key=lambda r: (int(r["level"]), r["code"])):
            parent = saved[r["parent_code"]] if r["parent_code"] else None
            values = {
                "level": int(r["level"]),
                "kind": r["kind"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "parent_id": parent.pk if parent else None,
            }
            expected_path = (parent.path if parent else "/") + r["code"] + "/"
            obj = existing.get(r["code"])
            if obj is None:
                obj = Region(code=r["code"], **values)
                obj.parent = parent
                obj.save()
            elif obj.path != expected_path or any(getattr(obj, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(obj, f, v)
                obj.parent = parent
                obj.save()
            saved[r["code"]] = obj
    return len(rows)


def load_pilot_rounds() -> tuple[int, int]:
    """Pilot rounds and their areas; `PilotArea.order` is the area's position in the approving document."""
    rounds = _read_json("pilot_rounds.json")
    round_ids = _sync(
        PilotRound,
        "code",
        [
            {
                "code": str(r["code"]),
                "name_zh": r["name_zh"],
                "name_en": r.get("name_en", ""),
                "document": r.get("document", ""),
                "start_date": dt.date.fromisoformat(r["start_date"]),
                "end_date": dt.date.fromisoformat(r["end_date"]),
            }
            for r in rounds
        ],
    )
    codes = {a["region_code"] for r in rounds for a in r["areas"]}
    region_ids = dict(Region.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = codes - set(region_ids)
    if missing:
        raise ValueError(f"pilot_rounds.json: unknown regions {sorted(missing)} (load regions first)")

    n_areas = 0
    for r in rounds:
        round_id = round_ids[str(r["code"])]
        existing = {a.region_id: a for a in PilotArea.objects.filter(round_id=round_id)}
        to_create, to_update = [], []
        seen: set[int] = set()
        for order, a in enumerate(r["areas"], start=1):
            region_id = region_ids[a["region_code"]]
            if region_id in seen:
                raise ValueError(f"pilot_rounds.json {r['code']}: region {a['region_code']} listed twice")
            seen.add(region_id)
            values = {"name_zh": a["name_zh"], "name_en": a.get("name_en", ""), "order": order}
            obj = existing.get(region_id)
            if obj is None:
                to_create.append(PilotArea(round_id=round_id, region_id=region_id, **values))
            elif any(getattr(obj, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(obj, f, v)
                to_update.append(obj)
        PilotArea.objects.bulk_create(to_create)
        if to_update:
            PilotArea.objects.bulk_update(to_update, ["name_zh", "name_en", "order"])
        n_areas += len(r["areas"])
    return len(rounds), n_areas


def load_ebops() -> int:
    """EBOPS 2010 components and sub-components; `is_leaf` follows from whether a row has children."""
    rows = _read_csv("ebops2010.csv")
    parents = {r["parent_code"] for r in rows if r["parent_code"]}
    _sync_tree(
        ServiceCategory,
        [
            {
                "code": r["code"],
                "parent_code": r["parent_code"],
                "level": int(r["level"]),
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "knowledge_intensive": _bool(r["knowledge_intensive"]),
                "order": int(r["order"]),
                "is_leaf": r["code"] not in parents,
            }
            for r in rows
        ],
    )
    return len(rows)


def load_industries() -> int:
    """GB/T 4754-2017 sections and divisions."""
    rows = _read_csv("industries.csv")
    _sync_tree(
        Industry,
        [
            {
                "code": r["code"],
                "parent_code": r["parent_code"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
            }
            for r in rows
        ],
    )
    return len(rows)


def load_agencies() -> int:
    rows = _read_csv("agencies.csv")
    _sync(
        Agency,
        "code",
        [
            {
                "code": r["code"],
                "abbreviation": r["abbreviation"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "order": int(r["order"]),
            }
            for r in rows
        ],
    )
    return len(rows)


def load_supply_modes() -> int:
    rows = _read_csv("supply_modes.csv")
    _sync(
        SupplyMode,
        "code",
        [
            {
                "code": r["code"],
                "in_direct_report": _bool(r["in_direct_report"]),
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
            }
            for r in rows
        ],
    )
    return len(rows)


@cache
def _pycountry_translation(domain: str) -> Callable[[str], str]:
    import pycountry

    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["zh_CN"]).gettext
    except OSError:  # pragma: no cover - pycountry always ships zh_CN
        return lambda s: s


def country_rows() -> list[dict[str, str]]:
    """ISO 3166-1 countries with Chinese names; HK, MO and TW are named as regions of China."""
    import pycountry

    zh = _pycountry_translation("iso3166-1")
    rows = []
    for c in pycountry.countries:
        name_zh, name_en = zh(c.name), c.name
        name_zh = COUNTRY_NAME_ZH_OVERRIDES.get(c.alpha_2, name_zh)
        if c.alpha_2 in CHINA_REGION_NAMES:
            name_zh, name_en = CHINA_REGION_NAMES[c.alpha_2]
        rows.append(
            {
                "alpha2": c.alpha_2,
                "alpha3": c.alpha_3,
                "numeric": c.numeric,
                "name_zh": name_zh,
                "name_en": name_en,
            }
        )
    return rows


def currency_rows() -> list[dict[str, Any]]:
    """ISO 4217 currencies with Chinese names and minor units."""
    import pycountry

    zh = _pycountry_translation("iso4217")
    return [
        {
            "code": c.alpha_3,
            "numeric": getattr(c, "numeric", "") or "",
            "name_zh": CURRENCY_NAME_ZH_OVERRIDES.get(c.alpha_3, zh(c.name)),
            "name_en": c.name,
            "minor_units": CURRENCY_MINOR_UNITS.get(c.alpha_3, DEFAULT_MINOR_UNITS),
        }
        for c in pycountry.currencies
    ]


def load_countries() -> int:
    rows = country_rows()
    _sync(Country, "alpha2", rows)
    return len(rows)


def load_currencies() -> int:
    rows = currency_rows()
    _sync(Currency, "code", rows)
    return len(rows)


def load_all(stdout: TextIO | None = None) -> dict[str, int]:
    """Load every reference table in one transaction; returns the number of source rows per table."""
    counts: dict[str, int] = {}

    def report(name: str, n: int) -> None:
        counts[name] = n
        if stdout is not None:
            stdout.write(f"{name}: {n}\n")

    def step(name: str, fn: Callable[[], int]) -> None:
        report(name, fn())

    with transaction.atomic():
        step("regions", load_regions)
        n_rounds, n_areas = load_pilot_rounds()
        report("pilot_rounds", n_rounds)
        report("pilot_areas", n_areas)
        step("service_categories", load_ebops)
        step("industries", load_industries)
        step("agencies", load_agencies)
        step("supply_modes", load_supply_modes)
        step("countries", load_countries)
        step("currencies", load_currencies)
        _load_governance_programme()
    return counts


def _load_governance_programme() -> None:
    """The governance programme (tasks, measures, area records) rests on the rounds and agencies loaded above.

    Imported here, not at module level, so that core does not depend on governance when it is imported; its
    counts are not part of `load_all`'s result, which covers core's own tables."""
    from tradepilot.governance.programme import load_programme

    load_programme()


__all__ = [
    "load_all",
    "load_regions",
    "load_pilot_rounds",
    "load_ebops",
    "load_industries",
    "load_agencies",
    "load_supply_modes",
    "load_countries",
    "load_currencies",
    "country_rows",
    "currency_rows",
]
