"""``/api/keys``: a signed-in person's API keys. The key is in the answer to POST only."""

from __future__ import annotations

from fastapi import APIRouter

from autorig.web.deps import ApiKeyServiceDep, CurrentUserDep, ReadSessionDep, SessionDep
from autorig.web.domains.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyInfo, key_info

router = APIRouter(prefix="/api/keys", tags=["api keys"])


@router.post("", response_model=ApiKeyCreated, status_code=201)
async def create_key(body: ApiKeyCreate, viewer: CurrentUserDep, session: SessionDep, keys: ApiKeyServiceDep) -> ApiKeyCreated:
    """A new key; ``key`` is shown this once (only its hash is kept)."""
    key, secret = await keys.create(session, viewer.user_id or "", body.name)
    return ApiKeyCreated(**key_info(key).model_dump(), key=secret)


@router.get("", response_model=list[ApiKeyInfo])
async def list_keys(
    viewer: CurrentUserDep, session: ReadSessionDep, keys: ApiKeyServiceDep, include_revoked: bool = False
) -> list[ApiKeyInfo]:
    return [key_info(k) for k in await keys.list(session, viewer.user_id or "", include_revoked=include_revoked)]


@router.delete("/{key_id}", response_model=ApiKeyInfo)
async def revoke_key(key_id: str, viewer: CurrentUserDep, session: SessionDep, keys: ApiKeyServiceDep) -> ApiKeyInfo:
    """Revoke a key: it stops working at once."""
    return key_info(await keys.revoke(session, viewer.user_id or "", key_id))
