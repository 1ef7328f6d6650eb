"""`python -m arbscope`."""

from arbscope.cli import main

raise SystemExit(main())
