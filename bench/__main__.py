"""``python -m bench``: run the callvault benchmark suite (options: ``--help``)."""

from bench.run import main

raise SystemExit(main())
