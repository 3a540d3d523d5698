"""Production settings: `check --deploy` is clean, and a missing SECRET_KEY stops the platform."""

from __future__ import annotations

import os
import subprocess
import sys


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    # Start from the machine's environment without the test run's own settings (DJANGO_*, TRADEPILOT_*, …).
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "TRADEPILOT_")) and k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    return subprocess.run([sys.executable, "-m", "tradepilot.cli", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run({"SECRET_KEY": "k" * 20 + "-production-secret-value-0123456789abcdefXYZ",
                  "ALLOWED_HOSTS": "tradepilot.example.gov.cn", "TRADEPILOT_VAR": str(tmp_path)},
                 "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run({"TRADEPILOT_VAR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
