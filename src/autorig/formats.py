"""The input formats autorig rigs, named once: the upload check (``web/domains/tasks/formats.py``)
and the engine (``blender/scene.py``, ``blender/sanitize.py``) both read this table, so what an
upload accepts is what the engine imports.

    format  reads as  what it is
    glb     glb       binary glTF 2.0
    gltf    gltf      glTF 2.0 JSON; its buffers and images beside it (or in the zip)
    vrm     glb       a GLB with VRM's humanoid extensions (Blender's glTF importer reads it as GLB)
    fbx     fbx       binary FBX 7.1 or later; ASCII FBX is refused (Blender's importer reads
                      binary FBX only), and so is an older binary FBX
    obj     obj       Wavefront OBJ, with its .mtl and textures
    zip     (none)    one model file of the formats above with its textures

Standard library only: the web side reads it without Blender.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputFormat:
    """``name``: the format (and the file extension without the dot); ``reads_as``: the importer
    that reads it (``""`` for a zip, which holds one of the others)."""

    name: str
    reads_as: str
    label: str  # how a person names it: GLB, glTF, VRM, FBX, OBJ, ZIP

    @property
    def suffix(self) -> str:
        return "." + self.name


INPUT_FORMATS: tuple[InputFormat, ...] = (
    InputFormat("glb", "glb", "GLB"),
    InputFormat("gltf", "gltf", "glTF"),
    InputFormat("vrm", "glb", "VRM"),
    InputFormat("fbx", "fbx", "FBX"),
    InputFormat("obj", "obj", "OBJ"),
    InputFormat("zip", "", "ZIP"),
)
FORMATS: tuple[str, ...] = tuple(f.name for f in INPUT_FORMATS)
SUFFIXES: tuple[str, ...] = tuple(f.suffix for f in INPUT_FORMATS)
# What a zip may hold as its model (the zip's own textures aside).
MODEL_SUFFIXES: tuple[str, ...] = tuple(f.suffix for f in INPUT_FORMATS if f.reads_as)

GLTF_VERSION = 2  # glTF 2.0 only (a GLB header's version field)
GLB_MAGIC = b"glTF"  # a GLB (and so a VRM) starts with these bytes
ZIP_MAGIC = b"PK\x03\x04"
FBX_BINARY_MAGIC = b"Kaydara FBX Binary  \x00"
FBX_MIN_VERSION = 7100  # Blender's FBX importer reads FBX 7.1 and later
# A zip may hold textures; archives that would expand past these are refused.
ZIP_MAX_MEMBERS = 5000
ZIP_MAX_UNPACKED = 1 << 30


def by_name(name: str) -> InputFormat | None:
    """The format named ``name`` (``"vrm"``) or with that suffix (``".vrm"``), else None."""
    name = name.lower().lstrip(".")
    return next((f for f in INPUT_FORMATS if f.name == name), None)


def by_magic(head: bytes) -> InputFormat | None:
    """The format that the leading bytes of a binary file name (GLB, binary FBX, zip), else None."""
    for magic, name in ((GLB_MAGIC, "glb"), (FBX_BINARY_MAGIC, "fbx"), (ZIP_MAGIC, "zip")):
        if head.startswith(magic):
            return by_name(name)
    return None


def reads_as(name: str) -> str | None:
    """The importer for format ``name`` (``vrm`` -> ``glb``); None for an unknown format."""
    f = by_name(name)
    return f.reads_as if f else None


def listed(suffixes: bool = False, models_only: bool = False) -> str:
    """The formats for a sentence: ``GLB, glTF, VRM, FBX, OBJ or ZIP`` (or ``.glb, ... or .obj``)."""
    names = [f.suffix if suffixes else f.label for f in INPUT_FORMATS if f.reads_as or not models_only]
    return ", ".join(names[:-1]) + " or " + names[-1]
