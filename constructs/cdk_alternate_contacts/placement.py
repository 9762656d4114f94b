"""Where OrganizationContacts places an account: pure functions of its id and the organization's size.

No CDK here, so that tests, benchmarks and tools can compute placements without starting aws_cdk.
"""

from __future__ import annotations

import hashlib

#: How many accounts a nested stack holds on average when the number of nested stacks is left to grow:
#: one more nested stack for every 250 accounts. With placement by jump consistent hash the fullest of 40
#: nested stacks then holds about 290 (2.5 standard deviations), far below ``DEFAULT_ACCOUNTS_PER_STACK``.
ACCOUNTS_PER_NESTED_STACK = 250

#: The multiplier of Lamping and Veach's jump consistent hash (a 64-bit linear congruential generator).
_JUMP_MULTIPLIER = 2862933555777941757


def nested_stacks_for(accounts: int) -> int:
    """How many nested stacks ``accounts`` accounts are spread over when the number grows by itself:
    one for every :data:`ACCOUNTS_PER_NESTED_STACK` accounts or part of it, at least one."""
    return max(1, -(-accounts // ACCOUNTS_PER_NESTED_STACK))


def nested_stack_index(account_id: str, nested_stacks: int) -> int:
    """The nested stack an account is placed in: a pure function of its id and the number of nested stacks.

    Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014) of
    the first 8 bytes of the id's SHA-256. Adding, removing or reordering other accounts never changes it;
    when ``nested_stacks`` grows from n to n + 1, exactly the accounts that now belong in the new nested
    stack move (about 1 in n + 1), and every other account stays where it was.
    """
    if nested_stacks < 1:
        raise ValueError(f"nested_stacks must be at least 1 (got {nested_stacks})")
    key = int.from_bytes(hashlib.sha256(account_id.encode("ascii")).digest()[:8], "big")
    bucket, candidate = -1, 0
    while candidate < nested_stacks:
        bucket = candidate
        key = (key * _JUMP_MULTIPLIER + 1) % (1 << 64)
        candidate = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket
