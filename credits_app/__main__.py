"""`python -m credits_app`: the admin's and scripts' command line."""

from credits_app.cli import main

raise SystemExit(main())
