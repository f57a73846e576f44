"""``manage.py api_token EMAIL --scopes "flattr thing" [--name NAME]``: make a
personal access token and print it, alone, on the last line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from api import services


class Command(BaseCommand):
    help = "Create a personal access token for a user; prints only the token on its last line."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--scopes", default="", help='e.g. "flattr thing" or "flattr,thing"')
        parser.add_argument("--name", default="manage.py api_token")

    def handle(self, *args, email: str, scopes: str, name: str, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        try:
            _token, raw = services.personal_token_create(user=user, name=name, scopes=scopes)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages))
        self.stdout.write(raw)
