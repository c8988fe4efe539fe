"""Secrets of invitation links and SMS codes.

Nothing secret is stored. Each invitation keeps random nonces; the link's token and the
6-digit code are HMACs of those nonces under SECRET_KEY, so the task that sends the message
can write them, and someone who reads the database cannot. The token (256 bits) is found by
its SHA-256; codes are compared in constant time. Rotating a nonce kills the old link or code.
"""

import base64
import hashlib
import hmac
import re
import secrets

from django.utils.crypto import salted_hmac

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
CODE_PATTERN = re.compile(r"^\d{6}$")


def new_nonce() -> str:
    return secrets.token_hex(16)


def link_token(nonce: str) -> str:
    digest = salted_hmac("skypemgr.invitation.link", nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sms_code(token_nonce: str, code_nonce: str) -> str:
    digest = salted_hmac(
        "skypemgr.invitation.code", f"{token_nonce}:{code_nonce}", algorithm="sha256"
    ).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def codes_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
