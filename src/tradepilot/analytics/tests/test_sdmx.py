"""SDMX publication: every message is read back with sdmx1 and compared with `queries` (what dashboards show).

Protected cubes are cached by the digest of their data, and the `trade` fixture generates the same data in
every test, so only the first test that needs a year pays for its protection.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from io import BytesIO

import pytest
import sdmx as sdmx1

from tradepilot.analytics import disclosure, queries, sdmx
from tradepilot.analytics.disclosure import CellStat
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import Country, PilotArea, Region, ServiceCategory

pytestmark = pytest.mark.django_db

KEY_ORDER = ("FREQ", "REF_AREA", "COUNTERPART_AREA", "BOP_ITEM", "ACCOUNTING_ENTRY", "MODE_OF_SUPPLY")
BASE = "/api/v1/sdmx"   # where the project's API mounts the router


def _structure():
    return sdmx1.read_sdmx(BytesIO(sdmx.structure_message()))


def _read_xml(body: bytes, dsd) -> dict[tuple, tuple[str | None, dict]]:
    """Observations of a structure-specific message: full key → (OBS_VALUE or None, attributes)."""
    msg = sdmx1.read_sdmx(BytesIO(body), structure=dsd)
    assert len(msg.data) == 1
    out = {}
    for series_key, observations in msg.data[0].series.items():
        attrs = {k: v.value for k, v in series_key.attrib.items()}
        for o in observations:
            time_period = o.dimension.values["TIME_PERIOD"].value
            key = tuple(series_key.values[d].value for d in KEY_ORDER) + (time_period,)
            assert key not in out
            out[key] = (o.value, attrs | {k: v.value for k, v in o.attached_attribute.items()})
    return out


def _read_csv(body: bytes, flow) -> dict[tuple, tuple[str | None, dict]]:
    msg = sdmx1.read_sdmx(BytesIO(body), format="csv", structure=flow)
    out = {}
    for ds in msg.data:
        for o in ds.obs:
            key = tuple(o.dimension.values[d].value for d in (*KEY_ORDER, "TIME_PERIOD"))
            assert key not in out
            out[key] = (o.value or None, {k: v.value for k, v in o.attached_attribute.items()})
    return out


def _tp(period: int) -> str:
    return f"{period // 100}-{period % 100:02d}"


def _stat(cell: queries.Cell) -> CellStat:
    return CellStat(cell.value, cell.contributors, cell.largest)


# ------------------------------------------------------------------------------------------------ structure


def test_structure_message_reads_back(reference):
    msg = _structure()
    dsd = msg.structure["DSD_SERVICES_TRADE"]
    assert [d.id for d in dsd.dimensions] == [*KEY_ORDER, "TIME_PERIOD"]
    assert [m.id for m in dsd.measures] == ["OBS_VALUE"]
    assert [a.id for a in dsd.attributes] == [
        "UNIT_MEASURE", "UNIT_MULT", "DECIMALS", "OBS_STATUS", "CONF_STATUS"]
    assert msg.dataflow["SERVICES_TRADE"].structure.id == "DSD_SERVICES_TRADE"
    assert dsd.maintainer.id == "CN_MOFCOM" and dsd.version == "1.0"

    def codes(dim):
        return dsd.dimensions.get(dim).local_representation.enumerated

    areas = codes("REF_AREA")
    provinces = set(Region.objects.filter(level=1).values_list("code", flat=True))
    pilots = set(PilotArea.objects.values_list("region__code", flat=True))
    assert {c.id for c in areas} == {"CN"} | provinces | pilots
    assert areas["330100"].parent.id == "330000" and areas["110000"].parent.id == "CN"
    assert str(areas["330100"].name["en"]) == "Hangzhou"

    items = codes("BOP_ITEM")
    assert {c.id for c in items} == {"S"} | set(ServiceCategory.objects.values_list("code", flat=True))
    assert items["SC1"].parent.id == "SC" and items["SC"].parent.id == "S"
    partners = codes("COUNTERPART_AREA")
    assert {c.id for c in partners} == {"W1"} | set(Country.objects.values_list("alpha2", flat=True))
    assert [c.id for c in codes("MODE_OF_SUPPLY")] == ["_T", "1", "2", "4"]
    assert [c.id for c in codes("ACCOUNTING_ENTRY")] == ["C", "D"]
    assert [c.id for c in codes("FREQ")] == ["A", "Q", "M"]
    conf = dsd.attributes.get("CONF_STATUS")
    assert {c.id for c in conf.local_representation.enumerated} == {"F", "C"}
    assert type(conf.related_to).__name__ == "PrimaryMeasureRelationship"


def test_structure_queries(reference):
    children = sdmx1.read_sdmx(BytesIO(sdmx.structure_query(
        "datastructure", "CN_MOFCOM", "DSD_SERVICES_TRADE", "latest", "children")))
    assert list(children.structure) == ["DSD_SERVICES_TRADE"]
    assert "CL_BOP_ITEM" in children.codelist and "CS_SERVICES_TRADE" in children.concept_scheme
    assert len(children.dataflow) == 0
    flows = sdmx1.read_sdmx(BytesIO(sdmx.structure_query("dataflow")))
    assert list(flows.dataflow) == ["SERVICES_TRADE"] and len(flows.codelist) == 0
    one = sdmx1.read_sdmx(BytesIO(sdmx.structure_query("codelist", "all", "CL_MODE_OF_SUPPLY", "1.0")))
    assert list(one.codelist) == ["CL_MODE_OF_SUPPLY"]
    parents = sdmx1.read_sdmx(BytesIO(sdmx.structure_query(
        "codelist", "CN_MOFCOM", "CL_AREA", "1.0", "parents")))
    assert list(parents.structure) == ["DSD_SERVICES_TRADE"]
    for args, status in ((("codelist", "CN_MOFCOM", "CL_NOPE"), 404), (("codelist", "IMF"), 404),
                         (("codelist", "all", "all", "2.0"), 404), (("hierarchy",), 404),
                         (("codelist", "all", "all", "latest", "cousins"), 400)):
        with pytest.raises(sdmx.QueryError) as err:
            sdmx.structure_query(*args)
        assert err.value.status == status, args


# ------------------------------------------------------------------------------------------------ parsing


def test_key_and_period_validation(reference):
    ref = sdmx.reference()
    assert sdmx.parse_key("all", ref) == [None] * 6
    assert sdmx.parse_key("M..W1.SC+SD.C.", ref) == [
        {"M"}, None, {"W1"}, {"SC", "SD"}, {"C"}, None]
    for key, field in (("M.CN.W1.SC.C", "key"), ("M.CN.W1.SC.C._T.X", "key"), ("M.CN.W1.SZ.C._T", "BOP_ITEM"),
                       ("M.CN.W1.SC+.C._T", "BOP_ITEM"), ("W.CN.W1.SC.C._T", "FREQ"),
                       ("M.CN.W1.SC.C.3", "MODE_OF_SUPPLY"), ("M.CN.XX.SC.C._T", "COUNTERPART_AREA"),
                       ("M.999999.W1.S.C._T", "REF_AREA"), ("M.CN.W1.S.N._T", "ACCOUNTING_ENTRY")):
        with pytest.raises(sdmx.QueryError) as err:
            sdmx.parse_key(key, ref)
        assert (err.value.status, err.value.field) == (400, field), key
        assert field in err.value.detail
    assert sdmx.parse_period("2026", "startPeriod", end=False) == 202601
    assert sdmx.parse_period("2026", "endPeriod", end=True) == 202612
    assert sdmx.parse_period("2026-Q2", "endPeriod", end=True) == 202606
    assert sdmx.parse_period("2026-S2", "startPeriod", end=False) == 202607
    assert sdmx.parse_period("2026-03", "startPeriod", end=False) == 202603
    assert sdmx.parse_period("2026-03-01", "startPeriod", end=False) == 202603
    assert sdmx.parse_period("2026-03-02", "startPeriod", end=False) == 202604
    assert sdmx.parse_period("2026-12-31", "endPeriod", end=True) == 202612
    assert sdmx.parse_period("2026-03-30", "endPeriod", end=True) == 202602
    for bad in ("2026-13", "2026-Q5", "26", "2026-02-30", "March", "2026-W10"):
        with pytest.raises(sdmx.QueryError) as err:
            sdmx.parse_period(bad, "startPeriod", end=False)
        assert (err.value.status, err.value.field) == (400, "startPeriod"), bad
    for flow in ("SERVICES_TRADE", "CN_MOFCOM,SERVICES_TRADE", "all,SERVICES_TRADE,latest",
                 "CN_MOFCOM,SERVICES_TRADE,1.0"):
        sdmx.check_flow(flow)
    for flow in ("BOP", "IMF,SERVICES_TRADE", "CN_MOFCOM,SERVICES_TRADE,2.0", "a,b,c,d"):
        with pytest.raises(sdmx.QueryError) as err:
            sdmx.check_flow(flow)
        assert err.value.status == 404


# ------------------------------------------------------------------------------------------------ data


def test_xml_national_monthly_exports_equal_queries(trade):
    dsd = _structure().structure["DSD_SERVICES_TRADE"]
    body = sdmx.data_message("SERVICES_TRADE", "M.CN.W1..C._T", "2026-01", "2026-06")
    got = _read_xml(body, dsd)
    flt = Filter(start=202601, end=202606, direction="X")
    expected: dict[tuple, queries.Cell] = {}
    for c in queries.cells(flt, ["period", "component"]):
        expected[("M", "CN", "W1", c.key[1], "C", "_T", _tp(c.key[0]))] = c
    for c in queries.cells(flt, ["period", "service"]):
        expected.setdefault(("M", "CN", "W1", c.key[1], "C", "_T", _tp(c.key[0])), c)
    for c in queries.cells(flt, ["period"]):
        expected[("M", "CN", "W1", "S", "C", "_T", _tp(c.key[0]))] = c
    # Every non-empty cell is published, as a value or as confidential; nothing else is.
    assert set(got) == set(expected)
    published = 0
    for key, (value, attrs) in got.items():
        assert attrs["UNIT_MEASURE"] == "USD" and attrs["UNIT_MULT"] == "0" and attrs["DECIMALS"] == "2"
        if value is None:
            assert (attrs["CONF_STATUS"], attrs["OBS_STATUS"]) == ("C", "Q")
        else:
            assert (attrs["CONF_STATUS"], attrs["OBS_STATUS"]) == ("F", "A")
            assert Decimal(value) == expected[key].value and value == f"{expected[key].value:.2f}"
            published += 1
    assert published >= 6
    # The all-services totals are the dashboard's totals, month by month.
    for month in range(1, 7):
        total = queries.total(Filter(start=202600 + month, end=202600 + month, direction="X"))
        value, _attrs = got[("M", "CN", "W1", "S", "C", "_T", f"2026-{month:02d}")]
        assert Decimal(value) == total


def test_csv_matches_xml_and_annual_totals(trade):
    msg = _structure()
    dsd, flow = msg.structure["DSD_SERVICES_TRADE"], msg.dataflow["SERVICES_TRADE"]
    key, start, end = "A+Q.CN.W1.S+SI+SJ.C._T", "2025", "2025"
    csv_body = sdmx.data_message("CN_MOFCOM,SERVICES_TRADE,1.0", key, start, end, fmt="csv")
    header = csv_body.decode().splitlines()[0]
    assert header == ("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,COUNTERPART_AREA,BOP_ITEM,"
                      "ACCOUNTING_ENTRY,MODE_OF_SUPPLY,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,DECIMALS,"
                      "OBS_STATUS,CONF_STATUS")
    assert csv_body.decode().splitlines()[1].startswith("dataflow,CN_MOFCOM:SERVICES_TRADE(1.0),I,")
    from_csv = _read_csv(csv_body, flow)
    from_xml = _read_xml(sdmx.data_message("SERVICES_TRADE", key, start, end), dsd)
    assert {k: v for k, (v, _a) in from_csv.items()} == {k: v for k, (v, _a) in from_xml.items()}
    assert {k: a["CONF_STATUS"] for k, (_v, a) in from_csv.items()} == {
        k: a["CONF_STATUS"] for k, (_v, a) in from_xml.items()}
    periods = {k[-1] for k in from_csv}
    assert periods == {"2025", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"}
    value, attrs = from_csv[("A", "CN", "W1", "S", "C", "_T", "2025")]
    assert attrs["CONF_STATUS"] == "F"
    assert Decimal(value) == queries.total(Filter(start=202501, end=202512, direction="X"))
    for q in range(1, 5):
        value, _attrs = from_csv[("Q", "CN", "W1", "S", "C", "_T", f"2025-Q{q}")]
        quarter = Filter(start=202500 + 3 * q - 2, end=202500 + 3 * q, direction="X")
        assert Decimal(value) == queries.total(quarter)
    # pandas, for users of sdmx1: the XML converts with suppressed values as NaN.
    frame = sdmx1.to_pandas(sdmx1.read_sdmx(BytesIO(sdmx.data_message("SERVICES_TRADE", key, start, end)),
                                            structure=dsd))
    assert len(frame) == len(from_xml)
    # The current year is incomplete (data end in 2026-09): no annual figure, quarters up to Q3 only.
    current = sdmx.observations("A+Q.CN.W1.S.C._T", "2026", "2026")
    assert [o.time_period for o in current] == ["2026-Q1", "2026-Q2", "2026-Q3"]


def test_every_sensitive_cell_is_confidential(trade):
    """Primary suppression over areas: provinces with one or two enterprises show no value."""
    rules = disclosure.rules_from_settings()
    flt = Filter(start=202601, end=202609, direction="X")
    by_province = {(c.key[1], _tp(c.key[0])): c for c in queries.cells(flt, ["period", "province"])}
    small = {c.key[0] for c in queries.cells(flt, ["province"]) if c.contributors < 3}
    assert small, "the generated trade has provinces with fewer than three enterprises"
    obs = {(o.ref_area, o.time_period): o for o in sdmx.observations("M..W1.S.C._T", "2026-01", "2026-09")}
    assert {k for k in obs if k[0] != "CN" and len(k[0]) == 6 and k[0].endswith("0000")} == set(by_province)
    for key, cell in by_province.items():
        if disclosure.primary_reason(_stat(cell), rules):
            assert obs[key].confidential, key
        elif not obs[key].confidential:
            assert obs[key].value == cell.value
    assert all(obs[k].confidential for k in by_province if k[0] in small)
    # A pilot area's figure is its subtree's (the pilot-area column).
    for c in queries.cells(flt.with_(pilot_areas=("440300",)), ["period"]):
        o = obs[("440300", _tp(c.key[0]))]
        assert o.confidential or o.value == c.value


def _sums(values: dict[tuple, Decimal | None], ref: sdmx.Reference) -> list[tuple[tuple, list[tuple]]]:
    """The published sums among the observations of one entry (key without FREQ and ENTRY): CN = Σ provinces,
    W1 = Σ partners, S = Σ components, component = Σ sub-items, _T = Σ modes, quarter = Σ months."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    provinces = {c for c, p in ref.area_parent.items() if p == "CN"}
    for key in values:
        tp, area, partner, item, mode = key
        ups = []
        if area in provinces:
            ups.append((1, "CN"))
        if partner != "W1":
            ups.append((2, "W1"))
        if ref.item_parent.get(item):
            ups.append((3, ref.item_parent[item]))
        if mode != "_T":
            ups.append((4, "_T"))
        if len(tp) == 7 and tp[5] != "Q":   # a month
            ups.append((0, f"{tp[:4]}-Q{(int(tp[5:]) - 1) // 3 + 1}"))
        for dim, parent in ups:
            total = key[:dim] + (parent,) + key[dim + 1:]
            if total in values:
                groups[(total, dim)].append(key)
    return [(total, parts) for (total, _dim), parts in groups.items()]


