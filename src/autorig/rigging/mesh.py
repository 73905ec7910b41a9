"""The plain-array form of a character that every geometry pass works on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass
class MeshPart:
    """One mesh object of the scene: its vertices are rows [start, start + count)."""

    name: str
    start: int
    count: int


@dataclass
class CharacterMesh:
    """All meshes of a character merged into one triangle soup, in world space.

    vertices: (n, 3) float64, world coordinates of the loaded scene (Blender: +Z up,
        but the engine never assumes an orientation; see ``prepare``).
    triangles: (m, 3) int64 indices into ``vertices``.
    parts: which rows belong to which mesh object, in order, covering all rows.
    """

    vertices: npt.NDArray[np.float64]
    triangles: npt.NDArray[np.int64]
    parts: list[MeshPart] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float64).reshape(-1, 3)
        self.triangles = np.ascontiguousarray(self.triangles, dtype=np.int64).reshape(-1, 3)
        if not self.parts:
            self.parts = [MeshPart("mesh", 0, len(self.vertices))]

    @property
    def n_vertices(self) -> int:
        return len(self.vertices)

    @property
    def n_triangles(self) -> int:
        return len(self.triangles)
