"""Publication of the official service-trade aggregates in SDMX: SDMX-ML 2.1 and SDMX-CSV 2.0.

Structures (agency CN_MOFCOM, version 1.0): dataflow SERVICES_TRADE, data structure DSD_SERVICES_TRADE,
concept scheme CS_SERVICES_TRADE and the codelists below, shaped like the IMF balance-of-payments DSD::

    pos  dimension          codelist               codes
    1    FREQ               CL_FREQ                A annual, Q quarterly, M monthly
    2    REF_AREA           CL_AREA                CN national; provinces and pilot areas by their GB/T 2260
                                                   code unchanged (110000, 330100 …); parents CN → province
    3    COUNTERPART_AREA   CL_COUNTERPART_AREA    W1 all partners; ISO 3166-1 alpha-2 (US, HK …)
    4    BOP_ITEM           CL_BOP_ITEM            S total services; EBOPS 2010 components SA…SL, sub-items
    5    ACCOUNTING_ENTRY   CL_ACCOUNTING_ENTRY    C credit (exports), D debit (imports)
    6    MODE_OF_SUPPLY     CL_MODE_OF_SUPPLY      _T all modes; GATS modes 1, 2, 4 (mode 3 is FATS)
         TIME_PERIOD        (time dimension)       2026-03, 2026-Q1, 2026
    measure  OBS_VALUE      USD with exactly two decimals, written from Decimal (never a float)
    series   UNIT_MEASURE (USD), UNIT_MULT (0), DECIMALS (2): one unit, so an attribute, not a key part
    obs      OBS_STATUS (A normal, Q missing value: suppressed), CONF_STATUS (F free, C confidential)

REF_AREA codes are the platform's region codes unchanged ("110000" is Beijing everywhere); an area counts
the enterprises whose region lies in its subtree, so a province-level pilot area is the province itself.
A quarter or a year is published once every month of it has official data: the current year has no A.

Data queries follow SDMX REST 2.1: `data/{flow}/{key}?startPeriod=&endPeriod=`. `flow` is SERVICES_TRADE,
CN_MOFCOM,SERVICES_TRADE or CN_MOFCOM,SERVICES_TRADE,1.0 (agency may be all/*, version latest/*/+/~);
anything else is 404. `key` is the six dimension values in the order above, dot-separated; an empty part is
a wildcard and `+` means OR, e.g. `M.CN.W1.SC+SD.C._T`; `all` (or no key) is everything. A wrong number of
parts or a code outside its codelist is a `QueryError` with status 400 naming the dimension. Periods:
YYYY, YYYY-Sn, YYYY-Qn, YYYY-MM or YYYY-MM-DD; an observation is returned when its whole period falls
between the two, inclusive, as SDMX REST specifies. A query without results is 404, as SDMX REST specifies.

Confidentiality. Every observation comes from `queries.cells` at the official stage and is protected with
the rules of `disclosure.py`. The unit of protection is one ACCOUNTING_ENTRY and one year: the whole cube of
that entry and year (every area, partner, item, mode, month, quarter and the year) is protected at once and
only then filtered by the query, so no key changes which cells are suppressed and no two queries can be
combined to undo it. The public equations of the cube are all its sums: CN = Σ provinces, province = Σ its
pilot areas + the rest of the province, W1 = Σ partners, S = Σ components, component = Σ sub-items,
_T = Σ modes, year = Σ quarters = Σ months, quarter = Σ months. "The rest of a province" is never published;
when it is itself sensitive (say one enterprise outside the province's pilot city) it enters the cube as a
suppressed cell, so that province − city cannot reveal it. Then, until nothing changes:

1. primary suppression of every cell (`disclosure.primary_reason`: minimum contributors, dominance);
2. over every sum of the cube: a sum with exactly one suppressed member gets a complement (its smallest
   unsuppressed part, else its total); a sum with two suppressed members, one of a single enterprise, gets
   a third (that enterprise could subtract its own figure);
3. per slice (TIME_PERIOD, REF_AREA, MODE_OF_SUPPLY), i.e. the BOP_ITEM × COUNTERPART_AREA table with its S
   and W1 hierarchies, the exact linear-algebra check of `disclosure.Table` (`recoverable`,
   `singleton_recoverable`); a recoverable cell gets one more complement in a sum through it.

Guarantee: no suppressed cell is the only unknown of any published sum of the cube, and none can be computed
exactly from the published cells of its slice. Not claimed: exact attacks chaining several sums across
slices (across areas, modes and periods only step 2 applies), interval (LP) attacks, coalitions, and tables
published elsewhere (dashboards, bulletins) or earlier releases of revised data. Suppressed observations
have no OBS_VALUE, OBS_STATUS=Q and CONF_STATUS=C; primary and complementary suppressions look the same,
which would otherwise tell which cells are small.

Protected cubes are cached per process under a digest of the enterprise-level rows they come from; each
request runs that one query, so a refreshed store is never answered from a stale cube. A cold cube costs a
few seconds; `prepare()` computes them ahead (e.g. after an analytics refresh).

Writers: structure messages are sdmx1 (`import sdmx`) model objects written with `sdmx.to_xml`. Data are
written here: structure-specific SDMX-ML with lxml, because sdmx1's writer leaves out the DSD-specific
namespace and `xsi:type` that SDMX-ML 2.1 requires, and SDMX-CSV 2.0.0 with `csv`, because sdmx1's
`to_csv` returns a text rendering, not CSV. The tests read both back with sdmx1.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import io
import os
import pickle
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from lxml import etree

from tradepilot.analytics import disclosure, queries
from tradepilot.analytics.disclosure import CellStat
from tradepilot.analytics.queries import Filter

AGENCY = "CN_MOFCOM"
FLOW_ID = "SERVICES_TRADE"
DSD_ID = "DSD_SERVICES_TRADE"
CONCEPTS_ID = "CS_SERVICES_TRADE"
VERSION = "1.0"

DIMENSIONS = ("FREQ", "REF_AREA", "COUNTERPART_AREA", "BOP_ITEM", "ACCOUNTING_ENTRY", "MODE_OF_SUPPLY")
TIME_DIMENSION = "TIME_PERIOD"
MEASURE = "OBS_VALUE"
SERIES_ATTRIBUTES = ("UNIT_MEASURE", "UNIT_MULT", "DECIMALS")
OBS_ATTRIBUTES = ("OBS_STATUS", "CONF_STATUS")
SERIES_ATTRIBUTE_VALUES = {"UNIT_MEASURE": "USD", "UNIT_MULT": "0", "DECIMALS": "2"}

WORLD = "W1"          # COUNTERPART_AREA: all partners
ALL_SERVICES = "S"    # BOP_ITEM: total services
ALL_MODES = "_T"      # MODE_OF_SUPPLY: all modes
NATIONAL = "CN"       # REF_AREA: the whole country
ENTRIES = {"C": "X", "D": "M"}   # ACCOUNTING_ENTRY → fact-table direction

MEDIA_DATA_XML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
MEDIA_DATA_CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
MEDIA_STRUCTURE_XML = "application/vnd.sdmx.structure+xml;version=2.1"

NS_MESSAGE = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
NS_COMMON = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
NS_SS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"

STRUCTURE_TYPES = ("dataflow", "datastructure", "codelist", "conceptscheme")

# Bump when the cube or the protection changes, so that cached cubes computed by older code are not reused.
_ALGORITHM = "sdmx-cube-1"


class QueryError(Exception):
    """A query the API answers with a 4xx: `status`, a machine `code`, the offending `field` and a message."""

    def __init__(self, status: int, code: str, detail: str, field: str = ""):
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


def _bad(field: str, detail: str) -> QueryError:
    return QueryError(400, "invalid_query", f"{field}: {detail}", field)


# ------------------------------------------------------------------------------------------------ reference


@dataclass(frozen=True)
class Code:
    id: str
    name_en: str
    name_zh: str
    parent: str | None = None


@dataclass
class Reference:
    """The codelists, built from the reference tables (regions, pilot areas, countries, EBOPS, modes)."""

    codelists: dict[str, list[Code]]            # dimension/attribute id → codes, in publication order
    area_parent: dict[str, str | None] = field(default_factory=dict)
    item_parent: dict[str, str | None] = field(default_factory=dict)

    def ids(self, dimension: str) -> list[str]:
        return [c.id for c in self.codelists[dimension]]

    def children(self, parents: dict[str, str | None]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for code, parent in parents.items():
            if parent is not None:
                out.setdefault(parent, []).append(code)
        return out


CODELIST_IDS = {
    "FREQ": "CL_FREQ", "REF_AREA": "CL_AREA", "COUNTERPART_AREA": "CL_COUNTERPART_AREA",
    "BOP_ITEM": "CL_BOP_ITEM", "ACCOUNTING_ENTRY": "CL_ACCOUNTING_ENTRY",
    "MODE_OF_SUPPLY": "CL_MODE_OF_SUPPLY",
    "UNIT_MEASURE": "CL_UNIT", "UNIT_MULT": "CL_UNIT_MULT", "DECIMALS": "CL_DECIMALS",
    "OBS_STATUS": "CL_OBS_STATUS", "CONF_STATUS": "CL_CONF_STATUS",
}

CONCEPTS = {
    "FREQ": ("Frequency", "频率"),
    "REF_AREA": ("Reference area", "报告地区"),
    "COUNTERPART_AREA": ("Counterpart area", "对方国家或地区"),
    "BOP_ITEM": ("Balance of payments item (EBOPS 2010)", "国际收支服务项目（EBOPS 2010）"),
    "ACCOUNTING_ENTRY": ("Accounting entry", "记账方向"),
    "MODE_OF_SUPPLY": ("Mode of supply (GATS)", "服务提供模式"),
    "TIME_PERIOD": ("Time period", "时间"),
    "OBS_VALUE": ("Observation value", "观测值"),
    "UNIT_MEASURE": ("Unit of measure", "计量单位"),
    "UNIT_MULT": ("Unit multiplier", "单位倍数"),
    "DECIMALS": ("Decimals", "小数位数"),
    "OBS_STATUS": ("Observation status", "观测值状态"),
    "CONF_STATUS": ("Confidentiality status", "保密状态"),
}

_FIXED_CODES = {
    "FREQ": [Code("A", "Annual", "年度"), Code("Q", "Quarterly", "季度"), Code("M", "Monthly", "月度")],
    "ACCOUNTING_ENTRY": [Code("C", "Credit (exports)", "贷方（出口）"),
                         Code("D", "Debit (imports)", "借方（进口）")],
    "UNIT_MEASURE": [Code("USD", "US dollar", "美元")],
    "UNIT_MULT": [Code("0", "Units", "个")],
    "DECIMALS": [Code("2", "Two", "两位")],
    "OBS_STATUS": [Code("A", "Normal value", "正常值"),
                   Code("Q", "Missing value; suppressed", "缺失值：已隐匿")],
    "CONF_STATUS": [Code("F", "Free (free for publication)", "可公开"),
                    Code("C", "Confidential statistical information", "保密统计信息")],
}


def reference() -> Reference:
    """Codelists from the reference tables: CL_AREA = CN, the provinces (each followed by its pilot areas)."""
    from tradepilot.core.models import Country, PilotArea, Region, ServiceCategory, SupplyMode

    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))
    pilots = {a.region.code: a.region for a in PilotArea.objects.select_related("region")
              if a.region.level != Region.Level.PROVINCE}
    area_parent: dict[str, str | None] = {NATIONAL: None}
    for p in provinces:
        area_parent[p.code] = NATIONAL
    for code, region in sorted(pilots.items()):
        # The nearest ancestor that is itself published: a pilot city inside a pilot area, else the province.
        chain = [c for c in region.path.strip("/").split("/") if c][:-1]
        area_parent[code] = next((c for c in reversed(chain) if c in area_parent or c in pilots), chain[0])
    areas = [Code(NATIONAL, "China", "中国")]

    def add_area(code: str, by_code: dict) -> None:
        r = by_code[code]
        areas.append(Code(code, r.name_en or r.name_zh, r.name_zh, area_parent[code]))
        for child in sorted(c for c, p in area_parent.items() if p == code):
            add_area(child, by_code)

    by_code = {r.code: r for r in provinces} | pilots
    for p in provinces:
        add_area(p.code, by_code)

    partners = [Code(WORLD, "World (all partners)", "全部国家和地区")]
    partners += [Code(c.alpha2, c.name_en or c.name_zh, c.name_zh)
                 for c in Country.objects.order_by("alpha2")]

    item_parent: dict[str, str | None] = {ALL_SERVICES: None}
    items = [Code(ALL_SERVICES, "Services", "服务")]
    categories = list(ServiceCategory.objects.select_related("parent").order_by("order", "code"))

    def add_items(parent_pk: int | None, parent_code: str) -> None:
        for c in (c for c in categories if c.parent_id == parent_pk):
            item_parent[c.code] = parent_code
            items.append(Code(c.code, c.name_en or c.name_zh, c.name_zh, parent_code))
            add_items(c.pk, c.code)

    add_items(None, ALL_SERVICES)

    modes = [Code(ALL_MODES, "All modes of supply", "全部提供模式")]
    modes += [Code(m.code, m.name_en or m.name_zh, m.name_zh)
              for m in SupplyMode.objects.filter(in_direct_report=True).order_by("code")]

    codelists = {"REF_AREA": areas, "COUNTERPART_AREA": partners, "BOP_ITEM": items, "MODE_OF_SUPPLY": modes}
    codelists.update(_FIXED_CODES)
    return Reference(codelists, area_parent, item_parent)


# ------------------------------------------------------------------------------------------------ structures


def _maintained(cls, id_: str, name: tuple[str, str], agency, **kwargs):
    return cls(id=id_, name={"en": name[0], "zh": name[1]}, maintainer=agency, version=VERSION, is_final=True,
               is_external_reference=False, **kwargs)


@dataclass
class Structures:
    """The sdmx1 model objects of the publication."""

    agency: object
    codelists: dict[str, object]        # codelist id → sdmx Codelist
    concepts: object
    dsd: object
    dataflow: object

    def artefacts(self) -> list[tuple[str, object]]:
        """(REST resource type, artefact) for everything, dataflow first."""
        return ([("dataflow", self.dataflow), ("datastructure", self.dsd), ("conceptscheme", self.concepts)]
                + [("codelist", cl) for cl in self.codelists.values()])


def structures(ref: Reference | None = None) -> Structures:
    from sdmx.model import common
    from sdmx.model import v21 as model

    ref = ref or reference()
    agency = common.Agency(id=AGENCY, name={"en": "Ministry of Commerce of the People's Republic of China",
                                           "zh": "中华人民共和国商务部"})
    codelists = {}
    for component, cl_id in CODELIST_IDS.items():
        concept_name = CONCEPTS[component]
        cl = _maintained(common.Codelist, cl_id, concept_name, agency)
        for code in ref.codelists[component]:
            item = common.Code(id=code.id, name={"en": code.name_en, "zh": code.name_zh})
            if code.parent is not None:
                item.parent = cl[code.parent]
                cl[code.parent].child.append(item)
            cl.append(item)
        codelists[component] = cl

    scheme = _maintained(common.ConceptScheme, CONCEPTS_ID, ("Concepts of the service-trade statistics",
                                                             "服务贸易统计概念"), agency)
    for concept_id, (en, zh) in CONCEPTS.items():
        scheme.append(common.Concept(id=concept_id, name={"en": en, "zh": zh}))

    def enumerated(component: str):
        return common.Representation(enumerated=codelists[component])

    def text(value_type):
        return common.Representation(non_enumerated=[common.Facet(value_type=value_type)])

    dsd = _maintained(model.DataStructureDefinition, DSD_ID, ("Trade in services (BOP-like)",
                                                             "服务贸易（国际收支口径）"), agency)
    # SDMX-ML 2.1 fixes the ids of the three component lists.
    dsd.dimensions.id, dsd.attributes.id, dsd.measures.id = ("DimensionDescriptor", "AttributeDescriptor",
                                                            "MeasureDescriptor")
    for order, dim in enumerate(DIMENSIONS, start=1):
        dsd.dimensions.append(common.Dimension(id=dim, order=order, concept_identity=scheme[dim],
                                               local_representation=enumerated(dim)))
    dsd.dimensions.append(common.TimeDimension(
        id=TIME_DIMENSION, order=len(DIMENSIONS) + 1, concept_identity=scheme[TIME_DIMENSION],
        local_representation=text(common.FacetValueType.observationalTimePeriod)))
    dsd.measures.append(model.PrimaryMeasure(id=MEASURE, concept_identity=scheme[MEASURE],
                                             local_representation=text(common.FacetValueType.decimal)))
    series_dims = [dsd.dimensions.get(d) for d in DIMENSIONS]
    for attr in SERIES_ATTRIBUTES:
        dsd.attributes.append(common.DataAttribute(
            id=attr, concept_identity=scheme[attr], local_representation=enumerated(attr),
            usage_status=common.UsageStatus.mandatory,
            related_to=common.DimensionRelationship(dimensions=series_dims)))
    for attr in OBS_ATTRIBUTES:
        dsd.attributes.append(common.DataAttribute(
            id=attr, concept_identity=scheme[attr], local_representation=enumerated(attr),
            usage_status=common.UsageStatus.mandatory, related_to=model.PrimaryMeasureRelationship()))

    flow = _maintained(model.DataflowDefinition, FLOW_ID,
                       ("Trade in services: official aggregates, protected",
                        "服务贸易：正式汇总数据（已做保密处理）"),
                       agency, structure=dsd)
    return Structures(agency, {cl.id: cl for cl in codelists.values()}, scheme, dsd, flow)


def _structure_xml(parts: Structures, selected: Iterable[object]) -> bytes:
    import sdmx
    from sdmx import message

    msg = message.StructureMessage(header=message.Header(
        id=f"STRUCTURE_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}", prepared=dt.datetime.now(dt.UTC),
        sender=parts.agency))
    for artefact in selected:
        msg.add(artefact)
    return sdmx.to_xml(msg, pretty_print=True)


def structure_message() -> bytes:
    """SDMX-ML 2.1 structure message: the dataflow, the DSD, the concept scheme and every codelist."""
    parts = structures()
    return _structure_xml(parts, [a for _t, a in parts.artefacts()])


_VERSION_ANY = {"latest", "all", "*", "+", "~"}
_AGENCY_ANY = {"all", "*"}


def _refs(parts: Structures, artefact, references: str) -> list:
    """What `references` (SDMX REST) adds to `artefact`: dataflow → DSD → concept scheme and codelists."""
    children = {id(parts.dataflow): [parts.dsd],
                id(parts.dsd): [parts.concepts, *parts.codelists.values()]}
    parents: dict[int, list] = {id(parts.dsd): [parts.dataflow], id(parts.concepts): [parts.dsd]}
    for cl in parts.codelists.values():
        parents[id(cl)] = [parts.dsd]

    def descendants(a) -> list:
        out = []
        for c in children.get(id(a), []):
            out += [c, *descendants(c)]
        return out

    if references == "none":
        return []
    if references == "children":
        return children.get(id(artefact), [])
    if references == "descendants":
        return descendants(artefact)
    if references == "parents":
        return parents.get(id(artefact), [])
    if references == "parentsandsiblings":
        ups = parents.get(id(artefact), [])
        return ups + [s for p in ups for s in children.get(id(p), [])]
    if references == "all":
        ups = parents.get(id(artefact), [])
        return ups + [s for p in ups for s in children.get(id(p), [])] + descendants(artefact)
    raise _bad("references", f"{references!r} is not one of none, parents, parentsandsiblings, children, "
                             f"descendants, all")


def structure_query(resource: str, agency: str = "all", resource_id: str = "all", version: str = "latest",
                    references: str | None = None) -> bytes:
    """SDMX REST structure query `structure/{resource}/{agency}/{id}/{version}` → SDMX-ML 2.1 structures.

    `resource` is dataflow, datastructure, codelist, conceptscheme or "structure" (any of them); "all" and
    "*" match any agency and id, "latest", "all", "*", "+" and "~" any version. `references` as SDMX REST
    (default "none"; a resource type selects that type among all references)."""
    if resource not in (*STRUCTURE_TYPES, "structure"):
        raise QueryError(404, "not_found", f"no structures of type {resource!r} (published: "
                                           f"{', '.join(STRUCTURE_TYPES)})", "resource")
    references = (references or "none").lower()
    if references in STRUCTURE_TYPES:   # SDMX REST also accepts a single resource type as `references`
        wanted_type, references = references, "all"
    else:
        wanted_type = None
    parts = structures()
    selected: list = []
    for kind, artefact in parts.artefacts():
        if resource != "structure" and kind != resource:
            continue
        if agency not in _AGENCY_ANY and agency != AGENCY:
            continue
        if resource_id not in _AGENCY_ANY and resource_id != artefact.id:
            continue
        if version not in _VERSION_ANY and version != VERSION:
            continue
        selected.append(artefact)
    if not selected:
        raise QueryError(404, "not_found", f"no {resource} {agency}/{resource_id}/{version}", "resource")
    extra = [a for s in selected for a in _refs(parts, s, references)]
    if wanted_type is not None:
        types = {id(a): t for t, a in parts.artefacts()}
        extra = [a for a in extra if types[id(a)] == wanted_type]
    seen: dict[int, object] = {}
    for a in [*selected, *extra]:
        seen.setdefault(id(a), a)
    return _structure_xml(parts, seen.values())


# ------------------------------------------------------------------------------------------- query parsing


def check_flow(flow: str) -> None:
    """Accept the dataflow reference forms of SDMX REST; anything else is 404."""
    parts = [p.strip() for p in (flow or "").split(",")]
    if len(parts) == 1:
        agency, flow_id, version = "all", parts[0], "latest"
    elif len(parts) == 2:
        (agency, flow_id), version = parts, "latest"
    elif len(parts) == 3:
        agency, flow_id, version = parts
    else:
        agency, flow_id, version = "?", flow, "?"
    if (flow_id != FLOW_ID or (agency not in _AGENCY_ANY and agency != AGENCY)
            or (version not in _VERSION_ANY and version != VERSION)):
        raise QueryError(404, "not_found", f"no dataflow {flow!r}; this service publishes "
                                           f"{AGENCY},{FLOW_ID},{VERSION}", "flow")


def parse_key(key: str | None, ref: Reference) -> list[frozenset[str] | None]:
    """Per dimension (DSD order) the accepted codes, None for a wildcard; QueryError (400) names the part."""
    if key is None or key.strip() in ("", "all", "*"):
        return [None] * len(DIMENSIONS)
    parts = key.split(".")
    if len(parts) != len(DIMENSIONS):
        raise _bad("key", f"{len(parts)} dimension values given, the key has {len(DIMENSIONS)}: "
                          f"{'.'.join(DIMENSIONS)}")
    out: list[frozenset[str] | None] = []
    for dim, part in zip(DIMENSIONS, parts, strict=True):
        if part in ("", "*"):
            out.append(None)
            continue
        codes = part.split("+")
        known = set(ref.ids(dim))
        for code in codes:
            if not code:
                raise _bad(dim, f"empty code in {part!r}")
            if code not in known:
                raise _bad(dim, f"{code!r} is not a code of {CODELIST_IDS[dim]}")
        out.append(frozenset(codes))
    return out


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})(?:-(\d{2}))?|Q([1-4])|S([12])|A1))?$")


def parse_period(value: str | None, param: str, *, end: bool) -> int | None:
    """An SDMX REST startPeriod/endPeriod → the first (start) or last (end) whole month it covers, as yyyymm.

    YYYY, YYYY-A1, YYYY-Sn, YYYY-Qn, YYYY-MM and YYYY-MM-DD (a date: the whole months on or after it for a
    start, on or before it for an end). Raises QueryError (400) naming `param`.
    """
    if value is None or value == "":
        return None
    m = _PERIOD.match(value.strip())
    if not m:
        raise _bad(param, f"{value!r} is not a period (YYYY, YYYY-Sn, YYYY-Qn, YYYY-MM or YYYY-MM-DD)")
    year, month, day, quarter, semester = m.groups()
    y = int(year)
    if y < 1900:
        raise _bad(param, f"{value!r} is out of range")
    if day is not None:
        try:
            date = dt.date(y, int(month), int(day))
        except ValueError:
            raise _bad(param, f"{value!r} is not a valid date") from None
        mo = date.month
        if end and date.day != calendar.monthrange(y, mo)[1]:
            mo -= 1
        elif not end and date.day != 1:
            mo += 1
        y, mo = y + (mo - 1) // 12, (mo - 1) % 12 + 1
        return y * 100 + mo
    if month is not None:
        mo = int(month)
        if not 1 <= mo <= 12:
            raise _bad(param, f"{value!r}: month must be 01–12")
        return y * 100 + mo
    if quarter is not None:
        first, last = 3 * int(quarter) - 2, 3 * int(quarter)
    elif semester is not None:
        first, last = 6 * int(semester) - 5, 6 * int(semester)
    else:
        first, last = 1, 12
    return y * 100 + (last if end else first)


# ------------------------------------------------------------------------------------------------ periods


def _time_period(freq: str, year: int, sub: int = 0) -> str:
    return {"A": f"{year}", "Q": f"{year}-Q{sub}", "M": f"{year}-{sub:02d}"}[freq]


def period_months(time_period: str) -> tuple[int, int]:
    """First and last month (yyyymm) of an SDMX time period of this dataflow."""
    year = int(time_period[:4])
    if len(time_period) == 4:
        return year * 100 + 1, year * 100 + 12
    if time_period[5] == "Q":
        q = int(time_period[6])
        return year * 100 + 3 * q - 2, year * 100 + 3 * q
    month = int(time_period[5:7])
    return year * 100 + month, year * 100 + month


def frequency(time_period: str) -> str:
    return "A" if len(time_period) == 4 else ("Q" if time_period[5] == "Q" else "M")


# ------------------------------------------------------------------------------------------------ the cube

# A cell of a cube (one entry, one year): (TIME_PERIOD, REF_AREA, COUNTERPART_AREA, BOP_ITEM, MODE_OF_SUPPLY).
T, AREA, PARTNER, ITEM, MODE = range(5)
_FINE_BY = ["period", "province", "city", "pilot_area", "enterprise_id", "service", "component", "partner",
            "mode"]
_REST = "~rest:"   # hidden cells: the part of an area outside its published sub-areas (never published)


@dataclass
class Cube:
    """One protected unit: the published cells of one accounting entry and one year."""

    entry: str
    year: int
    values: dict[tuple, Decimal | None]          # cell → value, None if suppressed; hidden cells excluded
    digest: str = ""                             # what it was computed from (names its shared file)


def _hidden(key: tuple) -> bool:
    return key[AREA].startswith(_REST)


class _Protector:
    """Steps 1–3 of the module docstring over one cube."""

    def __init__(self, stats: dict[tuple, CellStat], equations: list[tuple[tuple, int, list[tuple]]], rules):
        self.stats = stats
        self.rules = rules
        self.rank = {k: i for i, k in enumerate(stats)}      # stats come sorted: deterministic choices
        self.equations = equations                          # (total, dimension, parts)
        self.lines_of: dict[tuple, list[int]] = {k: [] for k in stats}
        for i, (total, _d, parts) in enumerate(equations):
            self.lines_of[total].append(i)
            for p in parts:
                self.lines_of[p].append(i)
        self.suppressed: dict[tuple, str] = {}
        self.touched: set[tuple] = set()    # slices with new suppressions, to check again (step 3)

    def _size(self, key: tuple) -> tuple:
        """Complements are the smallest cells (least information lost), ties in table order."""
        return self.stats[key].value, self.rank[key]

    def _choose(self, i: int) -> tuple | None:
        total, _d, parts = self.equations[i]
        candidates = [p for p in parts if p not in self.suppressed]
        if candidates:
            return min(candidates, key=self._size)
        return total if total not in self.suppressed else None

    def _suppress(self, key: tuple, reason: str, queue: deque, queued: list[bool]) -> None:
        self.suppressed[key] = reason
        if not _hidden(key):
            self.touched.add((key[T], key[AREA], key[MODE]))
        for j in self.lines_of[key]:
            if not queued[j]:
                queued[j] = True
                queue.append(j)

    def _complete_lines(self, queue: deque, queued: list[bool]) -> None:
        """Step 2 over the equations in `queue` and, as it goes, those through every new suppression."""
        while queue:
            i = queue.popleft()
            queued[i] = False
            total, _d, parts = self.equations[i]
            unknown = [m for m in (*parts, total) if m in self.suppressed]
            reason = None
            if len(unknown) == 1:
                reason = disclosure.SECONDARY
            elif len(unknown) == 2 and any(self.stats[m].contributors == 1 for m in unknown):
                reason = disclosure.SINGLETON
            if reason is None:
                continue
            chosen = self._choose(i)
            if chosen is not None:
                self._suppress(chosen, reason, queue, queued)
                if not queued[i]:          # the line may need one more (singleton rule)
                    queued[i] = True
                    queue.append(i)

    def _slice_check(self, slice_keys: list[tuple], slice_eqs: list[int]) -> list[tuple[tuple, str]]:
        """Step 3 for one slice: the cells its own equations let anyone (or a single insider) recover."""
        unknown = [k for k in slice_keys if k in self.suppressed]
        mixed = False
        for i in slice_eqs:
            total, _d, parts = self.equations[i]
            n = sum(m in self.suppressed for m in (*parts, total))
            if 0 < n < len(parts) + 1:
                mixed = True
                break
        if not mixed:
            # No sum of the slice has both published and suppressed members: the suppressed cells' sums are
            # all unknown, so they determine no value (the hierarchies are trees) and no insider learns more.
            return []
        equations = [(self.equations[i][0], self.equations[i][2]) for i in slice_eqs]
        table = disclosure.Table({k: self.stats[k] for k in slice_keys}, equations, slice_keys)
        recovered, insiders = table.analyse(unknown)
        exposed: set[tuple] = set().union(*insiders.values()) - recovered if insiders else set()
        targets = [(k, disclosure.SECONDARY) for k in sorted(recovered, key=self.rank.__getitem__)]
        targets += [(k, disclosure.SINGLETON) for k in sorted(exposed, key=self.rank.__getitem__)]
        return targets

    def protect(self) -> dict[tuple, str]:
        for key, stat in self.stats.items():
            reason = disclosure.primary_reason(stat, self.rules)
            if reason:
                self.suppressed[key] = reason
        n = len(self.equations)
        queue, queued = deque(range(n)), [True] * n
        # Slices of step 3: (time, area, mode) → its cells and its W1/S equations (partner and item sums).
        slices: dict[tuple, list[tuple]] = {}
        for key in self.stats:
            if not _hidden(key):
                slices.setdefault((key[T], key[AREA], key[MODE]), []).append(key)
        slice_eqs: dict[tuple, list[int]] = {}
        for i, (total, d, _parts) in enumerate(self.equations):
            if d in (PARTNER, ITEM) and not _hidden(total):
                slice_eqs.setdefault((total[T], total[AREA], total[MODE]), []).append(i)
        self.touched = set(slices)
        while True:
            self._complete_lines(queue, queued)
            to_check, self.touched = sorted(self.touched), set()
            if not to_check:
                return self.suppressed
            for s in to_check:
                own = set(slice_eqs.get(s, []))
                for target, reason in self._slice_check(slices[s], slice_eqs.get(s, [])):
                    # One more complement in a line through the target: its slice's lines first.
                    lines = sorted(self.lines_of[target], key=lambda i: (i not in own, i))
                    chosen = next((c for c in map(self._choose, lines) if c is not None), None)
                    if chosen is None:
                        rest = [k for k in slices[s] if k not in self.suppressed]
                        chosen = min(rest, key=self._size) if rest else None
                    if chosen is not None:
                        self._suppress(chosen, reason, queue, queued)


def _fine_rows(entry: str, year: int) -> list[queries.Cell]:
    flt = Filter(start=year * 100 + 1, end=year * 100 + 12, direction=ENTRIES[entry])
    return queries.cells(flt, _FINE_BY)


def _build_stats(rows: Sequence[queries.Cell], ref: Reference, year: int, months: set[int]
                 ) -> dict[tuple, tuple[int, int, int]]:
    """Per cell (incl. hidden rest-of-area cells): (cents, contributors, largest cents), exactly.

    An aggregate's contributor count and largest contribution are not sums of its parts' (one enterprise
    reports several items, partners, months), so the per-enterprise values are rolled up one dimension at a
    time and counted at the end.
    """
    area_children = ref.children(ref.area_parent)
    item_codes = set(ref.item_parent)
    complete_q = {q for q in range(1, 5)
                  if all(year * 100 + m in months for m in range(3 * q - 2, 3 * q + 1))}
    complete_a = len(complete_q) == 4

    def time_up(tp: str) -> list[str]:
        month = int(tp[5:7])
        q = (month - 1) // 3 + 1
        return ([_time_period("Q", year, q)] if q in complete_q else []) + ([str(year)] if complete_a else [])

    def area_up(area: str) -> list[str]:
        out, parent = [], ref.area_parent[area]
        while parent is not None:
            out.append(parent)
            parent = ref.area_parent[parent]
        return out + ([_REST + area] if area in area_children else [])

    def item_up(item: str) -> list[str]:
        out, parent = [], ref.item_parent[item]
        while parent is not None:
            out.append(parent)
            parent = ref.item_parent[parent]
        return out

    depth: dict[str, int] = {}

    def deepest(province: str, city: str, pilot_area: str) -> str:
        """The enterprise's smallest published area (they all lie on one chain of ancestors)."""
        found = [a for a in (province, city, pilot_area) if a in ref.area_parent]
        for a in found:
            if a not in depth:
                depth[a] = len([u for u in area_up(a) if not u.startswith(_REST)])
        return max(found, key=depth.__getitem__)

    fine: dict[tuple, int] = {}
    for c in rows:
        period, province, city, pilot_area, ent, service, _component, partner, mode = c.key
        if service not in item_codes:
            raise ValueError(f"service {service!r} is not in the EBOPS codelist")
        key = (_time_period("M", period // 100, period % 100), deepest(province, city, pilot_area), partner,
               service, mode, ent)
        fine[key] = fine.get(key, 0) + int(c.value.scaleb(2))

    ups = [(T, time_up), (AREA, area_up), (PARTNER, lambda _p: [WORLD]), (ITEM, item_up),
           (MODE, lambda _m: [ALL_MODES])]
    rows_by: dict[tuple, int] = fine
    for dim, up in ups:
        rolled = dict(rows_by)
        memo: dict[str, list[str]] = {}
        for key, cents in rows_by.items():
            value = key[dim]
            parents = memo.get(value)
            if parents is None:
                parents = memo[value] = up(value)
            for parent in parents:
                k2 = key[:dim] + (parent,) + key[dim + 1:]
                rolled[k2] = rolled.get(k2, 0) + cents
        rows_by = rolled

    stats: dict[tuple, list[int]] = {}
    for key, cents in rows_by.items():
        cell = key[:5]
        s = stats.get(cell)
        if s is None:
            stats[cell] = [cents, 1, cents]
        else:
            s[0] += cents
            s[1] += 1
            if cents > s[2]:
                s[2] = cents
    return {k: (v[0], v[1], v[2]) for k, v in stats.items()}


def _equations(stats: dict[tuple, CellStat], ref: Reference, open_areas: set[tuple]
               ) -> list[tuple[tuple, int, list[tuple]]]:
    """Every published sum of the cube: (total, dimension, parts), in a deterministic order (`stats` is
    sorted, so parts come in table order)."""

    def parents_of(dim: int, value: str) -> tuple[tuple[str, str], ...]:
        """(parent value, level tag) of the sums `value` is a part of along `dim`."""
        if dim == T:
            freq, year = frequency(value), value[:4]
            if freq == "M":
                return ((f"{year}-Q{(int(value[5:7]) - 1) // 3 + 1}", "M"), (year, "M"))
            return ((year, "Q"),) if freq == "Q" else ()
        if dim == AREA:
            if value.startswith(_REST):
                return ((value[len(_REST):], "area"),)
            parent = ref.area_parent.get(value)
            return ((parent, "area"),) if parent else ()
        if dim == PARTNER:
            return () if value == WORLD else ((WORLD, "partner"),)
        if dim == ITEM:
            parent = ref.item_parent.get(value)
            return ((parent, "item"),) if parent else ()
        return () if value == ALL_MODES else ((ALL_MODES, "mode"),)

    memo: list[dict[str, tuple]] = [{} for _ in range(5)]
    groups: dict[tuple, list[tuple]] = {}
    for key in stats:
        hidden = _hidden(key)
        for dim in range(5):
            if hidden and dim != AREA:
                continue   # sums among hidden cells follow from those of their areas, which are all here
            value = key[dim]
            ups = memo[dim].get(value)
            if ups is None:
                ups = memo[dim][value] = parents_of(dim, value)
            for parent, level in ups:
                total = key[:dim] + (parent,) + key[dim + 1:]
                if total in stats:
                    group = groups.get((total, dim, level))
                    if group is None:
                        groups[(total, dim, level)] = [key]
                    else:
                        group.append(key)
    rank = {k: i for i, k in enumerate(stats)}
    ordered = sorted(groups, key=lambda g: (rank[g[0]], g[1], g[2]))
    # An area whose rest is unpublished and not sensitive: its sum holds an unknown and helps no one.
    return [(g[0], g[1], groups[g]) for g in ordered if not (g[1] == AREA and g[0] in open_areas)]


def _digest(rows: Sequence[queries.Cell], ref: Reference, months: set[int], rules) -> str:
    """What the protected cube depends on. Enterprise ids enter only through their order (the cube depends on
    which rows belong to one enterprise, not on its id), so renumbered but equal data hit the cache."""
    ent = _FINE_BY.index("enterprise_id")
    ordinal = {e: i for i, e in enumerate(sorted({c.key[ent] for c in rows}))}
    h = hashlib.sha256()
    h.update(repr((_ALGORITHM, rules.min_contributors, str(rules.dominance), sorted(months),
                   sorted(ref.area_parent.items()), sorted(ref.item_parent.items()),
                   ref.ids("MODE_OF_SUPPLY"))).encode())
    for c in rows:
        h.update(repr((c.key[:ent], ordinal[c.key[ent]], c.key[ent + 1:], str(c.value))).encode())
    return h.hexdigest()


_cache: OrderedDict[str, Cube] = OrderedDict()
_cache_lock = threading.Lock()
_compute_lock = threading.Lock()
_CACHE_SIZE = 4    # a cube of a year is some 10 MB; two entries × two years


def cube(entry: str, year: int, *, ref: Reference | None = None, months: set[int] | None = None) -> Cube:
    """The protected cube of one accounting entry ("C"/"D") and one year, cached by the digest of its data."""
    from tradepilot.analytics.disclosure import rules_from_settings

    ref = ref or reference()
    if months is None:
        months = set(queries.periods(Filter()))
    rules = rules_from_settings()
    rows = _fine_rows(entry, year)
    digest = _digest(rows, ref, months, rules) + entry + str(year)
    with _cache_lock:
        found = _cache.get(digest)
        if found is not None:
            _cache.move_to_end(digest)
            return found
    with _compute_lock:   # concurrent requests for a cold cube wait for one computation, not repeat it
        with _cache_lock:
            found = _cache.get(digest)
        if found is not None:
            return found
        found = _load(digest, entry, year)
        if found is not None:
            _remember(digest, found)
            return found
        return _compute(rows, ref, year, months, rules, entry, digest)


# Computed cubes are also kept as files beside the store, so that every process (web servers, the worker that
# prepares them after a refresh) shares one computation. The digest names the file: changed data, new name.
_FILES_KEPT = 16


def _cube_dir() -> Path:
    from django.conf import settings

    return Path(settings.ANALYTICS_ROOT) / "sdmx-cubes"


def _load(digest: str, entry: str, year: int) -> Cube | None:
    path = _cube_dir() / f"{digest}.pickle"
    try:
        with open(path, "rb") as f:
            values = pickle.load(f)  # our own file, written by _save below
    except (FileNotFoundError, EOFError, pickle.UnpicklingError):
        return None
    return Cube(entry, year, values, digest)


def _save(digest: str, cube_: Cube) -> None:
    directory = _cube_dir()
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{digest}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(cube_.values, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, directory / f"{digest}.pickle")
    old = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)[_FILES_KEPT:]
    for path in old:
        path.unlink(missing_ok=True)


