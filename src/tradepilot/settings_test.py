"""Settings for the test suite: the normal settings in `test` mode, with fast hashing and a local mail outbox."""

import os

os.environ.setdefault("TRADEPILOT_MODE", "test")

from tradepilot.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
