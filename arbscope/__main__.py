from arbscope.cli import main

raise SystemExit(main())
