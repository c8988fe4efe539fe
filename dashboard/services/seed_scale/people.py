"""The seeded organization and its people: the owner's account and the organization made by the
product's `organization_create`, then the other people (users, memberships), their lists and
their wallets, in bulk."""

import datetime
import random
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from djmoney.money import Money

from credit.models import Account, CreditSettings
from dashboard.services.seed_scale.spec import ScaleSpec
from dashboard.services.seed_scale.timeline import Timeline
from members.models import ListMembership, MemberList
from organizations.models import Member, Organization
from organizations.roles import Role
from organizations.services import organization_create

FIRST_NAMES = (
    "Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Jules",
    "Karim", "Léa", "Manon", "Nathan", "Océane", "Paul", "Quentin", "Rose", "Sofia", "Thomas",
    "Ugo", "Valentine", "William", "Yasmine", "Zoé", "Antoine", "Camille", "Élodie", "Lucas",
    "Mathilde", "Nicolas", "Pauline", "Raphaël", "Sarah", "Théo", "Amira", "Julien", "Louise",
    "Maxime", "Nora",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
    "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
)  # fmt: skip
# Eight departments; each list belongs to one, and its members work there.
DEPARTMENTS = (
    "Sales", "Customer support", "Engineering", "Marketing", "Finance", "Operations",
    "Human resources", "Legal",
)  # fmt: skip
# In this order, the first eight lists cover the eight departments.
LISTS = (
    ("Sales France", 0), ("Support level 1", 1), ("Platform team", 2), ("Marketing", 3),
    ("Accounting", 4), ("Operations Paris", 5), ("People team", 6), ("Legal", 7),
    ("Sales Europe", 0), ("Support level 2", 1), ("Mobile team", 2), ("Events", 3),
    ("Operations Lyon", 5), ("Sales Americas", 0), ("Customer success", 1), ("Data team", 2),
    ("Field technicians", 5), ("Key accounts", 0), ("Logistics", 5), ("Recruiting", 6),
)  # fmt: skip
JOB_TITLES = {
    "Sales": ("Account executive", "Sales representative", "Sales manager"),
    "Customer support": ("Support agent", "Support engineer", "Team lead"),
    "Engineering": ("Software engineer", "Engineering manager", "Data engineer"),
    "Marketing": ("Marketing manager", "Content writer", "Event coordinator"),
    "Finance": ("Accountant", "Financial controller", "Payroll specialist"),
    "Operations": ("Operations manager", "Field technician", "Logistics coordinator"),
    "Human resources": ("HR business partner", "Recruiter", "HR assistant"),
    "Legal": ("Legal counsel", "Paralegal", "Compliance officer"),
}
# A member in every SECOND_LIST_EVERY is also in a second list.
SECOND_LIST_EVERY = 4


@dataclass
class People:
    organization: Organization
    owner: Member
    # The first finance member (the benchmark signs in as them).
    finance: Member
    # Member id -> wallet account id, every member.
    wallets: dict[int, int]
    lists: list[MemberList]


def seed_username(slug: str, number: int) -> str:
    """The seeded people's usernames: `seed-<slug>-00042` (how --replace finds them)."""
    return f"{seed_username_prefix(slug)}{number:05d}"


def seed_username_prefix(slug: str) -> str:
    return f"seed-{slug}-"


