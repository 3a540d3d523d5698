import csv
import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tradepilot.core import reference
from tradepilot.core.models import (
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

SEED_ORDER = [
    "北京", "天津", "上海", "海南", "深圳", "哈尔滨", "南京", "杭州", "武汉", "广州", "成都", "苏州", "威海",
    "河北雄安新区", "重庆两江新区", "贵州贵安新区", "陕西西咸新区",
]  # fmt: skip

# Responsible units named in Annex 3 of 国函〔2018〕79号, as written there.
ANNEX3_UNITS = [
    "商务部", "外交部", "工业和信息化部", "公安部", "司法部", "住房和城乡建设部", "人民银行", "海关总署", "港澳办",
    "台办", "银保监会", "外专局", "中医药局", "发展改革委", "财政部", "贸促会", "证监会", "文化和旅游部", "交通运输部",
    "人力资源社会保障部", "科技部", "税务总局", "统计局", "外汇局", "国资委", "中国出口信用保险公司",
]  # fmt: skip


@pytest.fixture
def loaded(db):
    return reference.load_all()


@pytest.mark.django_db
def test_load_all_is_idempotent():
    first = reference.load_all()
    tables = {
        "regions": Region,
        "pilot_rounds": PilotRound,
        "pilot_areas": PilotArea,
        "service_categories": ServiceCategory,
        "industries": Industry,
        "agencies": Agency,
        "supply_modes": SupplyMode,
        "countries": Country,
        "currencies": Currency,
    }
    db_counts = {name: model.objects.count() for name, model in tables.items()}
    assert first == db_counts
    paths = dict(Region.objects.values_list("code", "path"))

    with CaptureQueriesContext(connection) as ctx:
        second = reference.load_all()
    assert second == first
    assert {name: model.objects.count() for name, model in tables.items()} == db_counts
    assert dict(Region.objects.values_list("code", "path")) == paths
    # A second run only reads: no row is re-saved when nothing changed.
    writes = [q["sql"] for q in ctx.captured_queries if re.match(r"\s*(INSERT|UPDATE)", q["sql"], re.I)]
    assert writes == []


@pytest.mark.django_db
def test_load_repairs_changed_rows(loaded):
    ServiceCategory.objects.filter(code="SI2").update(name_en="x", is_leaf=False)
    Country.objects.filter(alpha2="TW").update(name_zh="台湾")
    hz = Region.objects.get(code="330100")
    Region.objects.filter(code="330100").update(name_zh="杭州")
    PilotArea.objects.filter(region=hz).update(order=99)
    assert reference.load_all() == loaded
    assert ServiceCategory.objects.get(code="SI2").name_en == "Computer services"
    assert ServiceCategory.objects.get(code="SI2").is_leaf
    assert Country.objects.get(alpha2="TW").name_zh == "中国台湾"
    assert Region.objects.get(code="330100").name_zh == "杭州市"
    assert PilotArea.objects.get(region=hz).order == 8


@pytest.mark.django_db
def test_pilot_round_2018(loaded):
    rnd = PilotRound.objects.get(code="2018")
    assert rnd.document == "国函〔2018〕79号"
    assert str(rnd.start_date) == "2018-07-01"
    assert str(rnd.end_date) == "2020-06-30"
    areas = list(rnd.areas.select_related("region"))
    assert len(areas) == 17
    assert [a.name_zh for a in areas] == SEED_ORDER
    assert [a.order for a in areas] == list(range(1, 18))
    by_name = {a.name_zh: a.region for a in areas}
    assert by_name["北京"].code == "110000"
    assert by_name["海南"].code == "460000" and by_name["海南"].level == Region.Level.PROVINCE
    assert by_name["深圳"].code == "440300" and by_name["深圳"].kind == Region.Kind.SUB_PROVINCIAL_CITY
    assert by_name["河北雄安新区"].code == "133100"
    for name, province in [("河北雄安新区", "130000"), ("重庆两江新区", "500000"), ("贵州贵安新区", "520000"),
                           ("陕西西咸新区", "610000")]:  # fmt: skip
        region = by_name[name]
        assert region.kind == Region.Kind.NEW_AREA
        assert region.level == Region.Level.CITY
        assert region.parent.code == province


@pytest.mark.django_db
def test_regions(loaded):
    provinces = Region.objects.filter(level=Region.Level.PROVINCE)
    assert provinces.count() == 34
    for p in provinces:
        assert re.fullmatch(r"\d{2}0000", p.code), p.code
        assert p.parent_id is None
        assert p.path == f"/{p.code}/"
    kinds = {p.code: p.kind for p in provinces}
    assert [c for c, k in kinds.items() if k == "municipality"] == ["110000", "120000", "310000", "500000"]
    assert sorted(c for c, k in kinds.items() if k == "sar") == ["810000", "820000"]
    assert sum(k == "autonomous_region" for k in kinds.values()) == 5
    assert kinds["710000"] == "province"

    hangzhou = Region.objects.get(code="330100")
    assert hangzhou.path == "/330000/330100/"
    xihu = Region.objects.get(code="330106")
    assert xihu.path == "/330000/330100/330106/"
    assert [r.code for r in xihu.ancestors()] == ["330000", "330100", "330106"]
    assert xihu.province.code == "330000"
    assert hangzhou.contains(xihu) and not xihu.contains(hangzhou)
    assert Region.objects.get(code="440305").path == "/440000/440300/440305/"

    for r in Region.objects.exclude(level=Region.Level.PROVINCE).select_related("parent"):
        assert r.parent.level == r.level - 1
        # codes nest like the hierarchy (new areas too: their codes keep the province prefix)
        assert r.code[: 2 * r.level - 2] == r.parent.code[: 2 * r.level - 2], r.code
    # every province and autonomous region has its capital (code xx0100) loaded
    for p in provinces.filter(kind__in=["province", "autonomous_region"]).exclude(code="710000"):
        assert Region.objects.filter(code=p.code[:2] + "0100", parent=p).exists(), p.code


@pytest.mark.django_db
def test_ebops(loaded):
    components = ServiceCategory.objects.filter(parent__isnull=True)
    assert [c.code for c in components] == [f"S{x}" for x in "ABCDEFGHIJKL"]
    assert all(c.level == 1 for c in components)
    leaves = ServiceCategory.objects.filter(is_leaf=True)
    assert leaves.count() == 29
    assert ServiceCategory.objects.count() == 38
    assert {c.code for c in leaves.filter(level=1)} == {"SA", "SB", "SL"}
    assert set(ServiceCategory.objects.get(code="SC").children.values_list("code", flat=True)) == {
        "SC1", "SC2", "SC3", "SC4",
    }  # fmt: skip
    for c in ServiceCategory.objects.select_related("parent"):
        assert c.is_leaf == (not c.children.exists())
        assert c.knowledge_intensive == (c.component_code in {"SF", "SG", "SH", "SI", "SJ", "SK"}), c.code
        if c.parent:
            assert c.level == 2 and c.code.startswith(c.parent.code)
    assert ServiceCategory.objects.get(code="SG2").name_zh == "间接测算的金融中介服务"
    assert (
        ServiceCategory.objects.get(code="SH").name_en
        == "Charges for the use of intellectual property n.i.e."
    )
    # `order` follows the file and puts each component before its sub-components
    assert list(ServiceCategory.objects.values_list("code", flat=True))[:4] == ["SA", "SB", "SC", "SC1"]


@pytest.mark.django_db
def test_industries(loaded):
    sections = Industry.objects.filter(parent__isnull=True)
    assert [s.code for s in sections] == list("ABCDEFGHIJKLMNOPQRST")
    divisions = Industry.objects.filter(parent__isnull=False).select_related("parent")
    # GB/T 4754-2017: 20 sections, 97 divisions numbered 01–97 without gaps
    assert [d.code for d in divisions] == [f"{i:02d}" for i in range(1, 98)]
    assert Industry.objects.get(code="65").parent.code == "I"
    assert Industry.objects.get(code="79").name_zh == "土地管理业"
    assert Industry.objects.get(code="97").parent.code == "T"
    section_of = {d.code: d.parent.code for d in divisions}
    first_division = {}
    for code, section in section_of.items():
        first_division.setdefault(section, code)
    assert first_division == dict(zip("ABCDEFGHIJKLMNOPQRST", [
        "01", "06", "13", "44", "47", "51", "53", "61", "63", "66", "70", "71", "73", "76", "80", "83", "84", "86",
        "91", "97",
    ], strict=True))  # fmt: skip


@pytest.mark.django_db
def test_countries(loaded):
    assert Country.objects.count() >= 249
    cn = Country.objects.get(alpha2="CN")
    assert (cn.name_zh, cn.alpha3, cn.numeric) == ("中国", "CHN", "156")
    expected = {
        "HK": ("中国香港", "Hong Kong, China"),
        "MO": ("中国澳门", "Macao, China"),
        "TW": ("中国台湾", "Taiwan, China"),
    }
    for code, (zh, en) in expected.items():
        c = Country.objects.get(alpha2=code)
        assert (c.name_zh, c.name_en) == (zh, en)
    assert Country.objects.get(alpha2="US").name_zh == "美国"
    assert Country.objects.get(alpha2="KR").name_zh == "韩国"
    assert Country.objects.get(alpha2="DE").name_en == "Germany"
    assert not Country.objects.filter(name_zh="").exists()
    with translation.override("en"):
        assert str(Country.objects.get(alpha2="HK")) == "HK Hong Kong, China"


@pytest.mark.django_db
def test_currencies(loaded):
    assert Currency.objects.get(code="CNY").name_zh == "人民币"
    usd = Currency.objects.get(code="USD")
    assert (usd.name_zh, usd.numeric, usd.minor_units) == ("美元", "840", 2)
    assert Currency.objects.get(code="JPY").minor_units == 0
    assert Currency.objects.get(code="KRW").minor_units == 0
    assert Currency.objects.get(code="KWD").minor_units == 3
    assert Currency.objects.get(code="BHD").minor_units == 3
    assert Currency.objects.get(code="EUR").minor_units == 2
    assert Currency.objects.get(code="HKD").name_zh == "港元"
    # every currency has a Chinese name
    assert [c.code for c in Currency.objects.all() if c.name_zh == c.name_en] == []


@pytest.mark.django_db
def test_supply_modes(loaded):
    modes = {m.code: m for m in SupplyMode.objects.all()}
    assert list(modes) == ["1", "2", "3", "4"]
    assert [modes[c].name_zh for c in "1234"] == ["跨境交付", "境外消费", "商业存在", "自然人移动"]
    assert [modes[c].in_direct_report for c in "1234"] == [True, True, False, True]


@pytest.mark.django_db
def test_agencies_cover_annex3(loaded):
    agencies = list(Agency.objects.all())
    assert agencies[0].code == "MOFCOM"
    known = {a.abbreviation for a in agencies} | {a.name_zh for a in agencies}
    assert [u for u in ANNEX3_UNITS if u not in known] == []
    for code in ["MOFCOM", "GACC", "STA", "SAFE", "PBC", "NBS", "NDRC", "MOF", "CBIRC"]:
        assert Agency.objects.filter(code=code).exists(), code
    assert len({a.order for a in agencies}) == len(agencies)


def test_data_files_are_well_formed():
    for name, columns in {
        "regions.csv": ["code", "parent_code", "level", "kind", "name_zh", "name_en", "note"],
        "ebops2010.csv": [
            "code",
            "parent_code",
            "level",
            "name_zh",
            "name_en",
            "knowledge_intensive",
            "order",
        ],
        "industries.csv": ["code", "parent_code", "name_zh", "name_en"],
        "agencies.csv": ["code", "abbreviation", "name_zh", "name_en", "order"],
        "supply_modes.csv": ["code", "in_direct_report", "name_zh", "name_en"],
    }.items():
        with (reference.DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            assert reader.fieldnames == columns, name
            for row in reader:
                assert None not in row, (name, row)  # no stray extra columns
                assert row["name_zh"] and row["name_en"], (name, row)


@pytest.mark.django_db
def test_management_command():
    out = io.StringIO()
    call_command("load_reference", stdout=out)
    text = out.getvalue()
    assert re.search(r"pilot_areas\s+17", text)
    assert re.search(r"industries\s+117", text)
    assert PilotArea.objects.count() == 17


@pytest.mark.django_db
def test_load_all_writes_progress():
    out = io.StringIO()
    counts = reference.load_all(stdout=out)
    assert out.getvalue().splitlines() == [f"{k}: {v}" for k, v in counts.items()]
