"""Permission-matrix rows for the governance programme pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.

The programme is a published document (此件公开发布): its pages and API operations answer every role, signed in or
not. The task detail targets the task customs co-owns in Beijing (`ctx.gov.task_co_owned`), which is just a task
of the programme here.
"""

from __future__ import annotations

from django.urls import reverse

from tradepilot.core.tests.test_permission_matrix import O, Op

GOV = "/governance"
EVERYONE = (O, O, O, O, O, O, O, O, O)


def _task_code(c) -> str:
    return c.gov.task_co_owned.task.code


#                                         anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
WEB: dict = {
    "GET governance:programme_tasks":     EVERYONE,
    "GET governance:programme_task":      EVERYONE,
    "GET governance:programme_measures":  EVERYONE,
}

API: dict = {
    f"GET {GOV}/programme/task-areas":    EVERYONE,
    f"GET {GOV}/programme/tasks":         EVERYONE,
    f"GET {GOV}/programme/tasks/{{code}}": EVERYONE,
    f"GET {GOV}/programme/measures":      EVERYONE,
}

WEB_OPS: dict = {
    "GET governance:programme_tasks": Op(lambda c: c.web().get(reverse("governance:programme_tasks"))),
    "GET governance:programme_task": Op(
        lambda c: c.web().get(reverse("governance:programme_task", args=[_task_code(c)]))),
    "GET governance:programme_measures": Op(lambda c: c.web().get(reverse("governance:programme_measures"))),
}

API_OPS: dict = {
    f"GET {GOV}/programme/task-areas": Op(lambda c: c.api("GET", f"{GOV}/programme/task-areas")),
    f"GET {GOV}/programme/tasks": Op(lambda c: c.api("GET", f"{GOV}/programme/tasks", {"agency": "GACC"})),
    f"GET {GOV}/programme/tasks/{{code}}": Op(lambda c: c.api("GET", f"{GOV}/programme/tasks/{_task_code(c)}")),
    f"GET {GOV}/programme/measures": Op(lambda c: c.api("GET", f"{GOV}/programme/measures")),
}