def _person(slug: str, number: int) -> tuple[str, str, str]:
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[(number // len(FIRST_NAMES) + number) % len(LAST_NAMES)]
    email = f"{seed_username(slug, number)}@{slug}.example.com"
    return first, last, email


def _role(number: int) -> str:
    if number == 0:
        return Role.OWNER
    if number == 1 or number % 150 == 75:
        return Role.FINANCE
    if number % 100 == 50:
        return Role.ADMIN
    return Role.MEMBER


def people_create(
    *, spec: ScaleSpec, timeline: Timeline, rng: random.Random, password: str
) -> People:
    """The organization, `spec.members` people (the owner first) in `spec.lists` lists, and
    a wallet for each. Everyone joined before the first month."""
    User = get_user_model()
    joined = timeline.start - datetime.timedelta(days=20)
    hashed = make_password(password) if password else make_password(None)
    first, last, email = _person(spec.slug, 0)
    owner_user = User.objects.create(
        username=seed_username(spec.slug, 0),
        email=email,
        first_name=first,
        last_name=last,
        password=hashed,
        date_joined=joined,
    )
    EmailAddress.objects.create(user=owner_user, email=email, verified=True, primary=True)
    organization = organization_create(
        user=owner_user,
        name=spec.name,
        country=spec.country,
        currency=spec.currency,
        time_zone=spec.time_zone,
    )
    # Made under the slug asked for, verified by staff (the larger purchase limits), created
    # before its first month; the currency is fixed by the first purchase (see money.py).
    Organization.objects.filter(pk=organization.pk).update(
        slug=spec.slug, verified=True, created_at=joined
    )
    organization.refresh_from_db()
    CreditSettings.objects.for_org(organization).update(billing_name=spec.name)
    owner = Member.objects.for_org(organization).get(user=owner_user)

    users = User.objects.bulk_create(
        User(
            username=seed_username(spec.slug, number),
            email=email,
            first_name=first,
            last_name=last,
            # The owner's and the first finance member's password, if one was given.
            password=hashed if number == 1 else make_password(None),
            date_joined=joined,
        )
        for number in range(1, spec.members)
        for first, last, email in [_person(spec.slug, number)]
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    list_count = spec.lists
    departments = [DEPARTMENTS[LISTS[index % len(LISTS)][1]] for index in range(list_count)]
    members = [owner]
    for number, user in enumerate(users, start=1):
        department = departments[number % list_count]
        members.append(
            Member(
                organization=organization,
                user=user,
                role=_role(number),
                status=Member.Status.ACTIVE,
                display_name=f"{user.first_name} {user.last_name}",
                email=user.email,
                username=user.username,
                department=department,
                job_title=rng.choice(JOB_TITLES[department]),
                joined_at=joined,
            )
        )
    Member.objects.for_org(organization).bulk_create(members[1:])
    owner.department = departments[0]
    owner.job_title = "Managing director"
    owner.save(update_fields=["department", "job_title"])

    lists = MemberList.objects.for_org(organization).bulk_create(
        MemberList(organization=organization, name=_list_name(index)) for index in range(list_count)
    )
    memberships = []
    for number, member in enumerate(members):
        primary = number % list_count
        memberships.append((lists[primary], member))
        if list_count > 1 and number % SECOND_LIST_EVERY == 0:
            second = (primary + 1 + number // SECOND_LIST_EVERY % (list_count - 1)) % list_count
            memberships.append((lists[second], member))
    ListMembership.objects.for_org(organization).bulk_create(
        ListMembership(organization=organization, member_list=member_list, member=member)
        for member_list, member in memberships
    )
    zero = Money(0, organization.currency)
    wallets = Account.objects.for_org(organization).bulk_create(
        Account(organization=organization, kind=Account.Kind.MEMBER, member=member, balance=zero)
        for member in members
    )
    _created_at_set(organization, joined)
    finance = next(member for member in members if member.role == Role.FINANCE)
    return People(
        organization=organization,
        owner=owner,
        finance=finance,
        wallets={wallet.member_id: wallet.pk for wallet in wallets},
        lists=lists,
    )


def _list_name(index: int) -> str:
    name = LISTS[index % len(LISTS)][0]
    return name if index < len(LISTS) else f"{name} {index // len(LISTS) + 1}"


# The rows made above carry the time they were inserted (auto_now_add): move them to when the
# organization started, like the rest of its history.
# (The audit trail cannot be updated: its two events keep the day the seed ran.)
_CREATED_AT = (
    ("organizations_member", "created_at"),
    ("members_memberlist", "created_at"),
    ("members_listmembership", "added_at"),
    ("credit_account", "created_at"),
)


def _created_at_set(organization: Organization, moment: datetime.datetime) -> None:
    with connection.cursor() as cursor:
        for table, column in _CREATED_AT:
            cursor.execute(
                # Names from the constant above, never from input.
                f"UPDATE {table} SET {column} = %s WHERE organization_id = %s",  # noqa: S608
                [moment, organization.pk],
            )