def test_suppressed_cells_cannot_be_recovered(trade):
    ref = sdmx.reference()
    values = {(o.time_period, o.ref_area, o.counterpart_area, o.bop_item, o.mode_of_supply): o.value
              for o in sdmx.observations("....C.", "2026-01", "2026-06") if o.freq != "A"}
    sums = _sums(values, ref)
    assert len(sums) > 1000
    checked_complete = 0
    for total, parts in sums:
        hidden = [m for m in (*parts, total) if values[m] is None]
        # No published sum has a single unknown member (it would be its total minus the others) ...
        assert len(hidden) != 1, (total, hidden)
        if not hidden:   # ... and published sums add up, exactly
            assert sum((values[p] for p in parts), Decimal(0)) == values[total], total
            checked_complete += 1
    assert checked_complete > 0
    assert sum(v is None for v in values.values()) > 0

    # Exactly, with the disclosure module's own check, for the national table of one month: BOP_ITEM ×
    # COUNTERPART_AREA with its W1 and S hierarchy, using the true statistics of every cell.
    flt = Filter(start=202603, end=202603, direction="X")
    stats: dict[tuple, CellStat] = {}

    def put(partner: str, item: str, cell: queries.Cell) -> None:
        stats.setdefault(("2026-03", "CN", partner, item, "_T"), _stat(cell))

    for c in queries.cells(flt, ["partner", "service"]):
        put(c.key[0], c.key[1], c)
    for c in queries.cells(flt, ["partner", "component"]):
        put(c.key[0], c.key[1], c)
    for c in queries.cells(flt, ["partner"]):
        put(c.key[0], "S", c)
    for c in queries.cells(flt, ["service"]):
        put("W1", c.key[0], c)
    for c in queries.cells(flt, ["component"]):
        put("W1", c.key[0], c)
    put("W1", "S", queries.cells(flt)[0])
    slice_keys = [k for k in values if k[0] == "2026-03" and k[1] == "CN" and k[4] == "_T"]
    assert set(slice_keys) == set(stats)
    equations = [(t, p) for t, p in sums if t in stats and all(x in stats for x in p)]
    table = disclosure.Table({k: stats[k] for k in slice_keys}, equations, slice_keys)
    hidden = [k for k in slice_keys if values[k] is None]
    assert hidden
    assert table.recoverable(hidden) == set()
    assert table.singleton_recoverable(hidden) == {}


