"""Routes: me (not implemented yet)."""

from fastapi import APIRouter

router = APIRouter()
