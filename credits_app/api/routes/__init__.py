"""One FastAPI router per concern; `credits_app.api.app.ROUTER_MODULES` lists them."""
