"""HTTP API mounted on the Reflex backend with `rx.App(api_transformer=create_api())`."""

from credits_app.api.app import create_api

__all__ = ["create_api"]
