"""Tasks: a user's request to rig one model, from upload to downloadable files."""
