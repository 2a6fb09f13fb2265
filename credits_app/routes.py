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
