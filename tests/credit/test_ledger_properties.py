"""Properties of the ledger: whatever sequence of money operations runs, the books stay sound.

A hypothesis state machine buys credit (bank transfer), credits purchases again (a duplicated
webhook), allocates, takes back (amounts and "all"), replays forms, refunds (full, partial,
repeated refund ids), and posts usage; it keeps a model of what every balance must be and
checks, after each step, the model and the invariants `check_ledger` stands for.
"""

import itertools
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from django.db.models import Count
from djmoney.money import Money
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from credit.models import Account, Purchase, Transfer
from credit.selectors.ledger import ledger_problems
from credit.services.allocation import CompanyBalanceShort, credit_allocate, credit_take_back
from credit.services.ledger import (
    IdempotencyKeyReused,
    InsufficientFunds,
    Movement,
    member_wallet,
    system_account,
    transfers_post,
)
from credit.services.purchases import purchase_create, purchase_credit, purchase_refund
from organizations.models import AuditEvent
from skypemgr.errors import ApplicationError
from tests.factories import MemberFactory

ZERO = Decimal(0)
CENT = Decimal("0.0001")


def amounts(low: str, high: str) -> st.SearchStrategy[Decimal]:
    """Amounts with up to 4 decimal places."""
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=4)


# Refund ids from a small set, so that the same id comes back, and ids that are prefixes of
# one another ("re_1" and "re_12") are told apart.
REFUND_KEYS = st.sampled_from(["re_1", "re_12", "re_2", "re_1:company", "r"])


