"""Create, list and revoke API keys. A key is ``ar_`` + 43 URL-safe characters (256 random
bits); only its SHA-256 is stored, so a database leak gives no usable key."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.db import utcnow
from autorig.web.domains.apikeys import repository
from autorig.web.domains.users.security import new_token, sha256_hex
from autorig.web.errors import BadRequest, NotFound
from autorig.web.models import ApiKey

KEY_PREFIX = "ar_"
KEY_BYTES = 32
SHOWN_CHARS = 10  # "ar_" and 7 characters: enough to recognise a key, far too few to guess it
MAX_LIVE_KEYS = 50


class ApiKeyService:
    async def create(self, session: AsyncSession, user_id: str, name: str) -> tuple[ApiKey, str]:
        """The stored key and the secret (shown once)."""
        name = name.strip()
        if not name:
            raise BadRequest("give the key a name")
        if await repository.count_live(session, user_id) >= MAX_LIVE_KEYS:
            raise BadRequest(f"at most {MAX_LIVE_KEYS} keys at once; revoke one first")
        secret = KEY_PREFIX + new_token(KEY_BYTES)
        key = ApiKey(
            id=uuid.uuid4().hex,
            user_id=user_id,
            name=name[:100],
            prefix=secret[:SHOWN_CHARS],
            token_hash=sha256_hex(secret),
            created_at=utcnow(),
        )
        session.add(key)
        await session.flush()
        return key, secret

    async def list(self, session: AsyncSession, user_id: str, *, include_revoked: bool = False) -> list[ApiKey]:
        return await repository.of_user(session, user_id, include_revoked=include_revoked)

    async def revoke(self, session: AsyncSession, user_id: str, key_id: str) -> ApiKey:
        key = await repository.get_of_user(session, user_id, key_id)
        if key is None:
            raise NotFound(f"no API key {key_id!r}")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            await session.flush()
        return key
