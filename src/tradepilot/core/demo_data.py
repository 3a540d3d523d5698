"""Deterministic, realistic synthetic data: enterprises, monthly reports, annual forms and exchange rates.

Used by `tradepilot seed`, by `tradepilot demo` and by benchmarks. The same arguments give the same data: every
random choice comes from `random.Random` instances seeded with strings derived from `seed` (string seeds are
hashed with SHA-512, so they do not depend on PYTHONHASHSEED), and nothing depends on database ids or on the
iteration order of query results.

The data is built in two steps:

* a pure *plan* (`plan_enterprises`, `plan_report`, `latest_buckets`, `synthetic_rate`) that needs no database:
  enterprise profiles, report statuses and their history, lines with amounts in the line currency;
* `generate()` writes the plan with `bulk_create`, one period at a time, in one transaction. USD values are
  computed with `RateTable` from the rates stored in the database (synthetic rates are created for the months
  that have none), exactly as the reporting services do.

Report states are written directly rather than by running the workflow for every report, but they are what the
workflow would have produced: a province-level enterprise's approval is also its acceptance, a city-level one is
approved by the city bureau and accepted by the province; accepted reports of locked periods are locked; every
submitted report has `submitted_at` no later than its lock date, reviews follow submissions, and nothing lies in
the future. `*_by` point at existing bureau users of the approving/accepting region when there are any (the demo
creates its bureau users before generating), else stay empty. Each report gets one audit entry with action
`seed` that summarises its history (one entry per workflow step would triple the size of a big seed).

Annual forms are made for the completed years whose December is among the generated months, for the key-contact
enterprises: a basic registration each, inward FATS for the foreign- and HMT-invested ones, outward FATS for the
larger domestic ones with an affiliate abroad. Their figures (CNY 10k, `Decimal` with two places) derive from the
year's reported monthly trade (scaled up for months not reported) and a persistent per-enterprise profile
(`annual_profile`), so they agree with the monthly reports and from year to year, and pass the forms' checks in
`reporting.annual`; their workflow follows the annual calendar (`plan_annual_report`).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO
from zoneinfo import ZoneInfo

from tradepilot.enterprises.uscc import make_uscc
from tradepilot.reporting.models import Status
from tradepilot.reporting.periods import Period, due_date, lock_date
from tradepilot.reporting.validation import (
    HISTORY_MONTHS,
    REPORTED,
    Evaluator,
    ExpressionError,
    Missing,
    Totals,
    evaluate_rule,
    totals_from_rows,
)

NAMESPACE = "tradepilot-demo-v1"
CHINA_TZ = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------------------------
# Static tables
# --------------------------------------------------------------------------------------------------------------

#: Relative weight of each pilot area (by region code); areas of later rounds not listed here get 2.
PILOT_WEIGHTS: dict[str, float] = {
    "110000": 14, "310000": 14, "440300": 10, "330100": 8, "440100": 8, "120000": 5, "320100": 5, "320500": 5,
    "510100": 5, "420100": 4, "460000": 3, "230100": 2, "500190": 2, "371000": 1.5, "610190": 1.5, "133100": 1,
    "520190": 1,
}  # fmt: skip
DEFAULT_PILOT_WEIGHT = 2.0
#: Share of a pilot city's enterprises registered in one of its districts (when the reference data has any).
DISTRICT_SHARE = 0.3
#: Capitals of provinces outside the pilot (or whose pilot is another area), with weights.
NON_PILOT_CAPITALS: dict[str, float] = {
    "130100": 2, "410100": 3, "430100": 3, "610100": 3, "340100": 3, "350100": 3, "360100": 1, "530100": 1,
    "450100": 1,
}  # fmt: skip
NON_PILOT_SHARE = 0.2

#: Short names used in company names (and their English form) where the region's own name does not fit.
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "133100": ("雄安", "Xiong'an"),
    "500190": ("重庆", "Chongqing"),
    "520190": ("贵州", "Guizhou"),
    "610190": ("陕西", "Shaanxi"),
}
ADDRESS_PREFIX: dict[str, str] = {
    "133100": "河北省雄安新区",
    "500190": "重庆市两江新区",
    "520190": "贵州省贵安新区",
    "610190": "陕西省西咸新区",
    "460000": "海南省海口市",
}

#: 字号 (trade names) with their pinyin.
TRADE_NAMES: list[tuple[str, str]] = [
    ("云图", "Yuntu"), ("华章", "Huazhang"), ("智汇", "Zhihui"), ("博远", "Boyuan"), ("启明", "Qiming"),
    ("天衡", "Tianheng"), ("睿思", "Ruisi"), ("星辰", "Xingchen"), ("海纳", "Haina"), ("汇通", "Huitong"),
    ("瑞丰", "Ruifeng"), ("鼎新", "Dingxin"), ("卓越", "Zhuoyue"), ("恒信", "Hengxin"), ("远景", "Yuanjing"),
    ("数联", "Shulian"), ("金桥", "Jinqiao"), ("思创", "Sichuang"), ("领航", "Linghang"), ("宏图", "Hongtu"),
    ("明德", "Mingde"), ("安泰", "Antai"), ("鸿鹄", "Honghu"), ("嘉禾", "Jiahe"), ("同创", "Tongchuang"),
    ("德信", "Dexin"), ("泰和", "Taihe"), ("信达", "Xinda"), ("云帆", "Yunfan"), ("致远", "Zhiyuan"),
    ("中润", "Zhongrun"), ("华信", "Huaxin"), ("联创", "Lianchuang"), ("蓝海", "Lanhai"), ("新程", "Xincheng"),
    ("易达", "Yida"), ("百川", "Baichuan"), ("凌云", "Lingyun"), ("正源", "Zhengyuan"), ("国瑞", "Guorui"),
    ("英华", "Yinghua"), ("光启", "Guangqi"), ("诚通", "Chengtong"), ("东方", "Dongfang"), ("长风", "Changfeng"),
    ("华蓝", "Hualan"), ("奥维", "Aowei"), ("博思", "Bosi"), ("青禾", "Qinghe"), ("云栖", "Yunqi"),
    ("北辰", "Beichen"), ("南华", "Nanhua"), ("天成", "Tiancheng"), ("万象", "Wanxiang"), ("弘毅", "Hongyi"),
    ("君诚", "Juncheng"), ("和信", "Hexin"), ("汉辰", "Hanchen"), ("瀚海", "Hanhai"), ("景行", "Jingxing"),
    ("四维", "Siwei"), ("九州", "Jiuzhou"), ("通达", "Tongda"), ("卓信", "Zhuoxin"), ("恒远", "Hengyuan"),
    ("晨曦", "Chenxi"), ("精诚", "Jingcheng"), ("汇智", "Huizhi"), ("开元", "Kaiyuan"), ("昊天", "Haotian"),
    ("金诚", "Jincheng"), ("世纪", "Shiji"), ("环宇", "Huanyu"), ("星河", "Xinghe"), ("天际", "Tianji"),
    ("融通", "Rongtong"), ("聚源", "Juyuan"), ("华宇", "Huayu"), ("信诺", "Xinnuo"), ("康桥", "Kangqiao"),
    ("睿智", "Ruizhi"), ("泛亚", "Fanya"), ("亚太", "Yatai"), ("远航", "Yuanhang"), ("瑞华", "Ruihua"),
    ("雅信", "Yaxin"), ("永拓", "Yongtuo"), ("博雅", "Boya"), ("合众", "Hezhong"), ("海川", "Haichuan"),
    ("鲲鹏", "Kunpeng"), ("朗润", "Langrun"), ("清源", "Qingyuan"), ("微澜", "Weilan"), ("墨羽", "Moyu"),
    ("觅途", "Mitu"), ("云杉", "Yunshan"), ("松果", "Songguo"), ("知行", "Zhixing"), ("循迹", "Xunji"),
    ("驰远", "Chiyuan"), ("锦程", "Jincheng"), ("荣泰", "Rongtai"), ("新桥", "Xinqiao"), ("思源", "Siyuan"),
]  # fmt: skip


@dataclass(frozen=True)
class IndustrySpec:
    word_zh: str
    word_en: str
    division: str  # GB/T 4754-2017 division
    archetype: str
    weight: float


INDUSTRIES: list[IndustrySpec] = [
    IndustrySpec("软件", "Software", "65", "software", 10),
    IndustrySpec("信息技术", "Information Technology", "65", "software", 8),
    IndustrySpec("数据科技", "Data Technology", "65", "software", 4),
    IndustrySpec("网络科技", "Network Technology", "64", "internet", 5),
    IndustrySpec("通信技术", "Communication Technology", "63", "telecom", 2),
    IndustrySpec("管理咨询", "Management Consulting", "72", "consulting", 6),
    IndustrySpec("咨询", "Consulting", "72", "consulting", 4),
    IndustrySpec("广告", "Advertising", "72", "consulting", 2),
    IndustrySpec("国际物流", "International Logistics", "58", "logistics", 5),
    IndustrySpec("供应链管理", "Supply Chain Management", "58", "logistics", 3),
    IndustrySpec("国际货运代理", "International Freight Forwarding", "58", "logistics", 3),
    IndustrySpec("仓储", "Warehousing", "59", "logistics", 1),
    IndustrySpec("航空服务", "Aviation Services", "56", "aviation", 1),
    IndustrySpec("文化传媒", "Culture & Media", "87", "culture", 4),
    IndustrySpec("影视", "Film & Television", "87", "culture", 2),
    IndustrySpec("数字娱乐", "Digital Entertainment", "90", "culture", 2),
    IndustrySpec("出版", "Publishing", "86", "culture", 1),
    IndustrySpec("设计", "Design", "74", "design", 3),
    IndustrySpec("工程设计", "Engineering Design", "74", "engineering", 2),
    IndustrySpec("检测认证", "Testing & Certification", "74", "testing", 3),
    IndustrySpec("金融信息服务", "Financial Information Services", "69", "finance", 2),
    IndustrySpec("投资管理", "Investment Management", "67", "finance", 1),
    IndustrySpec("保险经纪", "Insurance Brokerage", "68", "insurance", 1),
    IndustrySpec("生物医药研发", "Biopharmaceutical R&D", "73", "rnd", 3),
    IndustrySpec("医药科技", "Pharmaceutical Technology", "73", "rnd", 2),
    IndustrySpec("技术服务", "Technical Services", "75", "tech_services", 2),
    IndustrySpec("知识产权服务", "Intellectual Property Services", "75", "ip", 1),
    IndustrySpec("国际旅行社", "International Travel Service", "72", "travel", 1),
    IndustrySpec("设备维修", "Equipment Maintenance", "43", "repair", 1),
]


@dataclass(frozen=True)
class Archetype:
    categories: dict[str, float]  # EBOPS leaf → weight
    export_share: float
    size: float  # multiplier of the base monthly size


ARCHETYPES: dict[str, Archetype] = {
    "software": Archetype({"SI2": 6, "SI3": 2, "SH3": 1, "SJ1": 0.6, "SJ2": 0.5, "SI1": 0.3}, 0.72, 1.0),
    "internet": Archetype({"SI3": 5, "SI2": 3, "SJ2": 1, "SK1": 1, "SH3": 0.5}, 0.55, 1.2),
    "telecom": Archetype({"SI1": 6, "SI2": 2, "SI3": 1}, 0.5, 1.6),
    "consulting": Archetype({"SJ2": 7, "SJ3": 2, "SI2": 0.7, "SJ1": 0.5, "SH1": 0.5}, 0.5, 0.8),
    "logistics": Archetype({"SC1": 4, "SC2": 3, "SC4": 2, "SC3": 1, "SJ3": 0.4}, 0.5, 1.6),
    "aviation": Archetype({"SC2": 6, "SB": 1, "SD1": 0.5}, 0.45, 2.0),
    "culture": Archetype({"SK1": 5, "SH4": 3, "SK2": 1.5, "SJ2": 1}, 0.45, 0.6),
    "design": Archetype({"SJ3": 5, "SJ2": 2, "SI2": 1, "SH1": 0.5}, 0.6, 0.6),
    "engineering": Archetype({"SJ3": 5, "SE1": 2, "SJ2": 1}, 0.65, 1.2),
    "testing": Archetype({"SJ3": 7, "SJ2": 1.5, "SJ1": 1.5}, 0.55, 0.6),
    "finance": Archetype({"SG1": 6, "SF1": 1.5, "SI3": 1.5, "SJ2": 0.5}, 0.4, 1.8),
    "insurance": Archetype({"SF1": 4, "SF2": 3, "SF3": 2}, 0.35, 1.5),
    "rnd": Archetype({"SJ1": 7, "SH2": 2, "SJ3": 1, "SJ2": 0.5}, 0.7, 1.0),
    "tech_services": Archetype({"SJ1": 3, "SJ3": 3, "SH2": 1, "SI2": 1}, 0.55, 0.7),
    "ip": Archetype({"SH1": 3, "SH2": 3, "SJ2": 3}, 0.35, 0.5),
    "travel": Archetype({"SD2": 5, "SD1": 4, "SK2": 1}, 0.35, 0.7),
    "repair": Archetype({"SB": 6, "SA": 1, "SJ3": 1}, 0.6, 0.9),
}
#: Services that most enterprises also buy or sell a little of.
SECONDARY_CATEGORIES = {"SJ2": 3, "SJ3": 3, "SH3": 2, "SI2": 2, "SC4": 1, "SH1": 1, "SD1": 1}
#: China mostly imports IP and travel: scale the export share for these components.
EXPORT_FACTOR = {"SH": 0.4, "SD": 0.7, "SF": 0.8}
#: Modes of supply by EBOPS component (default for the rest).
MODES_DEFAULT = {"1": 0.86, "4": 0.11, "2": 0.03}
MODES_BY_COMPONENT: dict[str, dict[str, float]] = {
    "SD": {"2": 0.9, "1": 0.1},
    "SE": {"4": 0.6, "1": 0.4},
    "SC": {"1": 0.97, "2": 0.03},
    "SB": {"1": 0.6, "2": 0.3, "4": 0.1},
    "SK": {"1": 0.82, "2": 0.13, "4": 0.05},
    "SF": {"1": 1.0},
    "SG": {"1": 1.0},
    "SH": {"1": 1.0},
}

#: Partner countries and territories with their overall weight.
PARTNERS: dict[str, float] = {
    "HK": 30, "US": 18, "JP": 7, "SG": 6, "DE": 5, "GB": 4, "KR": 4, "TW": 3, "AU": 2.5, "FR": 2, "NL": 2,
    "MO": 1, "CA": 1.5, "IN": 1.5, "CH": 1, "IE": 1, "IT": 1, "VN": 1, "MY": 1, "SE": 0.8, "TH": 0.8,
    "ID": 0.8, "AE": 0.8, "RU": 0.8, "BR": 0.6, "VG": 0.5, "IL": 0.5, "FI": 0.5, "DK": 0.5, "BE": 0.5,
    "ES": 0.5, "SA": 0.4, "NZ": 0.4, "PH": 0.4, "KY": 0.3, "LU": 0.3, "MX": 0.3, "KZ": 0.3, "PK": 0.3,
    "TR": 0.3, "ZA": 0.3, "EG": 0.2, "NG": 0.2,
}  # fmt: skip
FOREIGN_PARENTS = {"US": 5, "JP": 4, "DE": 3, "SG": 3, "GB": 2, "FR": 2, "KR": 2, "CH": 1, "NL": 1, "SE": 0.5,
                   "AU": 0.5, "CA": 0.5, "IE": 0.5}
HMT_PARENTS = {"HK": 7, "TW": 2.5, "MO": 0.5}
DOMESTIC_AFFILIATES = {"HK": 6, "SG": 2, "US": 2, "DE": 1, "GB": 1, "VG": 1}
EURO = {"DE", "FR", "NL", "IT", "ES", "BE", "IE", "FI", "LU"}
#: Partner → (local currency, probability of invoicing in it).
LOCAL_CURRENCY: dict[str, tuple[str, float]] = {
    "HK": ("HKD", 0.25), "JP": ("JPY", 0.35), "GB": ("GBP", 0.3), "SG": ("SGD", 0.15), "KR": ("KRW", 0.2),
    "AU": ("AUD", 0.2), "CA": ("CAD", 0.15), "CH": ("CHF", 0.25), **{c: ("EUR", 0.4) for c in EURO},
}  # fmt: skip
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW"}

#: Monthly seasonality: Chinese New Year dip in January/February, golden week in October, December peak.
SEASON = {1: 0.9, 2: 0.74, 3: 0.98, 4: 0.97, 5: 1.0, 6: 1.06, 7: 0.99, 8: 0.97, 9: 1.04, 10: 0.93, 11: 1.03,
          12: 1.28}

#: Latest-period mix of the key-contact enterprises: not reported / draft / returned / submitted / reviewed.
LATEST_MIX = {"missing": 0.20, "draft": 0.06, "returned": 0.04, "submitted": 0.48, "reviewed": 0.22}

RETURN_REASONS = [
    "第{n}行服务类别与企业主营业务不符，请核实后重新提交。",
    "本月出口额较上月大幅增长，请在说明中补充原因。",
    "第{n}行币种与合同币种不一致，请核对后重新提交。",
    "关联交易标识与上年同期不一致，请确认交易对手是否为关联方。",
    "第{n}行伙伴国家（地区）填写有误，请核对。",
    "请补充大额进口业务的合同信息说明。",
]
DRAFT_NOTES = ["合同金额待财务确认", "按发票金额填报", "预估数，月底前更新"]

# Annual forms (figures in CNY 10k).
#: Archetype → (turnover per employee, average annual compensation per employee, R&D intensity, assets/turnover)
#: around 2024; compensation grows by WAGE_GROWTH a year.
ANNUAL_ECONOMICS: dict[str, tuple[float, float, float, float]] = {
    "software": (95, 24, 0.09, 1.1), "internet": (150, 30, 0.08, 1.3), "telecom": (260, 26, 0.03, 1.9),
    "consulting": (70, 26, 0.01, 0.7), "logistics": (220, 13, 0.005, 0.9), "aviation": (300, 19, 0.005, 2.2),
    "culture": (85, 16, 0.01, 1.0), "design": (60, 18, 0.03, 0.8), "engineering": (110, 21, 0.04, 1.2),
    "testing": (55, 15, 0.04, 1.1), "finance": (280, 40, 0.01, 4.5), "insurance": (320, 32, 0.005, 4.0),
    "rnd": (75, 25, 0.25, 1.6), "tech_services": (70, 18, 0.05, 0.9), "ip": (80, 24, 0.02, 1.0),
    "travel": (110, 11, 0.0, 0.6), "repair": (75, 13, 0.01, 1.0),
}  # fmt: skip
WAGE_GROWTH = 0.04
#: Outward FATS: host countries of overseas affiliates (besides the one the enterprise trades with most).
OUTWARD_HOSTS = {"HK": 10, "US": 4, "SG": 3.5, "DE": 2, "JP": 1.5, "GB": 1.5, "VG": 1, "KY": 0.8, "AU": 0.8,
                 "NL": 0.8, "KR": 0.6, "MY": 0.7, "VN": 0.8, "TH": 0.6, "ID": 0.6, "AE": 0.6, "FR": 0.6, "CA": 0.5,
                 "LU": 0.4, "IT": 0.4, "MO": 0.3}
#: Holding companies: few staff, little turnover, large assets; activity 72 (business services).
HOLDING_HOSTS = {"VG", "KY", "LU"}
HOST_NAMES_ZH = {
    "HK": "香港", "US": "美国", "SG": "新加坡", "DE": "德国", "JP": "日本", "GB": "英国", "VG": "英属维尔京群岛",
    "KY": "开曼群岛", "AU": "澳大利亚", "NL": "荷兰", "KR": "韩国", "MY": "马来西亚", "VN": "越南", "TH": "泰国",
    "ID": "印度尼西亚", "AE": "阿联酋", "FR": "法国", "CA": "加拿大", "LU": "卢森堡", "IT": "意大利", "MO": "澳门",
}  # fmt: skip
#: Turnover per employee of an overseas affiliate (CNY 10k).
HOST_PRODUCTIVITY = {"HK": 160, "US": 250, "SG": 190, "DE": 220, "JP": 200, "GB": 210, "AU": 200, "NL": 220,
                     "KR": 150, "FR": 200, "CA": 200, "IT": 170, "AE": 140, "MO": 120, "MY": 70, "VN": 45, "TH": 55,
                     "ID": 50}
OWNERSHIP_SHARES = {"100": 65, "51": 5, "55": 2, "60": 5, "65": 2, "70": 6, "75": 4, "80": 5, "85": 1, "90": 4,
                    "95": 1}
ANNUAL_RETURN_REASONS: dict[str, list[str]] = {
    "basic": ["从业人员数与上年差异较大，请核实后重新提交。", "注册资本应以万元为单位填报，请核对。",
              "主营业务与月报服务类别不符，请补充说明。"],
    "fats_in": ["服务销售额小于月报服务出口合计，请核实。", "最终控股方国家（地区）与上年不一致，请确认。",
                "增加值与劳动者报酬不匹配，请核对。"],
    "fats_out": ["境外附属机构持股比例请核实。", "境外附属机构从业人员数为零，请确认是否为控股平台。",
                 "东道国（地区）填写有误，请核对。"],
}  # fmt: skip

SURNAMES: list[tuple[str, str]] = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"),
    ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("许", "xu"), ("韩", "han"),
    ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"),
    ("董", "dong"), ("袁", "yuan"), ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"),
    ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"), ("魏", "wei"), ("吕", "lv"), ("丁", "ding"),
    ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"), ("姜", "jiang"), ("崔", "cui"), ("钟", "zhong"),
    ("谭", "tan"), ("陆", "lu"), ("汪", "wang"), ("范", "fan"), ("金", "jin"), ("石", "shi"), ("廖", "liao"),
    ("贾", "jia"), ("夏", "xia"), ("韦", "wei"), ("方", "fang"), ("白", "bai"), ("邹", "zou"), ("孟", "meng"),
    ("熊", "xiong"), ("秦", "qin"), ("邱", "qiu"), ("江", "jiang"), ("尹", "yin"), ("薛", "xue"), ("段", "duan"),
    ("雷", "lei"), ("侯", "hou"), ("龙", "long"), ("史", "shi"), ("陶", "tao"), ("黎", "li"), ("贺", "he"),
    ("顾", "gu"), ("毛", "mao"), ("郝", "hao"), ("龚", "gong"), ("邵", "shao"), ("万", "wan"), ("钱", "qian"),
    ("严", "yan"), ("武", "wu"), ("戴", "dai"), ("孔", "kong"), ("汤", "tang"),
]  # fmt: skip
GIVEN_NAMES: list[tuple[str, str]] = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("晨", "chen"), ("宇", "yu"), ("浩", "hao"), ("欣怡", "xinyi"), ("子涵", "zihan"),
    ("梓轩", "zixuan"), ("思远", "siyuan"), ("雨桐", "yutong"), ("佳琪", "jiaqi"), ("嘉怡", "jiayi"),
    ("文博", "wenbo"), ("俊杰", "junjie"), ("晓东", "xiaodong"), ("海燕", "haiyan"), ("丹", "dan"),
    ("鹏", "peng"), ("建华", "jianhua"), ("志强", "zhiqiang"), ("婷", "ting"), ("雪", "xue"), ("琳", "lin"),
    ("颖", "ying"), ("慧敏", "huimin"), ("晓明", "xiaoming"), ("立新", "lixin"), ("春燕", "chunyan"),
    ("一鸣", "yiming"), ("子豪", "zihao"), ("诗涵", "shihan"), ("宏伟", "hongwei"), ("丽华", "lihua"),
    ("振华", "zhenhua"), ("晓燕", "xiaoyan"), ("雅琴", "yaqin"), ("天宇", "tianyu"), ("博文", "bowen"),
]  # fmt: skip
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "180", "181", "182",
                   "183", "185", "186", "187", "188", "189", "191", "198", "199"]
ROADS = ["科技园路", "创新大道", "高新大道", "金融街", "世纪大道", "建设路", "人民路", "中山路", "解放路", "长江路",
         "新华路", "学府路", "软件园路", "滨河路", "湖滨路", "东风路", "和平路", "文化路", "光明路", "未来路",
         "数字大道", "会展路", "自贸大道", "临港大道", "创业路", "云谷路"]

# --------------------------------------------------------------------------------------------------------------
# Exchange rates
# --------------------------------------------------------------------------------------------------------------

RATE_CURRENCIES = ["USD", "EUR", "JPY", "HKD", "GBP", "SGD", "KRW", "AUD", "CAD", "CHF"]
#: Approximate annual levels of the CNY central parity (yuan per unit), 2017–2026; HKD follows USD (peg).
RATE_ANCHORS: dict[str, list[float]] = {
    "USD": [6.75, 6.62, 6.90, 6.90, 6.45, 6.73, 7.08, 7.12, 7.18, 7.10],
    "EUR": [7.63, 7.81, 7.73, 7.87, 7.63, 7.08, 7.66, 7.71, 8.05, 8.25],
    "JPY": [0.0602, 0.0600, 0.0633, 0.0647, 0.0587, 0.0514, 0.0505, 0.0471, 0.0482, 0.0465],
    "GBP": [8.70, 8.83, 8.80, 8.86, 8.87, 8.30, 8.80, 9.10, 9.45, 9.55],
    "SGD": [4.89, 4.91, 5.06, 5.00, 4.80, 4.88, 5.27, 5.33, 5.50, 5.52],
    "KRW": [0.00598, 0.00602, 0.00593, 0.00585, 0.00564, 0.00521, 0.00542, 0.00522, 0.00510, 0.00495],
    "AUD": [5.17, 4.95, 4.80, 4.76, 4.85, 4.67, 4.70, 4.70, 4.63, 4.70],
    "CAD": [5.20, 5.11, 5.20, 5.15, 5.15, 5.17, 5.25, 5.20, 5.13, 5.15],
    "CHF": [6.86, 6.77, 6.94, 7.36, 7.06, 7.05, 7.88, 8.08, 8.65, 8.85],
}
RATE_FIRST_YEAR = 2017
RATE_QUANTUM = Decimal("0.00000001")
HKD_PEG = 7.80


def _rate_level(code: str, index: int) -> float:
    """Linear interpolation between mid-year anchors; flat outside the table."""
    anchors = RATE_ANCHORS[code]
    pos = (index - (RATE_FIRST_YEAR * 12 + 6)) / 12  # 0.0 at July of the first year
    if pos <= 0:
        return anchors[0]
    if pos >= len(anchors) - 1:
        return anchors[-1]
    i = int(pos)
    frac = pos - i
    return anchors[i] * (1 - frac) + anchors[i + 1] * frac


@functools.lru_cache(maxsize=4096)
def synthetic_rate(code: str, year: int, month: int) -> Decimal:
    """CNY per unit of `code` for the month: a smooth, deterministic wobble around realistic levels."""
    if code == "CNY":
        return Decimal(1)
    index = year * 12 + month - 1
    phase = sum(ord(c) for c in code) / 7.0
    if code == "HKD":
        value = _rate_level("USD", index) / HKD_PEG * (1 + 0.002 * math.sin(index / 2.3 + phase))
    else:
        amplitude = 0.004 if code == "USD" else 0.012
        wobble = amplitude * math.sin(2 * math.pi * index / 7.3 + phase) + amplitude / 2 * math.sin(
            2 * math.pi * index / 2.9 + 2 * phase
        )
        value = _rate_level(code, index) * (1 + wobble)
    return Decimal(repr(value)).quantize(RATE_QUANTUM)


# --------------------------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------------------------


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (NAMESPACE, seed, *parts)))


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _sample(rng: random.Random, weights: Mapping[str, float], k: int) -> list[str]:
    """k distinct keys, weighted, without replacement (Efraimidis–Spirakis)."""
    keyed = sorted(((math.log(1.0 - rng.random()) / w, key) for key, w in weights.items() if w > 0), reverse=True)
    return [key for _score, key in keyed[:k]]


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name_zh: str
    name_en: str
    level: int
    parent_code: str = ""


@dataclass(frozen=True)
class Flow:
    """One kind of transaction an enterprise has: a potential report line."""

    direction: str
    service: str
    partner: str
    mode: str
    related_party: bool
    currency: str
    weight: float


@dataclass
class EnterprisePlan:
    index: int
    uscc: str
    name: str
    name_en: str
    region_code: str
    approval_region_code: str  # the bureau that approves (city, else province)
    province_code: str  # the bureau that accepts
    two_level: bool
    industry_code: str
    archetype: str
    registration_type: str
    established: dt.date
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str
    is_key_contact: bool
    key_contact_year: int | None
    is_systemic: bool = False
    systemic_year: int | None = None
    base_usd: float = 0.0  # median monthly trade in USD at the start of 2024
    growth: float = 0.0  # annual growth rate
    breadth: int = 0  # typical number of lines per report
    p_missing: float = 0.0
    p_late: float = 0.0
    p_returned: float = 0.0
    flows: list[Flow] = field(default_factory=list)
    affiliate: str = ""  # foreign parent, or overseas affiliate of a domestic enterprise (alpha-2); "" if none
    trade_name: str = ""  # 字号, for the names of overseas affiliates
    industry_word: str = ""

    @property
    def first_period(self) -> Period:
        return Period(self.key_contact_year or 2018, 1)


@dataclass
class ReportPlan:
    status: str  # a reporting.models.Status value
    nil_return: bool
    lines: list[tuple]  # (direction, service, partner, mode, related_party, currency, amount)
    created: dt.datetime
    submitted_at: dt.datetime | None = None
    approved_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    return_reason: str = ""
    history: list[list] = field(default_factory=list)  # [action, iso timestamp(, reason)]

    @property
    def last_event(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.history[-1][1]) if self.history else self.created


def _chain(code: str, regions: Mapping[str, RegionInfo]) -> list[RegionInfo]:
    chain = []
    while code:
        region = regions[code]
        chain.append(region)
        code = region.parent_code
    return chain[::-1]


def _short_name(region: RegionInfo, regions: Mapping[str, RegionInfo]) -> tuple[str, str]:
    """Name used in company names: the city for a district, without 市/省 and similar suffixes."""
    if region.level == 3 and region.parent_code:
        return _short_name(regions[region.parent_code], regions)
    if region.code in SHORT_NAMES:
        return SHORT_NAMES[region.code]
    zh = region.name_zh
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if zh.endswith(suffix) and len(zh) > len(suffix) + 1:
            zh = zh[: -len(suffix)]
            break
    return zh, region.name_en.split(",")[0].replace(" SAR", "")


def _address(rng: random.Random, region: RegionInfo, regions: Mapping[str, RegionInfo]) -> str:
    if region.code in ADDRESS_PREFIX:
        prefix = ADDRESS_PREFIX[region.code]
    elif region.level == 3:
        prefix = regions[region.parent_code].name_zh + region.name_zh
    else:
        prefix = region.name_zh
    road = rng.choice(ROADS)
    building = rng.choice(["", f"{rng.randint(1, 12)}号楼", f"{rng.choice('ABCD')}座"])
    return f"{prefix}{road}{rng.randint(1, 999)}号{building}{rng.randint(2, 28)}层{rng.randint(1, 30):02d}室"


def _lognormal(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(0.0, sigma))


def _region_choices(regions: Mapping[str, RegionInfo], pilot_codes: Sequence[str]) -> tuple[dict, dict, dict]:
    pilot = {c: PILOT_WEIGHTS.get(c, DEFAULT_PILOT_WEIGHT) for c in pilot_codes if c in regions}
    non_pilot = {c: w for c, w in NON_PILOT_CAPITALS.items() if c in regions and c not in pilot}
    districts: dict[str, list[str]] = {}
    for r in sorted(regions.values(), key=lambda r: r.code):
        if r.level == 3 and r.parent_code in pilot and regions[r.parent_code].level == 2:
            districts.setdefault(r.parent_code, []).append(r.code)
    return pilot, non_pilot, districts


def plan_enterprises(count: int, seed: int, regions: Mapping[str, RegionInfo],
                     pilot_codes: Sequence[str]) -> list[EnterprisePlan]:
    """The enterprises, their attributes and trading profiles. Pure: no database access."""
    pilot, non_pilot, districts = _region_choices(regions, pilot_codes)
    if not pilot:
        raise ValueError("No pilot areas: load the reference data first.")
    allocation = _rng(seed, "regions")
    n_non_pilot = round(count * NON_PILOT_SHARE) if non_pilot else 0
    if non_pilot and count >= 5:
        n_non_pilot = max(1, n_non_pilot)
    slots = ["non_pilot"] * n_non_pilot + ["pilot"] * (count - n_non_pilot)
    allocation.shuffle(slots)

    industry_weights = {i: spec.weight for i, spec in enumerate(INDUSTRIES)}
    surname_weights = {i: 1 / (i + 1) ** 0.6 for i in range(len(SURNAMES))}
    used_serials: set[tuple[str, int]] = set()
    used_names: set[str] = set()
    plans: list[EnterprisePlan] = []
    for index, slot in enumerate(slots):
        rng = _rng(seed, "enterprise", index)
        if slot == "pilot":
            code = _pick(allocation, pilot)
            if code in districts and allocation.random() < DISTRICT_SHARE:
                code = allocation.choice(districts[code])
        else:
            code = _pick(allocation, non_pilot)
        region = regions[code]
        chain = _chain(code, regions)
        province, approval = chain[0], chain[1] if len(chain) > 1 else chain[0]

        spec = INDUSTRIES[int(_pick(rng, {str(k): w for k, w in industry_weights.items()}))]
        archetype = ARCHETYPES[spec.archetype]
        reg_roll = rng.random()
        registration_type = "domestic" if reg_roll < 0.65 else "foreign" if reg_roll < 0.90 else "hmt"

        # Name: region + 字号 + industry word + 有限公司 / 股份有限公司; foreign affiliates put the city in brackets.
        short_zh, short_en = _short_name(region, regions)
        for attempt in range(50):
            trade_zh, trade_en = rng.choice(TRADE_NAMES)
            if attempt >= 10:  # crowded: add a second character pair
                extra_zh, extra_en = rng.choice(TRADE_NAMES)
                trade_zh, trade_en = trade_zh + extra_zh[0], trade_en + extra_en.lower()[:3]
            joint_stock = registration_type == "domestic" and rng.random() < 0.18
            if registration_type != "domestic" and rng.random() < 0.5:
                name = f"{trade_zh}{spec.word_zh}（{short_zh}）有限公司"
                name_en = f"{trade_en} {spec.word_en} ({short_en}) Co., Ltd."
            else:
                suffix = "股份有限公司" if joint_stock else "有限公司"
                name = f"{short_zh}{trade_zh}{spec.word_zh}{suffix}"
                name_en = f"{short_en} {trade_en} {spec.word_en} {'Corp., Ltd.' if joint_stock else 'Co., Ltd.'}"
            if name not in used_names:
                break
        used_names.add(name)

        serial = rng.randrange(10_000_000, 99_999_999)
        while (code, serial) in used_serials:
            serial = serial + 1 if serial < 99_999_999 else 10_000_000
        used_serials.add((code, serial))
        uscc = make_uscc(code, serial)

        surname_zh, surname_py = SURNAMES[int(_pick(rng, {str(k): w for k, w in surname_weights.items()}))]
        given_zh, given_py = rng.choice(GIVEN_NAMES)
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        email = f"{given_py}.{surname_py}{rng.choice(['', '', str(rng.randint(1, 99))])}@{trade_en.lower()}.example.cn"

        is_key = rng.random() < 0.85
        key_year = (2018 if rng.random() < 0.7 else 2019) if is_key else None
        if is_key:
            established = dt.date(rng.randint(1995, 2016), rng.randint(1, 12), rng.randint(1, 28))
        else:
            established = dt.date(rng.randint(1998, 2023), rng.randint(1, 12), rng.randint(1, 28))

        plan = EnterprisePlan(
            index=index, uscc=uscc, name=name, name_en=name_en, region_code=code,
            approval_region_code=approval.code, province_code=province.code, two_level=len(chain) > 1,
            industry_code=spec.division, archetype=spec.archetype, registration_type=registration_type,
            established=established, address=_address(rng, region, regions), contact_name=surname_zh + given_zh,
            contact_phone=phone, contact_email=email, is_key_contact=is_key, key_contact_year=key_year,
            trade_name=trade_zh, industry_word=spec.word_zh,
        )
        if is_key:
            _plan_trade_profile(plan, archetype, rng)
        plans.append(plan)

    # Systemically important: about 8% of all enterprises, the largest key-contact ones (with some noise).
    ranking = _rng(seed, "systemic")
    keyed = sorted(
        ((p.base_usd * _lognormal(ranking, 0.5), p.index) for p in plans if p.is_key_contact), reverse=True
    )
    for _size, index in keyed[: round(count * 0.08)]:
        plans[index].is_systemic = True
        plans[index].systemic_year = max(plans[index].key_contact_year or 2018, ranking.choice([2020, 2021, 2022]))
    return plans


def _plan_trade_profile(plan: EnterprisePlan, archetype: Archetype, rng: random.Random) -> None:
    plan.base_usd = min(max(180_000 * archetype.size * _lognormal(rng, 1.25), 8_000), 80_000_000)
    plan.growth = rng.gauss(0.07, 0.12)
    breadth = 22 * (plan.base_usd / 180_000) ** 0.3 * _lognormal(rng, 0.4)
    plan.breadth = int(min(max(round(breadth), 3), 60))
    plan.p_missing = rng.choices([0.01, 0.06, 0.25], weights=[80, 15, 5])[0]
    plan.p_late = rng.choices([0.03, 0.15, 0.45], weights=[70, 25, 5])[0]
    plan.p_returned = rng.choice([0.02, 0.04, 0.08])

    # 1–3 main categories weighted toward the industry, plus a little of the common secondary ones.
    n_main = rng.choices([1, 2, 3], weights=[35, 40, 25])[0]
    main = _sample(rng, archetype.categories, n_main)
    categories = {code: (3.0 if i == 0 else 1.0) * _lognormal(rng, 0.4) for i, code in enumerate(main)}
    for code in _sample(rng, SECONDARY_CATEGORIES, rng.randint(0, 2)):
        categories.setdefault(code, rng.uniform(0.05, 0.25))

    # Partners: 3–25, HK and US nearly always; a foreign parent or an overseas affiliate for related-party trade.
    n_partners = int(min(max(3 + plan.breadth / 3 + rng.randint(-2, 3), 3), 25))
    partners = {code: PARTNERS[code] * _lognormal(rng, 0.5) for code in _sample(rng, PARTNERS, n_partners)}
    if plan.registration_type == "foreign":
        affiliate = _pick(rng, FOREIGN_PARENTS)
    elif plan.registration_type == "hmt":
        affiliate = _pick(rng, HMT_PARENTS)
    else:
        affiliate = _pick(rng, DOMESTIC_AFFILIATES) if rng.random() < 0.25 else ""
    if affiliate:
        partners[affiliate] = max(partners.values()) * rng.uniform(0.5, 1.5)
    plan.affiliate = affiliate
    export_share = min(max(archetype.export_share + rng.gauss(0, 0.15), 0.05), 0.95)
    cny_share = {"domestic": 0.08, "foreign": 0.03, "hmt": 0.05}[plan.registration_type]

    total_cat, total_partner = sum(categories.values()), sum(partners.values())
    target = min(int(plan.breadth * 1.4) + 3, 90)
    seen: set[tuple] = set()
    flows: list[Flow] = []
    for _attempt in range(target * 15):
        if len(flows) >= target:
            break
        service = _pick(rng, categories)
        component = service[:2]
        x_share = min(max(export_share * EXPORT_FACTOR.get(component, 1.0), 0.03), 0.97)
        direction = "X" if rng.random() < x_share else "M"
        partner = _pick(rng, partners)
        mode = _pick(rng, MODES_BY_COMPONENT.get(component, MODES_DEFAULT))
        related = rng.random() < (0.65 if partner == affiliate else 0.04)
        local = LOCAL_CURRENCY.get(partner)
        roll = rng.random()
        if roll < cny_share:
            currency = "CNY"
        elif local and roll < cny_share + local[1]:
            currency = local[0]
        else:
            currency = "USD"
        key = (direction, service, partner, mode, related, currency)
        if key in seen:
            continue
        seen.add(key)
        weight = categories[service] / total_cat * partners[partner] / total_partner * _lognormal(rng, 0.9)
        flows.append(Flow(direction, service, partner, mode, related, currency, weight))
    plan.flows = flows


def latest_buckets(plans: Sequence[EnterprisePlan], seed: int, period: Period) -> dict[int, str]:
    """Exact shares of LATEST_MIX over the key-contact enterprises reporting in `period`; chronic
    non-reporters are the most likely to be missing."""
    rng = _rng(seed, "latest", period)
    reporters = [p for p in plans if p.is_key_contact and period >= p.first_period]
    ranked = sorted(reporters, key=lambda p: (rng.random() * (1 - p.p_missing) ** 3, p.index))
    out: dict[int, str] = {}
    start = 0
    names = list(LATEST_MIX)
    for i, name in enumerate(names):
        end = len(ranked) if i == len(names) - 1 else start + round(LATEST_MIX[name] * len(ranked))
        for p in ranked[start:end]:
            out[p.index] = name
        start = end
    return out


class _Calendar:
    """Due and lock dates of the monthly form, in the shape `periods` needs."""

    def __init__(self, due_day: int = 10, due_month_offset: int = 1, lock_after_days: int = 20):
        self.due_day, self.due_month_offset, self.lock_after_days = due_day, due_month_offset, lock_after_days


def _moment(day: dt.date, rng: random.Random, tz) -> dt.datetime:
    """A time within office hours on `day`."""
    minutes = rng.randint(9 * 60, 18 * 60 + 30)
    return dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, rng.randint(0, 59), tzinfo=tz)


def _after(t: dt.datetime, rng: random.Random, lo_days: float, hi_days: float) -> dt.datetime:
    return t + dt.timedelta(seconds=int(rng.uniform(lo_days, hi_days) * 86400))


def _between(a: dt.datetime, b: dt.datetime, rng: random.Random, skew: float = 1.0) -> dt.datetime:
    if b <= a:
        return a
    return a + dt.timedelta(seconds=int((b - a).total_seconds() * rng.random() ** skew))


def plan_lines(ent: EnterprisePlan, period: Period, rng: random.Random, *, fraction: float = 1.0) -> list[tuple]:
    """The lines of one month: the enterprise's usual flows, scaled by its size, trend and the season."""
    if not ent.flows:
        return []
    n = int(min(max(round(ent.breadth * _lognormal(rng, 0.18)), 3), 60, len(ent.flows)))
    n = max(1, round(n * fraction)) if fraction < 1 else n
    keyed = sorted(((math.log(1.0 - rng.random()) / f.weight, i) for i, f in enumerate(ent.flows)), reverse=True)
    chosen = [ent.flows[i] for _k, i in keyed[:n]]
    months_since_2024 = (period.year - 2024) * 12 + period.month - 1
    total = ent.base_usd * SEASON[period.month] * (1 + ent.growth) ** (months_since_2024 / 12) * _lognormal(rng, 0.12)
    shares = [f.weight * _lognormal(rng, 0.3) for f in chosen]
    scale = total / sum(shares)
    usd_rate = float(synthetic_rate("USD", period.year, period.month))
    lines = []
    for flow, share in sorted(zip(chosen, shares, strict=True),
                              key=lambda fs: (fs[0].direction != "X", fs[0].service, fs[0].partner, fs[0].mode)):
        usd = max(share * scale, rng.uniform(150, 900))
        value = usd * usd_rate / float(synthetic_rate(flow.currency, period.year, period.month))
        if flow.currency in ZERO_DECIMAL_CURRENCIES:
            value = round(value)
        amount = Decimal(f"{value:.2f}")
        if amount <= 0:
            amount = Decimal("1.00")
        lines.append((flow.direction, flow.service, flow.partner, flow.mode, flow.related_party, flow.currency,
                      amount))
    return lines


