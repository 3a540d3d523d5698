"""Permission-matrix rows for the governance measures pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.
"""

WEB: dict = {}
API: dict = {}
WEB_OPS: dict = {}
API_OPS: dict = {}