def _remember(digest: str, result: Cube) -> None:
    with _cache_lock:
        _cache[digest] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


#: How many cubes this process has computed (not loaded): lets tests see that a cube came from the shared file.
computed = 0


def _compute(rows: Sequence[queries.Cell], ref: Reference, year: int, months: set[int], rules, entry: str,
             digest: str) -> Cube:
    raw = _build_stats(rows, ref, year, months)

    def stat(v: tuple[int, int, int]) -> CellStat:
        return CellStat(Decimal(v[0]).scaleb(-2), v[1], Decimal(v[2]).scaleb(-2))

    stats: dict[tuple, CellStat] = {}
    open_areas: set[tuple] = set()
    for key in sorted(raw):
        s = stat(raw[key])
        if _hidden(key):
            if disclosure.primary_reason(s, rules) is None:
                # Not sensitive: it stays unpublished, so its area's sum has an unknown and no use to anyone.
                open_areas.add(key[:AREA] + (key[AREA][len(_REST):],) + key[AREA + 1:])
                continue
        stats[key] = s
    equations = _equations(stats, ref, open_areas)
    suppressed = _Protector(stats, equations, rules).protect()
    values = {k: (None if k in suppressed else s.value) for k, s in stats.items() if not _hidden(k)}
    result = Cube(entry, year, values, digest)
    global computed
    computed += 1
    _remember(digest, result)
    _save(digest, result)
    return result


