"""`python -m inboxdesk_cli` runs the `inboxdesk` command line."""

import sys

from inboxdesk_cli.main import main

sys.exit(main())
