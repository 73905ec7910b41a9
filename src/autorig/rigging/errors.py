"""Errors of the rigging engine: each carries a one-line reason a person can read."""


class RigError(Exception):
    """The input cannot be rigged. ``code`` is a stable machine-readable kind.

    Kinds: ``unsupported_format``, ``corrupt_file``, ``empty_scene``, ``not_a_mesh``,
    ``not_a_biped``, ``too_large``, ``internal``.
    """

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason
