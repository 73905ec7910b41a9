"""The queue as people see it: workers online, free slots, waiting tasks, the wait estimate."""
