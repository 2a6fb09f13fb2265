"""Routes: billing (not implemented yet)."""

from fastapi import APIRouter

router = APIRouter()
