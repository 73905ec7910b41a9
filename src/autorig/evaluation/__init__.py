"""`autorig eval`: run the engine over artist-rigged characters and score it."""
