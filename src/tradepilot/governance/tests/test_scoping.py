"""The governance scoping rules of `core.scoping` (scope_areas, get_area_scoped, can_edit_area), per role.

The permission matrix checks them through every URL and operation; this module states them on the querysets."""

import pytest
from django.http import Http404

from tradepilot.core.models import PilotArea
from tradepilot.core.scoping import can_edit_area, get_area_scoped, scope_areas
from tradepilot.governance.models import AreaMeasure, AreaTask, ProgressReport, Responsibility, TaskStatus

pytestmark = pytest.mark.django_db


def areas_of(user) -> set[str]:
    return set(scope_areas(user, PilotArea.objects.all()).values_list("region__code", flat=True))


def test_national_roles_and_agencies_read_every_area(world, programme):
    every = set(PilotArea.objects.values_list("region__code", flat=True))
    assert len(every) == 17
    for user in (world.ministry, world.auditor, world.agency):
        assert areas_of(user) == every


def test_a_bureau_reads_the_areas_in_its_subtree(world, programme):
    assert areas_of(world.bureau_bj) == {"110000"}
    assert areas_of(world.bureau_hz) == {"330100"}
    # Zhejiang's provincial bureau reads Hangzhou, Zhejiang's only pilot area of the 2018 round.
    assert areas_of(world.bureau_zj) == {"330100"}


def test_enterprises_and_anonymous_read_no_area(world, programme):
    from django.contrib.auth.models import AnonymousUser

    for user in (world.ent_bj, world.ent_hz, AnonymousUser()):
        assert areas_of(user) == set()
        assert not scope_areas(user, AreaTask.objects.all()).exists()


def test_only_the_areas_own_bureau_edits(world, programme):
    hangzhou = PilotArea.objects.get(region__code="330100")
    beijing = PilotArea.objects.get(region__code="110000")
    assert can_edit_area(world.bureau_hz, hangzhou)
    assert not can_edit_area(world.bureau_zj, hangzhou)  # reads, does not edit
    assert not can_edit_area(world.bureau_bj, hangzhou)
    assert can_edit_area(world.bureau_bj, beijing)
    for user in (world.ministry, world.auditor, world.agency, world.ent_hz):
        assert not can_edit_area(user, hangzhou)


def test_an_agency_reads_only_the_area_tasks_it_co_owns(world, programme):
    customs_tasks = set(
        Responsibility.objects.filter(agency__code="GACC").values_list("task_id", flat=True)
    ) | set(Responsibility.objects.filter(unit=Responsibility.Unit.MEMBER_UNITS).values_list("task_id", flat=True))
    seen = scope_areas(world.agency, AreaTask.objects.all())
    assert seen.exists()
    assert set(seen.values_list("task_id", flat=True)) == customs_tasks & set(
        AreaTask.objects.values_list("task_id", flat=True))
    # Each area task once, although a task may name customs on several guarantees.
    assert seen.count() == len(set(seen.values_list("pk", flat=True)))
    # Rows not bound to a task (opening measures in the areas) are read in full.
    assert scope_areas(world.agency, AreaMeasure.objects.all()).count() == AreaMeasure.objects.count()


def test_scoping_follows_the_path_to_the_area(world, programme):
    hangzhou_task = AreaTask.objects.filter(area__region__code="330100").first()
    report = ProgressReport.objects.create(area_task=hangzhou_task, year=2019, quarter=1,
                                           status_reported=TaskStatus.IN_PROGRESS, narrative="…",
                                           submitted_by=world.bureau_hz)
    assert get_area_scoped(world.bureau_zj, ProgressReport.objects.all(), pk=report.pk) == report
    with pytest.raises(Http404):
        get_area_scoped(world.bureau_bj, ProgressReport.objects.all(), pk=report.pk)
    with pytest.raises(Http404):
        get_area_scoped(world.bureau_bj, ProgressReport.objects.all(), pk="not a number")
