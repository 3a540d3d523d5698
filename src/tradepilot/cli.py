"""The `tradepilot` console script: Django's management commands with the project's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradepilot.settings")
    # `tradepilot demo` runs with demo settings (demo users, insecure key) before Django reads its settings.
    if len(argv) > 1 and argv[1] == "demo":
        os.environ.setdefault("TRADEPILOT_MODE", "demo")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
