"""Settings for the test suite: the normal settings in `test` mode, with fast hashing and a local mail outbox."""

import os

os.environ.setdefault("TRADEPILOT_MODE", "test")

from tradepilot.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The analytics store of a test run lives in a throw-away directory (each test gets its own: conftest.py).
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ANALYTICS_ROOT = Path(tempfile.mkdtemp(prefix="tradepilot-analytics-"))