def prepare(years: Iterable[int] | None = None) -> int:
    """Compute and cache the protected cubes of both entries for `years` (default: every year with data, at
    most the cache's two years, newest first), e.g. after an analytics refresh, so that no data query waits.
    Returns the number of cubes."""
    ref = reference()
    months = set(queries.periods(Filter()))
    wanted = sorted(set(years) if years is not None else {m // 100 for m in months}, reverse=True)
    wanted = wanted[: _CACHE_SIZE // 2]
    for year in wanted:
        for entry in ENTRIES:
            found = cube(entry, year, ref=ref, months=months)
            if not (_cube_dir() / f"{found.digest}.pickle").exists():  # known to this process only
                _save(found.digest, found)
    return len(wanted) * len(ENTRIES)


# -------------------------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Observation:
    freq: str
    ref_area: str
    counterpart_area: str
    bop_item: str
    accounting_entry: str
    mode_of_supply: str
    time_period: str
    value: Decimal | None            # None: confidential

    @property
    def series_key(self) -> tuple[str, ...]:
        return (self.freq, self.ref_area, self.counterpart_area, self.bop_item, self.accounting_entry,
                self.mode_of_supply)

    @property
    def confidential(self) -> bool:
        return self.value is None


def observations(key: str | None = None, start_period: str | None = None, end_period: str | None = None,
                 *, ref: Reference | None = None) -> list[Observation]:
    """The protected observations matching an SDMX REST key and period range, by series key, then time.
    Raises QueryError (400) for a bad key or period."""
    ref = ref or reference()
    selection = parse_key(key, ref)
    start = parse_period(start_period, "startPeriod", end=False)
    end = parse_period(end_period, "endPeriod", end=True)
    if start is not None and end is not None and start > end:
        raise _bad("endPeriod", f"{end_period!r} is before startPeriod {start_period!r}")
    freq_sel, area_sel, partner_sel, item_sel, entry_sel, mode_sel = selection
    months = set(queries.periods(Filter()))
    years = sorted({m // 100 for m in months if (start is None or m // 100 >= start // 100)
                    and (end is None or m // 100 <= end // 100)})
    order = {dim: {code: i for i, code in enumerate(ref.ids(dim))} for dim in DIMENSIONS}
    out = []
    for entry in ("C", "D"):
        if entry_sel is not None and entry not in entry_sel:
            continue
        for year in years:
            for k, value in cube(entry, year, ref=ref, months=months).values.items():
                tp, area, partner, item, mode = k
                freq = frequency(tp)
                if not all(sel is None or code in sel for sel, code in (
                        (freq_sel, freq), (area_sel, area), (partner_sel, partner), (item_sel, item),
                        (mode_sel, mode))):
                    continue
                first, last = period_months(tp)
                if (start is not None and first < start) or (end is not None and last > end):
                    continue
                out.append(Observation(freq, area, partner, item, entry, mode, tp, value))
    out.sort(key=lambda o: (tuple(order[d][v] for d, v in zip(DIMENSIONS, o.series_key, strict=True)),
                            period_months(o.time_period)))
    return out


def _value(value: Decimal) -> str:
    """Exactly two decimals, no exponent, from the Decimal itself."""
    return f"{value.quantize(Decimal('0.01')):f}"


def _obs_attributes(o: Observation) -> dict[str, str]:
    if o.confidential:
        return {"OBS_STATUS": "Q", "CONF_STATUS": "C"}
    return {"OBS_STATUS": "A", "CONF_STATUS": "F"}


def _xml(obs: Sequence[Observation], message_id: str) -> bytes:
    """SDMX-ML 2.1 structure-specific data, series by series with TIME_PERIOD at observation level."""
    ns1 = (f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={AGENCY}:{FLOW_ID}({VERSION})"
           f":ObsLevelDim:{TIME_DIMENSION}")
    structure_id = f"{AGENCY}_{FLOW_ID}_{VERSION.replace('.', '_')}"
    nsmap = {"message": NS_MESSAGE, "common": NS_COMMON, "ss": NS_SS, "xsi": NS_XSI, "ns1": ns1}

    def m(tag):
        return f"{{{NS_MESSAGE}}}{tag}"

    root = etree.Element(m("StructureSpecificData"), nsmap=nsmap)
    header = etree.SubElement(root, m("Header"))
    etree.SubElement(header, m("ID")).text = message_id
    etree.SubElement(header, m("Test")).text = "false"
    etree.SubElement(header, m("Prepared")).text = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    etree.SubElement(header, m("Sender"), id=AGENCY)
    structure = etree.SubElement(header, m("Structure"), structureID=structure_id, namespace=ns1,
                                 dimensionAtObservation=TIME_DIMENSION)
    usage = etree.SubElement(structure, f"{{{NS_COMMON}}}StructureUsage")
    etree.SubElement(usage, "Ref", agencyID=AGENCY, id=FLOW_ID, version=VERSION)
    dataset = etree.SubElement(root, m("DataSet"), {f"{{{NS_SS}}}structureRef": structure_id,
                                                    f"{{{NS_XSI}}}type": "ns1:DataSetType",
                                                    f"{{{NS_SS}}}dataScope": "DataStructure"})
    series = None
    current = None
    for o in obs:
        if o.series_key != current:
            current = o.series_key
            series = etree.SubElement(dataset, "Series", dict(zip(DIMENSIONS, current, strict=True)))
            series.attrib.update(SERIES_ATTRIBUTE_VALUES)
        attrs = {TIME_DIMENSION: o.time_period}
        if not o.confidential:
            attrs[MEASURE] = _value(o.value)
        attrs.update(_obs_attributes(o))
        etree.SubElement(series, "Obs", attrs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _csv(obs: Sequence[Observation]) -> bytes:
    """SDMX-CSV 2.0.0: one row per observation, ACTION I (information), empty OBS_VALUE when confidential."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, TIME_DIMENSION, MEASURE,
                     *SERIES_ATTRIBUTES, *OBS_ATTRIBUTES])
    structure_id = f"{AGENCY}:{FLOW_ID}({VERSION})"
    series_values = [SERIES_ATTRIBUTE_VALUES[a] for a in SERIES_ATTRIBUTES]
    for o in obs:
        attrs = _obs_attributes(o)
        writer.writerow(["dataflow", structure_id, "I", *o.series_key, o.time_period,
                         "" if o.confidential else _value(o.value), *series_values,
                         *(attrs[a] for a in OBS_ATTRIBUTES)])
    return buffer.getvalue().encode("utf-8")


def data_message(flow: str, key: str | None = None, start_period: str | None = None,
                 end_period: str | None = None, fmt: str = "xml") -> bytes:
    """The data of an SDMX REST data query, as SDMX-ML 2.1 structure-specific data (`fmt="xml"`) or SDMX-CSV
    2.0.0 (`fmt="csv"`). Raises QueryError: 404 unknown flow or no results, 400 bad key or period."""
    check_flow(flow)
    if fmt not in ("xml", "csv"):
        raise QueryError(406, "not_acceptable", f"format: {fmt!r} is not xml or csv", "format")
    obs = observations(key, start_period, end_period)
    if not obs:
        raise QueryError(404, "no_results", "no observations match the query", "key")
    if fmt == "csv":
        return _csv(obs)
    return _xml(obs, f"DATA_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}")


__all__ = [
    "AGENCY", "DIMENSIONS", "DSD_ID", "FLOW_ID", "MEDIA_DATA_CSV", "MEDIA_DATA_XML", "MEDIA_STRUCTURE_XML",
    "VERSION", "Cube", "Observation", "QueryError", "Reference", "Structures", "check_flow", "cube",
    "data_message", "observations", "parse_key", "parse_period", "prepare", "reference", "structure_message",
    "structure_query", "structures",
]