def plan_report(ent: EnterprisePlan, period: Period, *, seed: int, as_of: dt.datetime, latest: bool,
                bucket: str | None = None, form=None, tz=CHINA_TZ) -> ReportPlan | None:
    """One enterprise's report for one period, or None when it did not report. Pure: no database access.

    Older periods: submitted (on time or late, sometimes returned once first), reviewed, accepted and locked
    once the period locks. The latest period (`latest=True`) follows `bucket` from `latest_buckets`.
    """
    if not ent.is_key_contact or period < ent.first_period:
        return None
    rng = _rng(seed, "report", ent.index, period)
    form = form or _Calendar()
    due, lock = due_date(form, period), lock_date(form, period)
    period_end = period.shift(1)
    opens = dt.datetime(period_end.year, period_end.month, 1, 8, 30, tzinfo=tz)
    due_end = dt.datetime(due.year, due.month, due.day, 23, 59, tzinfo=tz)
    lock_end = dt.datetime(lock.year, lock.month, lock.day, 23, 0, tzinfo=tz)
    horizon = min(as_of - dt.timedelta(minutes=5), lock_end)
    locked = as_of.date() > lock

    if latest:
        bucket = bucket or "submitted"
        if bucket == "missing":
            return None
    else:
        if rng.random() < ent.p_missing:
            if rng.random() < 0.25:  # opened but never submitted
                created = _between(opens, horizon, rng)
                lines = plan_lines(ent, period, rng, fraction=rng.uniform(0.2, 0.8))
                return ReportPlan(Status.DRAFT, False, lines, created, history=[["create", created.isoformat()]])
            return None
        bucket = "old"

    nil = ent.base_usd < 40_000 and rng.random() < 0.05 or rng.random() < 0.01
    lines = [] if nil else plan_lines(ent, period, rng)

    if bucket == "draft":
        created = _between(opens, horizon, rng)
        if rng.random() < 0.3:
            lines = []
        else:
            lines = lines[: max(1, round(len(lines) * rng.uniform(0.3, 0.9)))]
        return ReportPlan(Status.DRAFT, False, lines, created, history=[["create", created.isoformat()]])

    # Submission time.
    if bucket == "old":
        late = rng.random() < ent.p_late
        if late:
            submitted = _moment(due + dt.timedelta(days=rng.randint(1, form.lock_after_days - 2)), rng, tz)
        else:
            window = (due - period_end_date(period)).days
            submitted = _moment(period_end_date(period) + dt.timedelta(days=round(window * rng.random() ** 0.6)),
                                rng, tz)
    else:
        on_time_end = min(due_end, horizon)
        if rng.random() < ent.p_late * 1.5 and horizon > due_end:
            submitted = _between(due_end, horizon, rng)
        else:
            submitted = _between(opens, on_time_end, rng, skew=0.8)
    created = max(opens, submitted - dt.timedelta(minutes=rng.randint(30, 96 * 60)))
    if created > submitted:
        created = submitted
    events: list[list] = [["create", created]]

    if bucket == "old" and rng.random() < ent.p_returned:  # returned once, corrected and resubmitted
        back = _after(submitted, rng, 0.2, 3)
        reason = _return_reason(rng, len(lines))
        again = _after(back, rng, 0.1, 3)
        if again < lock_end:  # no submission once the period has locked
            events += [["submit", submitted], ["return", back, reason]]
            submitted = again
    events.append(["submit", submitted])

    plan = ReportPlan(Status.SUBMITTED, nil, lines, created)
    if bucket == "returned":
        back = _between(submitted, horizon, rng)
        reason = _return_reason(rng, len(lines))
        events.append(["return", back, reason])
        plan.status, plan.return_reason = Status.RETURNED, reason
    elif bucket == "reviewed":
        approved = _between(submitted, horizon, rng, skew=1.5)
        events.append(["approve", approved])
        if ent.two_level and rng.random() < 0.6:
            plan.status = Status.APPROVED
        else:
            plan.status = Status.ACCEPTED
            if ent.two_level:
                events.append(["accept", _between(approved, horizon, rng)])
    elif bucket == "old":
        approved = _after(submitted, rng, 0.1, 6)
        events.append(["approve", approved])
        if ent.two_level:
            events.append(["accept", _after(approved, rng, 0.1, 5)])
        plan.status = Status.ACCEPTED
    if plan.status == Status.ACCEPTED and locked:  # the daily lock job has run since
        lock_moment = max(dt.datetime(lock.year, lock.month, lock.day, 2, 0, tzinfo=tz) + dt.timedelta(days=1),
                          events[-1][1] + dt.timedelta(hours=1))
        events.append(["lock", lock_moment])
        plan.status = Status.LOCKED

    _fit_before(events, as_of - dt.timedelta(minutes=1))
    times = {e[0]: e[1] for e in events}  # the last of each action wins
    plan.created = times["create"]
    plan.submitted_at = times.get("submit")
    plan.approved_at = times.get("approve")
    plan.accepted_at = times.get("accept")
    if plan.status in (Status.ACCEPTED, Status.LOCKED) and not ent.two_level:
        plan.accepted_at = plan.approved_at  # single-level: the approval is the acceptance
    plan.history = [[e[0], e[1].isoformat(), *e[2:]] for e in events]
    return plan


