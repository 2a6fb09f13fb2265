"""Every page route in one place."""

HOME = "/"
LOGIN = "/login"
REGISTER = "/register"
LOGOUT = "/logout"
ACCOUNT = "/account"
VERIFY_EMAIL = "/verify-email"
FORGOT_PASSWORD = "/forgot-password"  # noqa: S105 (a route, not a secret)
RESET_PASSWORD = "/reset-password"  # noqa: S105 (a route, not a secret)
DEV_MAIL = "/dev/mail"
DASHBOARD = "/dashboard"
CREDITS = "/credits"
CREDITS_SUCCESS = "/credits/success"
CREDITS_CANCEL = "/credits/cancel"
EXAMPLE_AI = "/example-ai"
ADMIN_GRANT = "/admin/grant"
ANALYTICS = "/analytics"
ADMIN_USERS = "/admin/users"
ADMIN_USER = "/admin/users/[user_id]"
ADMIN_ENTRY = "/admin/entries/[entry_id]"
ADMIN_RECONCILE = "/admin/reconcile"
ADMIN_WEBHOOKS = "/admin/webhooks"
ADMIN_ANALYTICS = "/admin/analytics"


def admin_user(user_id: int | str) -> str:
    """The admin page of one user."""
    return f"{ADMIN_USERS}/{user_id}"


def admin_entry(entry_id: int | str) -> str:
    """The admin page tracing one ledger entry to where it came from."""
    return f"/admin/entries/{entry_id}"