def test_rest_of_a_province_is_protected(reference, monkeypatch):
    """Province − pilot city must not reveal the one enterprise outside the city (a cell never published)."""
    ref = sdmx.Reference(
        {"MODE_OF_SUPPLY": [sdmx.Code("_T", "", ""), sdmx.Code("1", "", "")]},
        area_parent={"CN": None, "330000": "CN", "330100": "330000", "110000": "CN"},
        item_parent={"S": None, "SI": "S", "SJ": "S"})
    rows = []

    def add(ent, province, city, pilot, service, cents):
        key = (202503, province, city, pilot, ent, service, service, "US", "1")
        rows.append(queries.Cell(key, Decimal(cents).scaleb(-2), 1, Decimal(cents).scaleb(-2)))

    for ent in (1, 2, 3, 4):          # four in Hangzhou, a pilot city
        add(ent, "330000", "330100", "330100", "SI", 1000 + ent)
    add(5, "330000", "330200", "", "SI", 5000)   # one in Ningbo: Zhejiang − Hangzhou would be its figure
    for ent in (6, 7, 8, 9):
        add(ent, "110000", "", "110000", "SJ", 2000 + ent)
    rows.sort(key=lambda c: c.key)
    monkeypatch.setattr(sdmx, "_fine_rows", lambda entry, year: rows)
    cube = sdmx.cube("C", 2025, ref=ref, months={202503})
    # Both pass the primary rules (4 and 5 enterprises, none dominant), so only the rest of Zhejiang makes one
    # of them confidential.
    hz = cube.values[("2025-03", "330100", "W1", "S", "_T")]
    zj = cube.values[("2025-03", "330000", "W1", "S", "_T")]
    assert hz is None or zj is None
    assert hz in (None, Decimal("4010.00")) and zj in (None, Decimal("9010.00"))
    assert not any(len(k[1]) > 6 for k in cube.values)       # the rest itself is never an observation
    assert ("2025-03", "330100", "W1", "S", "_T") in cube.values