def period_end_date(period: Period) -> dt.date:
    nxt = period.shift(1)
    return dt.date(nxt.year, nxt.month, 1)


def _fit_before(events: list[list], limit: dt.datetime) -> None:
    """Compress the events (in order) so that none lies after `limit`."""
    start, last = events[0][1], events[-1][1]
    if last <= limit:
        return
    if start >= limit:
        start = limit - dt.timedelta(hours=1)
    span, room = (last - start).total_seconds(), (limit - start).total_seconds()
    for e in events:
        e[1] = start + dt.timedelta(seconds=int(max((e[1] - start).total_seconds(), 0) * room / span))


def _return_reason(rng: random.Random, n_lines: int) -> str:
    return rng.choice(RETURN_REASONS).format(n=rng.randint(1, max(n_lines, 1)))


# --------------------------------------------------------------------------------------------------------------
# Annual forms: basic registration, inward and outward FATS
# --------------------------------------------------------------------------------------------------------------

TEN_THOUSAND = Decimal(10_000)


def annual_years(period_list: Sequence[Period]) -> list[int]:
    """The completed years that get annual forms: those whose December is among the generated months."""
    return sorted({p.year for p in period_list if p.month == 12})


def _money(value: float | Decimal) -> Decimal:
    """CNY 10k with two decimals (half up); floats go through their shortest repr, so results are exact."""
    if not isinstance(value, Decimal):
        value = Decimal(repr(float(value)))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class YearTrade:
    """One enterprise's services trade in the reported months of one year, CNY 10k (unrounded)."""

    exports: Decimal = Decimal(0)
    imports: Decimal = Decimal(0)
    exports_by_component: dict[str, Decimal] = field(default_factory=dict)
    months: set[int] = field(default_factory=set)

    def add_month(self, month: int, lines: Sequence[tuple], usd_values: Sequence[Decimal],
                  cny_per_usd: Decimal) -> None:
        """A reported month (a nil return too): `lines` as in `ReportPlan.lines`, with their USD values."""
        x, m = Decimal(0), Decimal(0)
        components: dict[str, Decimal] = {}
        for line, usd in zip(lines, usd_values, strict=True):
            if line[0] == "X":
                x += usd
                components[line[1][:2]] = components.get(line[1][:2], Decimal(0)) + usd
            else:
                m += usd
        k = cny_per_usd / TEN_THOUSAND
        self.exports += x * k
        self.imports += m * k
        for code, usd in components.items():
            self.exports_by_component[code] = self.exports_by_component.get(code, Decimal(0)) + usd * k
        self.months.add(month)


