from autorig.cli import main

raise SystemExit(main())
