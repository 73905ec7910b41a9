"""autorig: automatic rigging of humanoid characters."""

__version__ = "0.1.0"
