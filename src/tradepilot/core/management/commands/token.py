"""`tradepilot token USERNAME`: issue a new API token for a user and print it (it is shown only once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tradepilot.core.tokens import issue_token


class Command(BaseCommand):
    help = "Issue a new API token for USERNAME and print it. Only its SHA-256 is stored: copy it now."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        User = get_user_model()
        username = options["username"]
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named '{username}'.") from None
        if not user.is_active:
            raise CommandError(f"User '{username}' is inactive; an API token would not authenticate.")
        self.stdout.write(issue_token(user))