class Books(RuleBasedStateMachine):
    """One organization's money, driven through the services and kept beside a model."""

    organization = None
    owner = None
    admin = None
    members: list = []

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint that teardown() rolls back: a fresh ledger each time.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._keys = itertools.count()
        self.company = ZERO
        self.owed = ZERO
        self.usage = ZERO
        self.wallets = {member.pk: ZERO for member in self.members}
        # pk -> [amount, refunded, credited]
        self.purchases: dict[int, list] = {}
        self.refund_keys: set[tuple[int, str]] = set()
        self.allocations: list[tuple[str, list, Decimal]] = []
        self.take_backs: list[tuple[str, list, Decimal | None, dict[int, Decimal]]] = []
        # Each usage key, with the member and the amount it was posted for.
        self.usage_keys: dict[str, tuple] = {}
        # One audit event per allocation or take-back that moved money, none for replays.
        self.audited = {"credit.allocated": 0, "credit.taken_back": 0}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _key(self, prefix: str) -> str:
        return f"{prefix}-{next(self._keys)}"

    def _money(self, value: Decimal) -> Money:
        return Money(value, self.organization.currency)

    def _credit(self, pk: int) -> None:
        entry = self.purchases[pk]
        if entry[2]:
            return
        entry[2] = True
        self.company += entry[0]
        settle = min(self.owed, self.company)
        self.company -= settle
        self.owed -= settle

    # --- Purchases -----------------------------------------------------------------------

    @rule(amount=amounts("5", "500"), credit=st.booleans())
    def buy(self, amount, credit):
        purchase = purchase_create(
            organization=self.organization,
            actor=self.owner,
            method=Purchase.Method.BANK_TRANSFER,
            amount=amount,
        )
        self.purchases[purchase.pk] = [amount, ZERO, False]
        if credit:
            purchase_credit(purchase=purchase)
            self._credit(purchase.pk)

    @precondition(lambda self: self.purchases)
    @rule(data=st.data())
    def credit_again(self, data):
        """Platform staff confirm a bank transfer, or a webhook arrives (again)."""
        pk = data.draw(st.sampled_from(sorted(self.purchases)))
        purchase = Purchase.objects.for_org(self.organization).get(pk=pk)
        purchase_credit(purchase=purchase)
        self._credit(pk)

    @precondition(lambda self: self.purchases)
    @rule(data=st.data(), amount=amounts("0.0001", "600"), refund_key=REFUND_KEYS)
    def refund(self, data, amount, refund_key):
        pk = data.draw(st.sampled_from(sorted(self.purchases)))
        purchase = Purchase.objects.for_org(self.organization).get(pk=pk)
        purchase_refund(purchase=purchase, amount=amount, refund_key=refund_key)
        # A refund told before the payment means the payment went through: credited first.
        self._credit(pk)
        entry = self.purchases[pk]
        if (pk, refund_key) in self.refund_keys:
            return
        money = min(amount, entry[0] - entry[1])
        if money <= 0:
            return
        self.refund_keys.add((pk, refund_key))
        entry[1] += money
        from_company = min(money, self.company)
        self.company -= from_company
        self.owed += money - from_company

    # --- Allocation and take-back --------------------------------------------------------

    @rule(data=st.data(), amount=amounts("0.0001", "150"))
    def allocate(self, data, amount):
        members = data.draw(st.lists(st.sampled_from(self.members), min_size=1, unique=True))
        affordable = (self.company / len(members)).quantize(CENT, rounding=ROUND_DOWN)
        if affordable >= CENT and data.draw(st.booleans()):
            # Often what the company can afford, up to all of it.
            amount = data.draw(amounts("0.0001", str(affordable)))
        key = self._key("allocate")
        total = amount * len(members)
        if total > self.company:
            with pytest.raises(CompanyBalanceShort) as short:
                self._allocate(members, amount, key)
            assert short.value.missing == self._money(total - self.company)
            return
        self._allocate(members, amount, key)
        self.company -= total
        for member in members:
            self.wallets[member.pk] += amount
        self.allocations.append((key, members, amount))
        self.audited["credit.allocated"] += 1

    def _allocate(self, members, amount, key):
        return credit_allocate(
            organization=self.organization,
            actor=self.admin,
            members=members,
            amount=amount,
            idempotency_key=key,
        )

    @precondition(lambda self: self.allocations)
    @rule(data=st.data())
    def allocate_again(self, data):
        """A double-submitted allocation form moves money once, even when the balance ran out."""
        key, members, amount = data.draw(st.sampled_from(self.allocations))
        transfers = self._allocate(members, amount, key)
        assert sorted(t.amount.amount for t in transfers) == [amount] * len(members)

    @rule(data=st.data(), amount=st.one_of(st.none(), amounts("0.0001", "150")))
    def take_back(self, data, amount):
        members = data.draw(st.lists(st.sampled_from(self.members), min_size=1, unique=True))
        key = self._key("take-back")
        if amount is None:
            taken = {m.pk: self.wallets[m.pk] for m in members if self.wallets[m.pk] > 0}
        else:
            taken = {m.pk: amount for m in members}
        if not taken or any(self.wallets[pk] < value for pk, value in taken.items()):
            with pytest.raises(ApplicationError) as refused:
                self._take_back(members, amount, key)
            assert refused.value.code in ("empty", "member_short")
            return
        transfers = self._take_back(members, amount, key)
        assert {t.source.member_id: t.amount.amount for t in transfers} == taken
        for pk, value in taken.items():
            self.wallets[pk] -= value
            self.company += value
        self.take_backs.append((key, members, amount, taken))
        self.audited["credit.taken_back"] += 1

    def _take_back(self, members, amount, key):
        return credit_take_back(
            organization=self.organization,
            actor=self.admin,
            members=members,
            amount=amount,
            idempotency_key=key,
        )

    @precondition(lambda self: self.take_backs)
    @rule(data=st.data())
    def take_back_again(self, data):
        """A double-submitted take-back form: the first post stands, nothing else moves."""
        key, members, amount, taken = data.draw(st.sampled_from(self.take_backs))
        transfers = self._take_back(members, amount, key)
        assert {t.source.member_id: t.amount.amount for t in transfers} == taken

    # --- Usage ---------------------------------------------------------------------------

    @precondition(lambda self: any(self.wallets.values()))
    @rule(data=st.data())
    def use(self, data):
        """Usage-like postings: a member spends at most what they hold."""
        member = data.draw(st.sampled_from([m for m in self.members if self.wallets[m.pk] > 0]))
        amount = data.draw(amounts("0.0001", str(self.wallets[member.pk])))
        key = self._key("usage")
        self._use(member, amount, key)
        self.usage_keys[key] = (member, amount)
        self.wallets[member.pk] -= amount
        self.usage += amount

    @precondition(lambda self: self.usage_keys)
    @rule(data=st.data())
    def use_again(self, data):
        """Usage told twice is recorded once, even when the wallet holds less now."""
        key = data.draw(st.sampled_from(sorted(self.usage_keys)))
        member, amount = self.usage_keys[key]
        self._use(member, amount, key)

    @precondition(lambda self: self.usage_keys)
    @rule(data=st.data(), extra=amounts("0.0001", "1"))
    def use_a_key_for_another_movement(self, data, extra):
        """A key seen before, for another amount or member: refused, and nothing moves."""
        key = data.draw(st.sampled_from(sorted(self.usage_keys)))
        member, amount = self.usage_keys[key]
        other = data.draw(st.sampled_from(self.members))
        if other.pk == member.pk:
            amount = amount + extra
        with pytest.raises(IdempotencyKeyReused):
            self._use(other, amount, key)

    @rule(data=st.data(), extra=amounts("0.0001", "10"))
    def overspend(self, data, extra):
        """More than a member holds is refused, and nothing moves."""
        member = data.draw(st.sampled_from(self.members))
        with pytest.raises(InsufficientFunds) as short:
            self._use(member, self.wallets[member.pk] + extra, self._key("usage"))
        assert short.value.missing == self._money(extra)

    def _use(self, member, amount, key):
        organization = self.organization
        transfers_post(
            organization=organization,
            actor=None,
            movements=[
                Movement(
                    source=member_wallet(organization, member),
                    destination=system_account(organization, Account.Kind.USAGE),
                    amount=self._money(amount),
                    kind=Transfer.Kind.USAGE,
                    idempotency_key=key,
                )
            ],
        )

    # --- Invariants ----------------------------------------------------------------------

    @invariant()
    def books_are_sound(self):
        """check_ledger's invariants, the model, conservation, each purchase credited once."""
        organization = self.organization
        assert ledger_problems(organization) == []

        accounts = list(Account.objects.for_org(organization))
        balances = {(a.kind, a.member_id): a.balance.amount for a in accounts}
        assert all(a.balance.amount >= 0 for a in accounts if a.is_wallet)
        assert sum(balances.values(), ZERO) == 0
        company = balances.get((Account.Kind.ORGANIZATION, None), ZERO)
        receivable = balances.get((Account.Kind.RECEIVABLE, None), ZERO)
        usage = balances.get((Account.Kind.USAGE, None), ZERO)
        assert (company, receivable, usage) == (self.company, -self.owed, self.usage)
        held = {pk: balances.get((Account.Kind.MEMBER, pk), ZERO) for pk in self.wallets}
        assert held == self.wallets

        # What the company and its members hold, less what it owes, is what it paid for,
        # less what was refunded and what was used.
        purchases = Purchase.objects.for_org(organization).in_bulk(list(self.purchases))
        credited = [
            p
            for p in purchases.values()
            if p.status in (Purchase.Status.PAID, Purchase.Status.REFUNDED)
        ]
        paid = sum((p.amount.amount for p in credited), ZERO)
        refunded = sum((p.refunded.amount for p in credited), ZERO)
        assert company + sum(held.values(), ZERO) + receivable == paid - refunded - usage

        keys = [f"purchase:{pk}" for pk in self.purchases]
        counts = dict(
            Transfer.objects.for_org(organization)
            .filter(idempotency_key__in=keys)
            .values("idempotency_key")
            .annotate(count=Count("id"))
            .values_list("idempotency_key", "count")
        )
        for pk, (amount, refunded, credited) in self.purchases.items():
            assert counts.get(f"purchase:{pk}", 0) == (1 if credited else 0)
            assert purchases[pk].refunded.amount == refunded
            if credited:
                full = refunded >= amount
                status = Purchase.Status.REFUNDED if full else Purchase.Status.PAID
                assert purchases[pk].status == status

        events = dict(
            AuditEvent.objects.for_org(organization)
            .filter(verb__in=list(self.audited))
            .values("verb")
            .annotate(count=Count("id"))
            .values_list("verb", "count")
        )
        assert {verb: events.get(verb, 0) for verb in self.audited} == self.audited


