import pytest
from collections import Counter
from tradepilot.analytics.anomalies import find_anomalies

pytestmark = pytest.mark.django_db


def test_explore(trade):
    for period in (202609, 202608, 202606, 202603, 202512):
        found = find_anomalies(period, region_path=None)
        print(period, len(found), Counter(a.kind for a in found), Counter(a.severity for a in found))
    for a in find_anomalies(202606, region_path=None)[:40]:
        print(a.kind, a.score, a.enterprise_name, a.value, a.baseline, a.detail, a.report_id, a.report_status)
