"""The login documents: plain JSON, exactly as CONTRACT.md fixes them (not JSON:API)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    """``{"email": ..., "password": ...}``."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1000)


class SessionToken(BaseModel):
    """``{"access_token": "<jwt>"}``: send it as ``Authorization: JWT <token>`` (or ``Bearer``)."""

    access_token: str


class PasswordChange(BaseModel):
    """``{"current_password": ..., "new_password": ...}``."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=8, max_length=1000)