def _month_weight(ent: EnterprisePlan, year: int, month: int) -> float:
    """Expected size of a month relative to the enterprise's base, as in `plan_lines` (season and trend)."""
    return SEASON[month] * max(1 + ent.growth, 0.05) ** (((year - 2024) * 12 + month - 1) / 12)


def full_year_trade(ent: EnterprisePlan, year: int,
                    trade: YearTrade | None) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    """Services exports, imports and exports by EBOPS component for the whole year (CNY 10k, unrounded): the
    reported months scaled up by the expected size of the months not reported (outside the generated window, or
    not filed), so never less than what the monthly reports show. Without any reported month: the profile."""
    weights = [_month_weight(ent, year, m) for m in range(1, 13)]
    if trade is not None and trade.months:
        factor = Decimal(repr(sum(weights) / sum(weights[m - 1] for m in trade.months)))
        return (trade.exports * factor, trade.imports * factor,
                {c: v * factor for c, v in sorted(trade.exports_by_component.items())})
    total = sum(f.weight for f in ent.flows) or 1.0
    shares: dict[str, float] = {}
    for f in ent.flows:
        if f.direction == "X":
            shares[f.service[:2]] = shares.get(f.service[:2], 0.0) + f.weight / total
    k = Decimal(repr(ent.base_usd * sum(weights))) * synthetic_rate("USD", year, 6) / TEN_THOUSAND
    x_share = sum(shares.values())
    return (k * Decimal(repr(x_share)), k * Decimal(repr(max(1 - x_share, 0.0))),
            {c: k * Decimal(repr(s)) for c, s in sorted(shares.items())})


