"""The rigging worker: the engine behind HTTP, one of many in a pool.

    app.py        app factory and ``cli_worker`` (``autorig worker``)
    endpoints.py  the routes of ``protocol.py``: thin, they call the JobManager
    jobs.py       JobManager: intake, capacity, one thread per job, restarts
    store.py      job records, one JSON file per job in the data dir
    download.py   safe URL fetching (no private addresses, size and time limits)
    runner.py     one engine process per job, with time and memory limits
    limits.py     the exec shim that applies the memory limit in the child
    files.py      serving outputs: 404 until whole, Range, ETag
    status.py     capacity, free disk, average job time
    loops.py      background loops (clean-up of old jobs)
    pages.py      the progress page
    errors.py     the error tree and its JSON rendering

Importing this package is cheap (no FastAPI): ``limits`` runs as the child's shim.
"""
