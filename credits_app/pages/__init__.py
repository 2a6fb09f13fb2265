"""One module per page; importing this package registers every page."""

from credits_app.pages import (  # noqa: F401 (imported to register the pages)
    account,
    admin_entry,
    admin_grant,
    admin_reconcile,
    admin_users,
    admin_webhooks,
    analytics,
    auth,
    credits,
    credits_result,
    dashboard,
    dev_mail,
    email_links,
    example_ai,
    home,
)