@dataclass(frozen=True)
class AffiliatePlan:
    """An overseas affiliate of a domestic enterprise (outward FATS)."""

    name: str
    host: str
    activity: str
    since: int
    share: float  # turnover as a share of the parent's turnover, once established
    ownership: Decimal
    asset_ratio: float
    margin: float


@dataclass(frozen=True)
class AnnualProfile:
    """An enterprise's persistent economics behind its annual forms."""

    export_intensity: float  # share of services sales sold abroad
    trade_to_sales: float  # services sales relative to exports + imports (for import-heavy enterprises)
    services_share: float  # services sales / turnover
    productivity: float  # turnover per employee
    wage: float  # compensation per employee in 2024
    labour_share: float  # compensation / value added
    rd_intensity: float
    asset_ratio: float
    registered_capital: Decimal
    foreign_share: Decimal | None
    parent: str  # ultimate parent country (inward FATS), "" for domestic enterprises
    affiliates: tuple[AffiliatePlan, ...] = ()  # overseas affiliates (outward FATS)


def _round_capital(value: float) -> Decimal:
    """Registered capital is a round number of CNY 10k."""
    value = max(value, 10.0)
    for step in (10_000, 1_000, 100, 10):
        if value >= step * 5:
            return Decimal(round(value / step) * step).quantize(CENT)
    return Decimal(round(value)).quantize(CENT)


def _ultimate_parent(ent: EnterprisePlan) -> str:
    """The country of the foreign parent: the planned one when the enterprise trades with it as a related party
    (or has no related-party trade), else its largest related-party partner of the right kind."""
    if ent.registration_type == "domestic":
        return ""
    kind = HMT_PARENTS if ent.registration_type == "hmt" else FOREIGN_PARENTS
    related: dict[str, float] = {}
    for f in ent.flows:
        if f.related_party:
            related[f.partner] = related.get(f.partner, 0.0) + f.weight
    if ent.affiliate and (ent.affiliate in related or not related):
        return ent.affiliate
    candidates = sorted((-w, c) for c, w in related.items() if c in kind)
    if candidates:
        return candidates[0][1]
    return ent.affiliate or next(iter(kind))


def files_fats_out(ent: EnterprisePlan) -> bool:
    """Larger domestic enterprises with an affiliate abroad (the partner of their related-party trade)."""
    return ent.is_key_contact and ent.registration_type == "domestic" and bool(ent.affiliate) \
        and ent.base_usd >= 50_000


def _plan_affiliates(ent: EnterprisePlan, rng: random.Random) -> tuple[AffiliatePlan, ...]:
    if ent.base_usd < 300_000:
        extra = 0
    elif ent.base_usd < 1_500_000:
        extra = rng.randint(0, 1)
    elif ent.base_usd < 6_000_000:
        extra = rng.randint(1, 3)
    else:
        extra = rng.randint(2, 5)
    traded = {f.partner for f in ent.flows}
    weights = {c: w * (3 if c in traded else 1) for c, w in OUTWARD_HOSTS.items() if c != ent.affiliate}
    hosts = [ent.affiliate] + _sample(rng, weights, extra)
    out = []
    for i, host in enumerate(hosts):
        place = HOST_NAMES_ZH.get(host, host)
        if host in HOLDING_HOSTS:
            name, activity, ownership = f"{ent.trade_name}控股（{place}）有限公司", "72", Decimal(100)
            share, asset_ratio = rng.uniform(0.002, 0.02), rng.uniform(8, 40)
        else:
            name = f"{ent.trade_name}{ent.industry_word}（{place}）有限公司"
            activity = rng.choices([ent.industry_code, "72", "51"], weights=[75, 15, 10])[0]
            ownership = Decimal(_pick(rng, OWNERSHIP_SHARES))
            share = rng.uniform(0.08, 0.5) if i == 0 else rng.uniform(0.02, 0.25)
            asset_ratio = rng.uniform(0.5, 2.0)
        since = rng.randint(2008, 2017) if i == 0 else rng.randint(2010, 2026)
        out.append(AffiliatePlan(name, host, activity, since, share, ownership.quantize(CENT), asset_ratio,
                                 rng.gauss(0.06, 0.06)))
    return tuple(out)