# ------------------------------------------------------------------------------------------------ HTTP


def test_http_data_formats(trade, client):
    url = f"{BASE}/data/SERVICES_TRADE/M.CN.W1.S.C._T"
    xml = client.get(url, {"startPeriod": "2026-01", "endPeriod": "2026-03"})
    assert xml.status_code == 200, xml.content[:300]
    assert xml["Content-Type"] == sdmx.MEDIA_DATA_XML
    dsd = _structure().structure["DSD_SERVICES_TRADE"]
    got = _read_xml(xml.content, dsd)
    assert sorted(k[-1] for k in got) == ["2026-01", "2026-02", "2026-03"]
    by_param = client.get(url, {"startPeriod": "2026-01", "endPeriod": "2026-03", "format": "sdmx-csv"})
    by_accept = client.get(url, {"startPeriod": "2026-01", "endPeriod": "2026-03"},
                           HTTP_ACCEPT="application/vnd.sdmx.data+csv;version=2.0.0")
    for response in (by_param, by_accept):
        assert response.status_code == 200
        assert response["Content-Type"] == sdmx.MEDIA_DATA_CSV
        assert response.content == by_param.content
    explicit_xml = client.get(url, {"startPeriod": "2026-01", "endPeriod": "2026-03"},
                              HTTP_ACCEPT="application/vnd.sdmx.structurespecificdata+xml;version=2.1")
    assert explicit_xml["Content-Type"] == sdmx.MEDIA_DATA_XML
    assert explicit_xml.content.count(b"<Obs ") == 3


