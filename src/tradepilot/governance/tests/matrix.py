"""The governance rows of the permission matrix, gathered from each part's `matrix_<part>.py`.

`core/tests/test_permission_matrix.py` merges these into its tables; the feature modules import `Op`, `Ctx`,
the outcome letters and helpers from it (it is already initialised by the time it imports this module).
"""

from tradepilot.governance.tests import (
    matrix_evaluation,
    matrix_measures,
    matrix_programme,
    matrix_results,
    matrix_tracking,
    matrix_warning,
)

WEB: dict = {}
API: dict = {}
WEB_OPS: dict = {}
API_OPS: dict = {}
for part in (matrix_programme, matrix_tracking, matrix_measures, matrix_results, matrix_evaluation, matrix_warning):
    WEB.update(part.WEB)
    API.update(part.API)
    WEB_OPS.update(part.WEB_OPS)
    API_OPS.update(part.API_OPS)
