"""Shared set-up of the opening-measure tests: reference data and the programme loaded once per module.

Import the fixtures into a test module (`from ...measures_fixtures import *`); each test still runs in its own
transaction inside the module's, so what it changes is rolled back before the next."""

from __future__ import annotations

import pytest

from tradepilot.core.models import PilotArea
from tradepilot.governance.models import AreaMeasure


@pytest.fixture(scope="module")
def loaded_programme(django_db_setup, django_db_blocker):
    from tradepilot.core.reference import load_all
    from tradepilot.governance.programme import load_programme
    from tradepilot.reporting.setup import load_defaults
    from tradepilot.testing.shared_data import module_transaction

    with module_transaction(django_db_blocker):
        load_all()
        load_defaults()
        load_programme()
        yield


@pytest.fixture
def reference(loaded_programme, db):
    """Overrides the conftest fixture (`world` depends on it): already loaded for the module."""


@pytest.fixture
def programme(reference):
    """Overrides the governance conftest fixture: already loaded for the module."""


def area(region_code: str) -> PilotArea:
    return PilotArea.objects.select_related("region", "round").get(region__code=region_code, round__code="2018")


def area_measure(region_code: str, code: str) -> AreaMeasure:
    return AreaMeasure.objects.select_related("area__region", "area__round", "measure").get(
        area__region__code=region_code, area__round__code="2018", measure__code=code)