def annual_profile(ent: EnterprisePlan, seed: int) -> AnnualProfile:
    """Pure and deterministic: the same for every year, so that the forms of successive years agree."""
    rng = _rng(seed, "annual-profile", ent.index)
    turnover_per_head, wage, rd, assets = ANNUAL_ECONOMICS.get(ent.archetype, (90, 18, 0.02, 1.0))
    export_share = ARCHETYPES[ent.archetype].export_share if ent.archetype in ARCHETYPES else 0.5
    if ent.registration_type == "domestic":
        roll = rng.random()
        foreign_share = None if roll < 0.7 else Decimal(0) if roll < 0.9 else Decimal(rng.choice([5, 10, 15, 20, 30]))
    else:
        foreign_share = Decimal(100) if rng.random() < 0.6 else Decimal(rng.choice([51, 55, 60, 65, 70, 75, 80, 90]))
    annual_trade = ent.base_usd * 12 * 7 / 10_000
    return AnnualProfile(
        export_intensity=min(max(export_share * rng.uniform(0.35, 1.1), 0.08), 0.85),
        trade_to_sales=rng.uniform(0.6, 1.4),
        services_share=1.0 if rng.random() < 0.35 else rng.uniform(0.82, 0.99),
        productivity=turnover_per_head * _lognormal(rng, 0.35),
        wage=wage * _lognormal(rng, 0.2),
        labour_share=rng.uniform(0.45, 0.85),
        rd_intensity=0.0 if rd < 0.02 and rng.random() < 0.4 else rd * _lognormal(rng, 0.4),
        asset_ratio=assets * _lognormal(rng, 0.35),
        registered_capital=_round_capital(annual_trade * rng.uniform(0.05, 0.5)),
        foreign_share=None if foreign_share is None else foreign_share.quantize(CENT),
        parent=_ultimate_parent(ent),
        affiliates=_plan_affiliates(ent, rng) if files_fats_out(ent) else (),
    )


@dataclass(frozen=True)
class AnnualScale:
    """One enterprise's size in one year (CNY 10k), shared by its basic registration and inward FATS."""

    services_sales: Decimal
    turnover: Decimal
    employment: int
    exports: Decimal  # services exports (full year, unrounded)
    imports: Decimal
    exports_by_component: dict[str, Decimal]


def annual_scale(ent: EnterprisePlan, year: int, profile: AnnualProfile, trade: YearTrade | None,
                 seed: int) -> AnnualScale:
    """Services sales cover the year's services exports (sold abroad with `export_intensity`, never less than the
    exports / 0.85); turnover adds a little non-service revenue; employment follows turnover per head."""
    x, m, components = full_year_trade(ent, year, trade)
    rng = _rng(seed, "annual-scale", ent.index, year)
    xf, mf = float(x), float(m)
    sales = max(xf / profile.export_intensity, (xf + mf) * profile.trade_to_sales) * _lognormal(rng, 0.06)
    sales = max(sales, xf / 0.85, 20.0)
    turnover = _money(sales / profile.services_share)  # ≥ services sales: quantize is monotonic
    employment = max(3, round(float(turnover) / profile.productivity * _lognormal(rng, 0.05)))
    return AnnualScale(_money(sales), turnover, employment, x, m, components)


def plan_basic(ent: EnterprisePlan, profile: AnnualProfile, scale: AnnualScale,
               service_names: Mapping[str, str] | None = None) -> dict:
    """The basic registration content, in the shape of `reporting.annual.basic_content` (codes, not objects)."""
    weights: dict[str, float] = {}
    for f in ent.flows:
        weights[f.service] = weights.get(f.service, 0.0) + f.weight
    main = [code for _w, code in sorted(((-w, c) for c, w in weights.items()))[:3]]
    names = service_names or {}
    return {
        "name": ent.name, "industry": ent.industry_code, "registration_type": ent.registration_type,
        "foreign_share": profile.foreign_share, "employees": scale.employment,
        "registered_capital": profile.registered_capital,
        "main_services": "、".join(names.get(code, code) for code in main),
        "contact_name": ent.contact_name, "contact_phone": ent.contact_phone, "contact_email": ent.contact_email,
    }


def plan_fats_in(ent: EnterprisePlan, year: int, profile: AnnualProfile, scale: AnnualScale, seed: int) -> dict:
    """Inward FATS content, in the shape of `reporting.annual.fats_in_content`: the components of services sales
    are the year's exports by component plus domestic sales spread like the enterprise's trade; they add up to
    `services_sales` exactly."""
    rng = _rng(seed, "fats_in", ent.index, year)
    turnover, sales = scale.turnover, scale.services_sales
    t = float(turnover)
    compensation = min(scale.employment * profile.wage * (1 + WAGE_GROWTH) ** (year - 2024) * _lognormal(rng, 0.05),
                       t * 0.7)
    if rng.random() < 0.05:  # a loss-making year: value added barely covers compensation
        value_added = compensation * rng.uniform(0.85, 0.98)
    else:
        value_added = min(compensation / min(max(profile.labour_share + rng.gauss(0, 0.04), 0.35), 0.95), t * 0.95)

    domestic = sales - sum(scale.exports_by_component.values(), Decimal(0))
    spread: dict[str, float] = {}
    for f in ent.flows:
        spread[f.service[:2]] = spread.get(f.service[:2], 0.0) + f.weight
    total = sum(spread.values()) or 1.0
    raw = {c: scale.exports_by_component.get(c, Decimal(0)) + domestic * Decimal(repr(spread.get(c, 0.0) / total))
           for c in sorted(set(spread) | set(scale.exports_by_component))}
    components = {c: _money(v) for c, v in raw.items()}
    largest = max(sorted(components), key=lambda c: components[c])
    components[largest] += sales - sum(components.values(), Decimal(0))  # rounding: add up exactly
    components = {c: v for c, v in components.items() if v > 0}

    return {
        "ultimate_parent_country": profile.parent, "activity": ent.industry_code,
        "turnover": turnover, "services_sales": sales, "employment": scale.employment,
        "compensation": _money(compensation), "value_added": _money(value_added),
        "exports": _money(min(float(scale.exports) * rng.uniform(1.0, 1.05), t)),
        "imports": _money(float(scale.imports) * rng.uniform(1.0, 1.12)),
        "total_assets": _money(t * profile.asset_ratio * _lognormal(rng, 0.08)),
        "rd_expenditure": _money(min(t * profile.rd_intensity * _lognormal(rng, 0.2), t * 0.4)),
        "services_sales_by_component": components,
    }


def plan_fats_out(ent: EnterprisePlan, year: int, profile: AnnualProfile, scale: AnnualScale,
                  seed: int) -> list[dict]:
    """Outward FATS content (the affiliates established by `year`), in the shape of
    `reporting.annual.fats_out_content`. Affiliates ramp up over their first years and often lose money then."""
    rng = _rng(seed, "fats_out", ent.index, year)
    parent = float(scale.turnover)
    rows = []
    for a in profile.affiliates:
        if a.since > year:
            continue
        age = year - a.since
        turnover = parent * a.share * min(1.0, 0.3 + 0.25 * age) * _lognormal(rng, 0.15)
        if a.host in HOLDING_HOSTS:
            employment = rng.choice([0, 0, 1, 2, 3])
            assets = parent * a.share * a.asset_ratio * _lognormal(rng, 0.05)
            profit = turnover * rng.uniform(-0.2, 0.8)
        else:
            turnover = max(turnover, rng.uniform(5, 40))
            per_head = HOST_PRODUCTIVITY.get(a.host, 150) * _lognormal(rng, 0.1)
            employment = max(1, round(turnover / per_head))
            assets = turnover * a.asset_ratio * _lognormal(rng, 0.1)
            margin = a.margin + rng.gauss(0, 0.04) - (0.12 if age <= 1 else 0.0)
            profit = turnover * min(max(margin, -0.5), 0.35)
        rows.append({"name": a.name, "host_country": a.host, "activity": a.activity, "turnover": _money(turnover),
                     "employment": employment, "total_assets": _money(assets), "net_profit": _money(profit),
                     "ownership_share": a.ownership})
    return rows


def plan_annual_report(ent: EnterprisePlan, form, year: int, *, seed: int, as_of: dt.datetime,
                       tz=CHINA_TZ) -> ReportPlan | None:
    """The history of one enterprise's annual form for `year` as of `as_of`, or None when it has not started it
    (or never filed). Pure. The forms open on 2 January; most enterprises file before the deadline, some late
    (always before the lock); reviews follow within days, acceptance by the province for two-level regions, and
    accepted reports lock with the period. A few never file, a few leave a draft, a few are never reviewed."""
    if not ent.is_key_contact or year < ent.first_period.year:
        return None
    rng = _rng(seed, "annual", form.code, ent.index, year)
    period = Period(year, 0)
    due, lock = due_date(form, period), lock_date(form, period)
    opens = dt.datetime(year + 1, 1, 2, 8, 30, tzinfo=tz)
    lock_end = dt.datetime(lock.year, lock.month, lock.day, 23, 0, tzinfo=tz)
    horizon = as_of - dt.timedelta(minutes=5)
    if horizon <= opens:
        return None
    abandoned = False
    if rng.random() < min(0.01 + ent.p_missing * 0.6, 0.2):
        if rng.random() >= 0.35:
            return None
        abandoned = True
    if rng.random() < ent.p_late:
        submitted = _moment(due + dt.timedelta(days=rng.randint(1, max(form.lock_after_days - 2, 1))), rng, tz)
    else:
        window = (due - opens.date()).days
        submitted = _moment(opens.date() + dt.timedelta(days=round(window * rng.random() ** 0.6)), rng, tz)
    created = max(opens, submitted - dt.timedelta(minutes=rng.randint(60, 21 * 24 * 60)))
    if created > horizon:
        return None  # not started yet
    if abandoned or submitted > horizon:
        return ReportPlan(Status.DRAFT, False, [], created, history=[["create", created.isoformat()]])

    events: list[list] = [["create", created]]
    reason = ""
    if rng.random() < ent.p_returned * 1.5:  # returned once, corrected and resubmitted
        back = _after(submitted, rng, 0.5, 8)
        again = _after(back, rng, 0.2, 6)
        if again < lock_end:
            reason = rng.choice(ANNUAL_RETURN_REASONS.get(form.code, RETURN_REASONS[:1])).format(n=1)
            events += [["submit", submitted], ["return", back, reason]]
            submitted = again
    events.append(["submit", submitted])
    if rng.random() >= 0.05:  # a few are never reviewed
        approved = _after(submitted, rng, 0.2, 12)
        events.append(["approve", approved])
        if ent.two_level:
            events.append(["accept", _after(approved, rng, 0.2, 8)])
    events = [e for e in events if e[1] <= horizon]  # what has happened by now

    last = events[-1][0]
    status = {"create": Status.DRAFT, "submit": Status.SUBMITTED, "return": Status.RETURNED,
              "approve": Status.APPROVED if ent.two_level else Status.ACCEPTED, "accept": Status.ACCEPTED}[last]
    if status == Status.ACCEPTED and as_of.date() > lock:  # the daily lock job has run since
        events.append(["lock", max(dt.datetime(lock.year, lock.month, lock.day, 2, 0, tzinfo=tz)
                                   + dt.timedelta(days=1), events[-1][1] + dt.timedelta(hours=1))])
        status = Status.LOCKED
    _fit_before(events, as_of - dt.timedelta(minutes=1))
    times = {e[0]: e[1] for e in events}
    plan = ReportPlan(status, False, [], times["create"], submitted_at=times.get("submit"),
                      approved_at=times.get("approve"), accepted_at=times.get("accept"),
                      return_reason=reason if status == Status.RETURNED else "",
                      history=[[e[0], e[1].isoformat(), *e[2:]] for e in events])
    if status in (Status.ACCEPTED, Status.LOCKED) and not ent.two_level:
        plan.accepted_at = plan.approved_at  # single-level: the approval is the acceptance
    return plan