def test_http_errors(reference, store_root, client):
    def error(url, params=None, **headers):
        response = client.get(url, params or {}, **headers)
        return response.status_code, response.json()

    status, body = error(f"{BASE}/data/SERVICES_TRADE/M.CN.W1.SZ.C._T")
    assert status == 400 and body["code"] == "invalid_query"
    assert body["errors"][0]["field"] == "BOP_ITEM"
    assert "BOP_ITEM" in body["detail"] and "SZ" in body["detail"]
    status, body = error(f"{BASE}/data/SERVICES_TRADE/M.CN.W1.S.C")
    assert status == 400 and body["errors"][0]["field"] == "key"
    status, body = error(f"{BASE}/data/SERVICES_TRADE/M.CN.W1.S.C._T", {"startPeriod": "2026-13"})
    assert status == 400 and body["errors"][0]["field"] == "startPeriod" and "startPeriod" in body["detail"]
    status, body = error(f"{BASE}/data/SERVICES_TRADE/M.CN.W1.S.C._T",
                         {"startPeriod": "2026", "endPeriod": "2025"})
    assert status == 400 and body["errors"][0]["field"] == "endPeriod"
    status, body = error(f"{BASE}/data/NOT_A_FLOW/M.CN.W1.S.C._T")
    assert status == 404 and body["errors"][0]["field"] == "flow"
    status, _body = error(f"{BASE}/data/SERVICES_TRADE", {"format": "json"})
    assert status == 406
    status, _body = error(f"{BASE}/data/SERVICES_TRADE", HTTP_ACCEPT="application/json")
    assert status == 406
    status, _body = error(f"{BASE}/structure/codelist/CN_MOFCOM/CL_NOPE/latest")
    assert status == 404
    status, body = error(f"{BASE}/structure/dataflow", {"references": "cousins"})
    assert status == 400 and body["errors"][0]["field"] == "references"


