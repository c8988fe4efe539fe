"""Load the demo company once: `make run` calls this on every start; it adds nothing twice.

Development only: its people sign in with a published password, so it refuses to run without
DEBUG.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organizations.extensions import DEMO_LOADERS
from organizations.models import Member
from organizations.roles import Role
from organizations.scoping import tenant_scope
from organizations.services import member_add, organization_create

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (a published demo login, not a secret)
DEMO_PEOPLE = (
    ("owner@demo.example", "alice", "Alice", "Martin", Role.OWNER, "Managing director"),
    ("finance@demo.example", "bruno", "Bruno", "Lefèvre", Role.FINANCE, "Accountant"),
    ("employee@demo.example", "chloe", "Chloé", "Dubois", Role.MEMBER, "Sales representative"),
)


class Command(BaseCommand):
    help = "Create the demo organization and its people, unless they exist."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_data creates people whose password is published in the README, so it runs "
                "only with DEBUG=true (development). Nothing was created."
            )
        User = get_user_model()
        if User.objects.filter(email=DEMO_PEOPLE[0][0]).exists():
            self.stdout.write("Demo data already loaded.")
            return
        with transaction.atomic():
            users = []
            for email, username, first, last, _role, _title in DEMO_PEOPLE:
                user = User.objects.create_user(
                    username=username,
                    email=email,
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                )
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                users.append(user)
            organization = organization_create(
                user=users[0],
                name="Demo SARL",
                country="FR",
                currency="EUR",
                time_zone="Europe/Paris",
            )
            owner = Member.objects.for_org(organization).get(user=users[0])
            people = {Role.OWNER: owner}
            with tenant_scope(organization):
                for user, (_email, _username, _first, _last, role, title) in zip(
                    users[1:], DEMO_PEOPLE[1:], strict=True
                ):
                    people[role] = member_add(
                        organization=organization,
                        actor=owner,
                        user=user,
                        role=role,
                        job_title=title,
                    )
                for load in DEMO_LOADERS.values():
                    load(organization, people)
        self.stdout.write(self.style.SUCCESS(f"Demo organization created: /o/{organization.slug}/"))