# --------------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------------


def _as_of():
    """The generator's "now": the current time, or the end of the working day when `periods.today` is pinned."""
    from django.utils import timezone

    from tradepilot.reporting import periods

    today = periods.today()
    if today == timezone.localdate():
        return timezone.now()
    tz = timezone.get_default_timezone()
    return dt.datetime(today.year, today.month, today.day, 18, 0, tzinfo=tz)


def ensure_rates(period_list: Sequence[Period], source: str = "synthetic (demo data)") -> int:
    """Create the synthetic central parities missing for these months; existing rates are left alone."""
    from tradepilot.core.models import Currency
    from tradepilot.reporting.models import ExchangeRate

    currencies = dict(Currency.objects.filter(code__in=RATE_CURRENCIES).values_list("code", "pk"))
    years = {p.year for p in period_list}
    existing = set(
        ExchangeRate.objects.filter(year__in=years, currency_id__in=currencies.values())
        .values_list("currency__code", "year", "month")
    )
    new = [
        ExchangeRate(currency_id=currencies[code], year=p.year, month=p.month,
                     cny_per_unit=synthetic_rate(code, p.year, p.month), source=source)
        for p in sorted(set(period_list)) for code in RATE_CURRENCIES
        if code in currencies and (code, p.year, p.month) not in existing
    ]
    ExchangeRate.objects.bulk_create(new, batch_size=500)
    return len(new)


EXPLANATIONS_UP = [
    "本月新签大额服务合同，收入集中确认。",
    "年末集中结算，金额较以往月份偏高。",
    "新增海外客户，业务规模扩大。",
    "上月部分业务延期至本月结算。",
    "境外关联方集中支付年度技术服务费。",
]
EXPLANATIONS_DOWN = [
    "受春节假期影响，本月业务量下降。",
    "主要合同已于上月执行完毕，新合同尚未开始结算。",
    "部分款项延期至下月结算。",
    "境外客户预算调整，本月订单减少。",
]


class PlanEvaluator(Evaluator):
    """`validation.Evaluator` over planned totals instead of the database, so that the generated reports carry
    the explanations the real validation would have demanded before submission. Other months count as reported
    when their (final) status is one of `validation.REPORTED`, as in the real evaluator."""

    def __init__(self, period: Period, current: Totals, known: Mapping[Period, Totals]):
        self.report = None
        self.period = period
        self._current = current
        self._known = known
        self._cache = {}

    def totals(self, period: Period) -> Totals | None:
        return self._current if period == self.period else self._known.get(period)

    def history(self, text: str, months: int = HISTORY_MONTHS) -> list[tuple[Period, Decimal]]:
        out = []
        for p in (self.period.shift(-i) for i in range(1, months + 1)):
            if self._known.get(p) is not None:
                try:
                    out.append((p, self.evaluate(text, p)))
                except Missing:
                    pass
        return out


def _explain(rules, evaluator, rng: random.Random, problems: Counter) -> dict[str, str]:
    """Explanations for the warnings the report raises (as the filer had to give them to submit)."""
    explanations = {}
    for rule in rules:
        try:
            result = evaluate_rule(rule, evaluator)
        except (ExpressionError, Missing):
            continue
        if result is None:
            continue
        if rule.importance != "warning":
            problems[rule.code] += 1
            continue
        down = False
        try:
            down = Decimal(str(result.left).replace(",", "")) < Decimal(str(result.right).replace(",", ""))
        except (ArithmeticError, ValueError):
            pass
        explanations[rule.code] = rng.choice(EXPLANATIONS_DOWN if down else EXPLANATIONS_UP)
    return explanations


LINE_FIELDS = ["report", "line_no", "direction", "service", "partner", "mode", "related_party", "amount", "currency",
               "usd_amount", "note"]


def insert_rows(model, fields: Sequence[str], rows: Sequence[tuple], batch_size: int = 5000) -> None:
    """Plain multi-row INSERT (executemany) of already-prepared values, for the hundreds of thousands of report
    lines: `bulk_create` spends most of its time compiling SQL and preparing each value through the field (and
    SQLite allows it only ~90 rows of 11 columns per statement). Values must be what the database adapter
    accepts directly: ids for foreign keys, Decimal, bool, str. No signals, no defaults."""
    from django.db import connections, router

    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(sql, rows[start:start + batch_size])


ANNUAL_FORMS = ("basic", "fats_in", "fats_out")


def write_annual(plans: Sequence[EnterprisePlan], years: Sequence[int], year_trade: Mapping[tuple[int, int], YearTrade],
                 *, seed: int, as_of: dt.datetime, tz, ent_ids: Mapping[str, int], bureaus: Mapping[str, int],
                 say=None) -> Counter:
    """Write the annual forms of `years` for the key-contact enterprises: a basic registration each, inward FATS
    for the foreign- and HMT-invested (controlled from outside the mainland), outward FATS for the domestic ones
    with affiliates abroad. `year_trade` holds their reported monthly trade by (enterprise index, year). Forms that
    are not set up (or inactive) are left out. Returns counts."""
    from tradepilot.core.models import AuditLog, Country, Industry, ServiceCategory
    from tradepilot.reporting.models import (
        BasicRegistration,
        FatsInward,
        FatsInwardServiceSales,
        FatsOutwardAffiliate,
        Report,
        ReportForm,
    )

    counts: Counter = Counter()
    forms = {f.code: f for f in ReportForm.objects.filter(code__in=ANNUAL_FORMS, is_active=True)}
    if not forms or not years:
        return counts
    industry_ids = dict(Industry.objects.values_list("code", "pk"))
    country_ids = dict(Country.objects.values_list("alpha2", "pk"))
    components = dict(ServiceCategory.objects.filter(level=1).values_list("code", "pk"))
    service_names = dict(ServiceCategory.objects.values_list("code", "name_zh"))
    filers = [p for p in plans if p.is_key_contact and p.flows]
    profiles = {p.index: annual_profile(p, seed) for p in filers}

    for year in years:
        planned: list[tuple[EnterprisePlan, object, ReportPlan, object]] = []
        for ent in filers:
            if year < ent.first_period.year:
                continue
            profile = profiles[ent.index]
            activity = industry_ids.get(ent.industry_code)
            scale = annual_scale(ent, year, profile, year_trade.get((ent.index, year)), seed)
            for code in ANNUAL_FORMS:
                form = forms.get(code)
                if form is None:
                    continue
                if code == "basic":
                    content = plan_basic(ent, profile, scale, service_names)
                elif code == "fats_in":
                    if ent.registration_type == "domestic" or activity is None:
                        continue
                    content = plan_fats_in(ent, year, profile, scale, seed)
                else:
                    content = plan_fats_out(ent, year, profile, scale, seed)
                    if not content:
                        continue
                rp = plan_annual_report(ent, form, year, seed=seed, as_of=as_of, tz=tz)
                if rp is None:
                    continue
                if rp.status == Status.DRAFT and _rng(seed, "annual-draft", code, ent.index, year).random() < 0.3:
                    content = None  # opened, nothing entered yet
                planned.append((ent, form, rp, content))

        reports = []
        for ent, form, rp, _content in planned:
            approver = bureaus.get(ent.approval_region_code)
            acceptor = bureaus.get(ent.province_code) if ent.two_level else approver
            reports.append(Report(
                enterprise_id=ent_ids[ent.uscc], form_id=form.pk, year=year, month=0, status=rp.status,
                nil_return=False, created=rp.created, submitted_at=rp.submitted_at, approved_at=rp.approved_at,
                accepted_at=rp.accepted_at, approved_by_id=approver if rp.approved_at else None,
                accepted_by_id=acceptor if rp.accepted_at else None, return_reason=rp.return_reason,
            ))
        Report.objects.bulk_create(reports, batch_size=500)
        if any(r.pk is None for r in reports):  # backends that do not return ids
            ids = {(e, f): pk for e, f, pk in Report.objects.filter(year=year, month=0, is_current=True)
                   .values_list("enterprise_id", "form_id", "pk")}
            for r in reports:
                r.pk = r.id = ids[(r.enterprise_id, r.form_id)]

        basics, fats, fats_components, affiliates = [], [], [], []
        for (_ent, form, _rp, content), report in zip(planned, reports, strict=True):
            if content is None:
                continue
            if form.code == "basic":
                basics.append(BasicRegistration(
                    report_id=report.pk, name=content["name"], industry_id=industry_ids.get(content["industry"]),
                    registration_type=content["registration_type"], foreign_share=content["foreign_share"],
                    employees=content["employees"], registered_capital=content["registered_capital"],
                    main_services=content["main_services"][:300], contact_name=content["contact_name"],
                    contact_phone=content["contact_phone"], contact_email=content["contact_email"],
                ))
            elif form.code == "fats_in":
                fats.append(FatsInward(
                    report_id=report.pk, ultimate_parent_country_id=country_ids[content["ultimate_parent_country"]],
                    activity_id=industry_ids[content["activity"]], employment=content["employment"],
                    **{k: content[k] for k in ("turnover", "services_sales", "compensation", "value_added",
                                               "exports", "imports", "total_assets", "rd_expenditure")},
                ))
                fats_components.append(content["services_sales_by_component"])
            else:
                affiliates += [
                    FatsOutwardAffiliate(
                        report_id=report.pk, name=row["name"], host_country_id=country_ids[row["host_country"]],
                        activity_id=industry_ids[row["activity"]], turnover=row["turnover"],
                        employment=row["employment"], total_assets=row["total_assets"], net_profit=row["net_profit"],
                        ownership_share=row["ownership_share"],
                    )
                    for row in content
                ]
        BasicRegistration.objects.bulk_create(basics, batch_size=500)
        FatsInward.objects.bulk_create(fats, batch_size=500)
        if any(f.pk is None for f in fats):
            ids = dict(FatsInward.objects.filter(report_id__in=[f.report_id for f in fats])
                       .values_list("report_id", "pk"))
            for f in fats:
                f.pk = f.id = ids[f.report_id]
        FatsInwardServiceSales.objects.bulk_create([
            FatsInwardServiceSales(fats_id=f.pk, service_id=components[code], amount=amount)
            for f, by_component in zip(fats, fats_components, strict=True)
            for code, amount in by_component.items()
        ], batch_size=500)
        FatsOutwardAffiliate.objects.bulk_create(affiliates, batch_size=500)

        AuditLog.objects.bulk_create([
            AuditLog(
                timestamp=rp.last_event, actor=None, action="seed", object_type="reporting.report",
                object_id=str(report.pk), object_repr=f"{ent.name} {year} v1"[:300],
                enterprise_id=report.enterprise_id, report_id=report.pk,
                changes={"status": [None, rp.status], "history": rp.history, "form": form.code,
                         "content": content is not None},
                reason=f"Synthetic demo data (seed {seed})",
            )
            for (ent, form, rp, content), report in zip(planned, reports, strict=True)
        ], batch_size=500)
        by_form = Counter(form.code for _e, form, _rp, _c in planned)
        counts["annual_reports"] += len(reports)
        counts["basic_registrations"] += len(basics)
        counts["fats_inward"] += len(fats)
        counts["fats_outward"] += by_form["fats_out"]
        counts["fats_outward_affiliates"] += len(affiliates)
        if say is not None:
            say(f"{year} annual: {by_form['basic']} basic registrations, {by_form['fats_in']} inward FATS, "
                f"{by_form['fats_out']} outward FATS ({len(affiliates)} affiliates)")
    return counts