def test_http_no_results_and_structures(reference, store_root, client):
    # No trade at all: a valid query finds nothing, which SDMX REST answers with 404.
    for url in (f"{BASE}/data/SERVICES_TRADE/M.CN.W1.S.C._T", f"{BASE}/data/SERVICES_TRADE"):
        response = client.get(url)
        assert response.status_code == 404 and response.json()["code"] == "no_results"
    response = client.get(f"{BASE}/structure/datastructure/CN_MOFCOM/DSD_SERVICES_TRADE/1.0",
                          {"references": "descendants"})
    assert response.status_code == 200 and response["Content-Type"] == sdmx.MEDIA_STRUCTURE_XML
    msg = sdmx1.read_sdmx(BytesIO(response.content))
    assert list(msg.structure) == ["DSD_SERVICES_TRADE"] and "CL_AREA" in msg.codelist
    for url in ("structure/dataflow/all/all/latest", "structure/dataflow/CN_MOFCOM", "structure/structure",
                "structure/codelist/all/CL_BOP_ITEM", "dataflow/CN_MOFCOM/SERVICES_TRADE/latest", "codelist",
                "datastructure/CN_MOFCOM/DSD_SERVICES_TRADE?references=children"):
        response = client.get(f"{BASE}/{url}")
        assert response.status_code == 200, url
        sdmx1.read_sdmx(BytesIO(response.content))


def test_public_without_login(reference, client):
    """The project's API requires a login by default; the SDMX operations are public, the others are not."""
    response = client.get(f"{BASE}/structure/dataflow/CN_MOFCOM/SERVICES_TRADE/latest")
    assert response.status_code == 200
    assert client.get(f"{BASE}/data/SERVICES_TRADE/M.CN.W1.SZ.C._T").status_code == 400
    assert client.get("/api/v1/enterprises").status_code == 401


def test_prepared_cubes_are_shared_between_processes_through_files(trade, store_root):
    """The publication task computes a year's cubes once; another process (here: this one with its memory
    cleared) loads them from the files instead of computing them again."""
    from tradepilot.analytics import sdmx as sdmx_module
    from tradepilot.analytics.refresh import prepare_publication

    assert prepare_publication.call(2026) == 2
    assert len(list((store_root / "sdmx-cubes").glob("*.pickle"))) == 2
    sdmx_module._cache.clear()
    computed = sdmx_module.computed
    first = sdmx_module.cube("C", 2026)
    assert sdmx_module.computed == computed, "the cube was computed again instead of read from its file"
    assert first.values and any(v is None for v in first.values.values())
