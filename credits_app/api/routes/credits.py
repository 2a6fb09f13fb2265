"""Routes: credits (not implemented yet)."""

from fastapi import APIRouter

router = APIRouter()