def region_infos() -> dict[str, RegionInfo]:
    from tradepilot.core.models import Region

    return {
        code: RegionInfo(code, zh, en, level, parent or "")
        for code, zh, en, level, parent in Region.objects.values_list(
            "code", "name_zh", "name_en", "level", "parent__code"
        )
    }


def pilot_area_codes() -> list[str]:
    """Region codes of the first pilot round's areas, in the order of the approving document."""
    from tradepilot.core.models import PilotArea, PilotRound

    first = PilotRound.objects.order_by("start_date", "code").first()
    if first is None:
        return []
    return list(PilotArea.objects.filter(round=first).order_by("order").values_list("region__code", flat=True))


def generate(enterprises: int, months: int, seed: int, end_period: Period | None = None,
             stdout: TextIO | None = None) -> dict:
    """Create `enterprises` enterprises and `months` months of monthly reports ending at `end_period` (default:
    the latest closed month), with the exchange rates they need, and the annual forms of the completed years in
    that window (`annual_years`). Returns counts (`reports` counts the monthly ones, `annual_reports` the annual
    ones, `audit_entries` both). Needs the reference data and the report forms (`core.reference.load_all`,
    `reporting.setup.load_defaults`)."""
    from django.db import transaction
    from django.utils import timezone

    from tradepilot.core.models import (
        AuditLog,
        Country,
        Currency,
        Industry,
        Profile,
        Region,
        Role,
        ServiceCategory,
        SupplyMode,
    )
    from tradepilot.enterprises.models import Enterprise
    from tradepilot.reporting import periods
    from tradepilot.reporting.models import MonthlyLine, Report, ReportForm, ValidationRule
    from tradepilot.reporting.rates import RateTable, convert
    from tradepilot.reporting.services import LineHasher

    if enterprises < 0 or months < 1:
        raise ValueError("enterprises must be ≥ 0 and months ≥ 1")
    latest_closed = periods.latest_closed_period()
    end = end_period or latest_closed
    if end.month == 0:
        raise ValueError("end_period must be a month")
    if end > latest_closed:
        raise ValueError(f"end_period {end} has not ended yet (latest closed month: {latest_closed})")
    form = ReportForm.objects.filter(code=ReportForm.Code.MONTHLY).first()
    if form is None:
        raise ValueError("The monthly report form is missing: run reporting.setup.load_defaults() first.")
    regions = region_infos()
    pilot_codes = pilot_area_codes()
    if not regions or not pilot_codes:
        raise ValueError("Reference data is missing: run core.reference.load_all() first.")

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text + "\n")
            if hasattr(stdout, "flush"):
                stdout.flush()

    tz = timezone.get_default_timezone()
    as_of = _as_of().astimezone(tz).replace(microsecond=0)
    period_list = [end.shift(-i) for i in range(months - 1, -1, -1)]
    plans = plan_enterprises(enterprises, seed, regions, pilot_codes)
    clash = set(Enterprise.objects.filter(uscc__in=[p.uscc for p in plans]).values_list("uscc", flat=True))
    if clash:
        raise ValueError(f"{len(clash)} generated USCCs already exist (e.g. {min(clash)}): this seed was already "
                         "loaded; use another seed or a fresh database.")

    region_ids = dict(Region.objects.values_list("code", "pk"))
    industry_ids = dict(Industry.objects.values_list("code", "pk"))
    service_ids = dict(ServiceCategory.objects.values_list("code", "pk"))
    country_ids = dict(Country.objects.values_list("alpha2", "pk"))
    mode_ids = dict(SupplyMode.objects.values_list("code", "pk"))
    currency_ids = dict(Currency.objects.values_list("code", "pk"))
    bureaus: dict[str, int] = {}
    for code, user_id in (Profile.objects.filter(role=Role.BUREAU, region__isnull=False)
                          .order_by("user_id").values_list("region__code", "user_id")):
        bureaus.setdefault(code, user_id)

    counts: Counter = Counter()
    latest_statuses: Counter = Counter()
    rules = list(ValidationRule.objects.filter(form=form, is_active=True).order_by("code"))
    history: dict[int, dict[Period, Totals]] = {p.index: {} for p in plans}
    problems: Counter = Counter()
    years = annual_years(period_list)
    year_trade: dict[tuple[int, int], YearTrade] = {}
    with transaction.atomic():
        counts["exchange_rates"] = ensure_rates(period_list)
        ent_objs = [
            Enterprise(
                uscc=p.uscc, name=p.name, name_en=p.name_en, region_id=region_ids[p.region_code],
                industry_id=industry_ids.get(p.industry_code), registration_type=p.registration_type,
                established=p.established, address=p.address, contact_name=p.contact_name,
                contact_phone=p.contact_phone, contact_email=p.contact_email, is_key_contact=p.is_key_contact,
                key_contact_year=p.key_contact_year, is_systemic=p.is_systemic, systemic_year=p.systemic_year,
                created=min(dt.datetime(p.key_contact_year or 2020, 1, 2, 9, 0, tzinfo=tz), as_of),
            )
            for p in plans
        ]
        Enterprise.objects.bulk_create(ent_objs, batch_size=500)
        ent_ids = dict(Enterprise.objects.filter(uscc__in=[p.uscc for p in plans]).values_list("uscc", "pk"))
        counts["enterprises"] = len(plans)
        counts["key_contacts"] = sum(p.is_key_contact for p in plans)
        counts["systemic"] = sum(p.is_systemic for p in plans)
        say(f"Enterprises: {counts['enterprises']} ({counts['key_contacts']} key-contact, "
            f"{counts['systemic']} systemically important)")

        reporters = [p for p in plans if p.is_key_contact]
        for period in period_list:
            is_latest = period == end
            buckets = latest_buckets(plans, seed, period) if is_latest else {}
            rates = RateTable.for_month(period.year, period.month)
            planned: list[tuple[EnterprisePlan, ReportPlan]] = []
            for ent in reporters:
                rp = plan_report(ent, period, seed=seed, as_of=as_of, latest=is_latest,
                                 bucket=buckets.get(ent.index), form=form, tz=tz)
                if rp is not None:
                    planned.append((ent, rp))
                if is_latest:
                    latest_statuses[rp.status if rp is not None else "missing"] += 1
            report_objs = []
            usd_values: list[list[Decimal]] = []
            for ent, rp in planned:
                hasher = LineHasher()
                usd = []
                for line in rp.lines:
                    hasher.add_key(line + ("",))
                    usd.append(convert(line[6], line[5], rates.rates, period.year, period.month))
                usd_values.append(usd)
                content = hasher.hexdigest(rp.nil_return) if (rp.lines or rp.nil_return) else ""
                totals = totals_from_rows((line[0], line[1], u) for line, u in zip(rp.lines, usd, strict=True))
                explanations = {}
                if rp.submitted_at is not None and not rp.nil_return:
                    explanations = _explain(rules, PlanEvaluator(period, totals, history[ent.index]),
                                            _rng(seed, "explain", ent.index, period), problems)
                if rp.status in REPORTED:
                    history[ent.index][period] = totals
                approver = bureaus.get(ent.approval_region_code)
                acceptor = bureaus.get(ent.province_code) if ent.two_level else approver
                report_objs.append(Report(
                    enterprise_id=ent_ids[ent.uscc], form_id=form.pk, year=period.year, month=period.month,
                    status=rp.status, nil_return=rp.nil_return, content_hash=content, created=rp.created,
                    submitted_at=rp.submitted_at, approved_at=rp.approved_at, accepted_at=rp.accepted_at,
                    approved_by_id=approver if rp.approved_at else None,
                    accepted_by_id=acceptor if rp.accepted_at else None,
                    return_reason=rp.return_reason, explanations=explanations,
                ))
                counts["explained_reports"] += bool(explanations)
            if period.year in years:  # for the annual forms
                cny_per_usd = rates.rates["USD"]
                for (ent, rp), usd in zip(planned, usd_values, strict=True):
                    if rp.status in REPORTED:
                        year_trade.setdefault((ent.index, period.year), YearTrade()).add_month(
                            period.month, rp.lines, usd, cny_per_usd)
            Report.objects.bulk_create(report_objs, batch_size=500)
            if any(r.pk is None for r in report_objs):  # backends that do not return ids
                ids = dict(Report.objects.filter(form=form, year=period.year, month=period.month, is_current=True)
                           .values_list("enterprise_id", "pk"))
                for r in report_objs:
                    r.pk = r.id = ids[r.enterprise_id]

            line_rows: list[tuple] = []
            for (_ent, rp), report, usd in zip(planned, report_objs, usd_values, strict=True):
                for no, ((direction, service, partner, mode, related, currency, amount), value) in enumerate(
                    zip(rp.lines, usd, strict=True), 1
                ):
                    line_rows.append((
                        report.pk, no, direction, service_ids[service], country_ids[partner], mode_ids[mode], related,
                        amount, currency_ids[currency], value, "",
                    ))
            insert_rows(MonthlyLine, LINE_FIELDS, line_rows)
            n_lines = len(line_rows)

            AuditLog.objects.bulk_create([
                AuditLog(
                    timestamp=rp.last_event, actor=None, action="seed", object_type="reporting.report",
                    object_id=str(report.pk), object_repr=f"{ent.name} {period} v1"[:300],
                    enterprise_id=report.enterprise_id, report_id=report.pk,
                    changes={"status": [None, rp.status], "history": rp.history, "lines": len(rp.lines),
                             "nil_return": rp.nil_return},
                    reason=f"Synthetic demo data (seed {seed})",
                )
                for (ent, rp), report in zip(planned, report_objs, strict=True)
            ], batch_size=500)
            counts["reports"] += len(report_objs)
            counts["lines"] += n_lines
            counts["audit_entries"] += len(report_objs)
            say(f"{period}: {len(report_objs)} reports, {n_lines} lines")

        annual = write_annual(plans, years, year_trade, seed=seed, as_of=as_of, tz=tz, ent_ids=ent_ids,
                              bureaus=bureaus, say=say)
        counts["audit_entries"] += annual["annual_reports"]

    result = {
        "enterprises": counts["enterprises"],
        "key_contacts": counts["key_contacts"],
        "systemic": counts["systemic"],
        "periods": len(period_list),
        "reports": counts["reports"],
        "lines": counts["lines"],
        "annual_reports": annual["annual_reports"],
        "basic_registrations": annual["basic_registrations"],
        "fats_inward": annual["fats_inward"],
        "fats_outward": annual["fats_outward"],
        "fats_outward_affiliates": annual["fats_outward_affiliates"],
        "exchange_rates": counts["exchange_rates"],
        "audit_entries": counts["audit_entries"],
    }
    result["explained_reports"] = counts["explained_reports"]
    if problems:
        say(f"Note: {sum(problems.values())} submitted reports fail error rules {dict(problems)}.")
    for status in ["missing", Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED, Status.ACCEPTED,
                   Status.LOCKED]:
        result[f"latest_{status}"] = latest_statuses.get(status, 0)
    return result
