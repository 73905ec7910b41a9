"""The backend's background services are ``autorig.loops.LoopService`` loops (the one base the
worker's clean-up shares); imported from here by the services."""

from autorig.loops import LoopService

__all__ = ["LoopService"]