def test_any_sequence_of_operations_keeps_the_books(org, owner, admin, employee):
    Books.organization = org
    Books.owner = owner
    Books.admin = admin
    Books.members = [owner, admin, employee, *MemberFactory.create_batch(2, organization=org)]
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


# --- Examples the machine found (or would), kept as plain tests --------------------------------


def _company(org):
    return system_account(org, Account.Kind.ORGANIZATION)


def test_refund_ids_that_prefix_one_another_are_two_refunds(org, owner):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=100)
    purchase_credit(purchase=purchase)
    purchase_refund(purchase=purchase, amount=10, refund_key="re_12")
    purchase_refund(purchase=purchase, amount=5, refund_key="re_1")
    purchase_refund(purchase=purchase, amount=5, refund_key="re_1")
    purchase.refresh_from_db()
    assert purchase.refunded == Money(15, "EUR")
    assert _company(org).balance == Money(85, "EUR")


def test_a_take_back_form_posted_twice_takes_once_and_says_so_once(org, owner, admin, employee):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=50)
    purchase_credit(purchase=purchase)
    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=20, idempotency_key="a"
    )
    first = credit_take_back(organization=org, actor=admin, members=[employee], idempotency_key="t")
    # The member holds nothing now; the second post of the same form is not an error.
    again = credit_take_back(organization=org, actor=admin, members=[employee], idempotency_key="t")
    assert [t.pk for t in again] == [t.pk for t in first]
    assert first[0].amount == Money(20, "EUR")
    assert member_wallet(org, employee).balance == Money(0, "EUR")
    assert AuditEvent.objects.for_org(org).filter(verb="credit.taken_back").count() == 1


def test_a_correction_must_point_at_a_transfer_of_the_same_organization(
    org, owner, other_org, outsider
):
    theirs = purchase_create(
        organization=other_org, actor=outsider, method="bank_transfer", amount=20
    )
    purchase_credit(purchase=theirs)
    their_transfer = Transfer.objects.for_org(other_org).get()
    ours = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=20)
    purchase_credit(purchase=ours)
    with pytest.raises(ApplicationError, match="correct this organization"):
        transfers_post(
            organization=org,
            actor=owner,
            movements=[
                Movement(
                    source=_company(org),
                    destination=system_account(org, Account.Kind.PAYMENTS),
                    amount=Money(1, "EUR"),
                    kind=Transfer.Kind.ADJUSTMENT,
                    idempotency_key="fix",
                    reverses=their_transfer,
                )
            ],
        )
