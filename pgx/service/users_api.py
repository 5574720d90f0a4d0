"""``/v1/users``: an administrator lists, creates and deactivates users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from pgx.errors import PgxError
from pgx.service import auth
from pgx.service.core import ApiError, ServiceDep, audit, need
from pgx.service.db import User

router = APIRouter(tags=["admin"])


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: str = Field(pattern="^(pipeline|pharmacist|curator|admin)$")
    password: str | None = Field(None, min_length=12, max_length=1024, description="For people using the pages")
    token: bool = Field(True, description="Create an API token (returned once, only its hash is stored)")


class UserView(BaseModel):
    name: str
    role: str
    active: bool
    has_password: bool
    has_token: bool
    token: str | None = Field(None, description="Only in the response that created it")


class UserUpdate(BaseModel):
    active: bool


def user_view(u: User, token: str | None = None) -> UserView:
    return UserView(
        name=u.name,
        role=u.role,
        active=u.active,
        has_password=bool(u.password_hash),
        has_token=bool(u.token_hash),
        token=token,
    )


@router.get("/v1/users", response_model=list[UserView])
def users(_: Annotated[User, Depends(need("admin"))], svc: ServiceDep) -> list[UserView]:
    with svc.db.session() as s:
        return [user_view(u) for u in s.scalars(select(User).order_by(User.name)).all()]


@router.post("/v1/users", response_model=UserView, status_code=201)
def create_user(body: NewUser, admin: Annotated[User, Depends(need("admin"))], svc: ServiceDep) -> UserView:
    with svc.db.session() as s:
        try:
            token = auth.add_user(s, body.name, body.role, password=body.password, with_token=body.token)
        except PgxError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None
        s.flush()
        created = s.scalar(select(User).where(User.name == body.name))
        assert created is not None
        audit(s, admin, "create", "user", body.name, None, {"role": body.role}, None, None)
        return user_view(created, token)


@router.patch("/v1/users/{name}", response_model=UserView)
def update_user(
    name: str, body: UserUpdate, admin: Annotated[User, Depends(need("admin"))], svc: ServiceDep
) -> UserView:
    with svc.db.session() as s:
        u = s.scalar(select(User).where(User.name == name))
        if u is None:
            raise ApiError(404, "not_found", f"no user {name!r}")
        if u.id == admin.id and not body.active:
            raise ApiError(409, "conflict", "an admin cannot deactivate themself")
        before = {"active": u.active}
        u.active = body.active
        audit(s, admin, "update", "user", name, before, {"active": body.active}, None, None)
        return user_view(u)
