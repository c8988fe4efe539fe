"""factory-boy factories for people and organizations."""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from djmoney.money import Money

from organizations import extensions
from organizations.models import Member, Organization
from organizations.roles import Role
from subscriptions.models import Plan

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        if not create:
            return
        user.save()
        if user.email:
            EmailAddress.objects.create(
                user=user, email=user.email, primary=True, verified=extracted is not False
            )


class OrganizationFactory(factory.django.DjangoModelFactory):
    """An organization as organization_create makes it: other apps' rows made with it."""

    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    country = "FR"
    currency = "EUR"
    time_zone = "Europe/Paris"

    @factory.post_generation
    def created(organization, create, extracted, **kwargs):
        if create:
            extensions.organization_created(organization)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER
    status = Member.Status.ACTIVE
    display_name = factory.LazyAttribute(lambda member: member.user.get_full_name())
    email = factory.LazyAttribute(lambda member: member.user.email)
    username = factory.LazyAttribute(lambda member: member.user.username)
    joined_at = factory.LazyFunction(timezone.now)


class MemberListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.MemberList"

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"List {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending email invitation as the database holds it (its link's secret is unknown)."""

    class Meta:
        model = "members.Invitation"

    organization = factory.SubFactory(OrganizationFactory)
    channel = "email"
    address = factory.Sequence(lambda n: f"invitee{n}@example.com")
    member = factory.LazyAttribute(
        lambda invitation: MemberFactory(
            organization=invitation.organization,
            user=None,
            status=Member.Status.INVITED,
            email=invitation.address,
            display_name="",
            username="",
            joined_at=None,
        )
    )
    token_nonce = factory.Sequence(lambda n: f"{n:032x}")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=30))


class MemberImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.MemberImport"

    organization = factory.SubFactory(OrganizationFactory)
    file_name = "people.csv"


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A bank-transfer purchase waiting for payment."""

    class Meta:
        model = "credit.Purchase"

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"2026-{n + 1:05d}")
    method = "bank_transfer"
    amount = factory.LazyAttribute(lambda purchase: Money(100, purchase.organization.currency))
    reference = factory.Sequence(lambda n: f"SM-TEST{n:04d}")


class CreditRuleFactory(factory.django.DjangoModelFactory):
    """A monthly "add 10" for everyone."""

    class Meta:
        model = "credit.CreditRule"

    organization = factory.SubFactory(OrganizationFactory)
    kind = "monthly_add"
    amount = factory.LazyAttribute(lambda rule: Money(10, rule.organization.currency))


class VoicemailFactory(factory.django.DjangoModelFactory):
    """A message of 12 seconds with its audio, left for a member."""

    class Meta:
        model = "subscriptions.Voicemail"

    organization = factory.SubFactory(OrganizationFactory)
    member = factory.SubFactory(MemberFactory, organization=factory.SelfAttribute("..organization"))
    caller = "+33612345678"
    duration = 12
    recording_sid = factory.Sequence(lambda n: f"RE{n:032d}")
    recording_url = factory.LazyAttribute(
        lambda voicemail: f"https://api.twilio.com/2010-04-01/Recordings/{voicemail.recording_sid}"
    )
    audio = b"\xff\xfb\x90\x64" + b"\x00" * 100
    audio_type = "audio/mpeg"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An active "France landlines unlimited" for a new member, its month started now (no
    charge: tests that need the money assign through the service)."""

    class Meta:
        model = "subscriptions.Subscription"

    organization = factory.SubFactory(OrganizationFactory)
    member = factory.LazyAttribute(lambda row: MemberFactory(organization=row.organization))
    plan = factory.LazyFunction(lambda: Plan.objects.get(code="france-landlines-unlimited"))
    status = "active"
    period_months = 1
    anchor_day = factory.LazyFunction(lambda: timezone.now().day)
    period_start = factory.LazyFunction(timezone.now)
    period_end = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=30))


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A live API key (its plaintext unknown: tests that call the API create keys through
    usage.services.api_keys.api_key_create)."""

    class Meta:
        model = "usage.ApiKey"

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"PBX {n}")
    prefix = factory.Sequence(lambda n: f"smk_{n:08d}")
    key_hash = factory.Sequence(lambda n: f"{n:064x}")


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A finished export of this month's call records, asked by a new finance member, with its
    (header-only) file."""

    class Meta:
        model = "dashboard.ExportJob"
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    requested_by = factory.LazyAttribute(
        lambda row: MemberFactory(organization=row.organization, role=Role.FINANCE)
    )
    period_kind = "month"
    period_start = factory.LazyFunction(lambda: timezone.now().date().replace(day=1))
    status = "done"
    language = "en"
    file_name = "skypemgr-export.csv"
    finished_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def file(self, create, extracted, **kwargs):
        if not create or self.status != "done":
            return
        from dashboard.models import ExportChunk

        data = extracted if extracted is not None else "\ufeffDate,Time\r\n".encode()
        ExportChunk.objects.create(organization=self.organization, job=self, index=0, data=data)
        type(self).objects.for_org(self.organization).filter(pk=self.pk).update(
            chunks=1, file_size=len(data)
        )
        self.chunks, self.file_size = 1, len(data)
