"""Notices of wallets that went down, coalesced: one pending task per organization.

Every posting that debits a wallet notes the wallets (and the kinds of transfer) in Redis and
sends `credit.balances_dropped` only when no notice of that organization is pending already;
the task takes everything noted so far. So a burst of postings costs one task, not one each,
and nothing noted is missed: a posting that comes after the task took the notes sends another.
The pending mark expires, so a lost task cannot silence an organization (and the periodic
check covers the gap).
"""

from django.core.cache import cache
from django_redis import get_redis_connection

PENDING_SECONDS = 300


def _keys(organization_id: int) -> tuple[str, str, str]:
    # Built by the cache so that they carry its prefix (and tests can clear them with it).
    return tuple(
        cache.make_key(f"credit-dropped:{organization_id}:{part}")
        for part in ("pending", "accounts", "kinds")
    )


# KEYS: pending mark, accounts set, kinds set. ARGV: seconds the mark lives, number of
# account ids, the ids, then the kinds. Returns 1 when the mark was not set (send the task).
_NOTE = """
local count = tonumber(ARGV[2])
redis.call('SADD', KEYS[2], unpack(ARGV, 3, 2 + count))
redis.call('EXPIRE', KEYS[2], 2 * ARGV[1])
redis.call('SADD', KEYS[3], unpack(ARGV, 3 + count))
redis.call('EXPIRE', KEYS[3], 2 * ARGV[1])
if redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[1]) then
    return 1
end
return 0
"""
_script = []


def dropped_note(*, organization_id: int, account_ids: list[int], kinds: list[str]) -> bool:
    """Note debited wallets; True when the caller must send the task (none is pending).

    One round trip to Redis (a script): every posting that debits a wallet makes it.
    """
    redis = get_redis_connection("default")
    if not _script:
        _script.append(redis.register_script(_NOTE))
    arguments = [PENDING_SECONDS, len(account_ids), *account_ids, *kinds]
    return bool(_script[0](keys=list(_keys(organization_id)), args=arguments, client=redis))


def dropped_take(*, organization_id: int) -> tuple[list[int], list[str]]:
    """Everything noted for the organization, cleared in one atomic step with the mark."""
    pending, accounts, kinds_key = _keys(organization_id)
    pipe = get_redis_connection("default").pipeline(transaction=True)
    pipe.delete(pending)
    pipe.smembers(accounts)
    pipe.delete(accounts)
    pipe.smembers(kinds_key)
    pipe.delete(kinds_key)
    _pending, noted_accounts, _accounts, noted_kinds, _kinds = pipe.execute()
    return (
        sorted(int(account_id) for account_id in noted_accounts),
        sorted(kind.decode() if isinstance(kind, bytes) else kind for kind in noted_kinds),
    )
