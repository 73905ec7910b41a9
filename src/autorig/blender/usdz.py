"""``<name>.usdz`` for Apple's AR Quick Look, written by Blender's USD exporter.

Quick Look wants: one .usdz package (USD crate + textures), Y up, metres, UsdPreviewSurface
materials with PNG/JPEG textures no larger than it can hold in memory, and at most one
animation, which it plays on open. So: the full-resolution skin with its skeleton (UsdSkel),
the ``idle`` clip as the file's animation, Y-up conversion, textures down-scaled to
TEXTURE_SIZE, preview-surface materials, no cameras, lights or world.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bpy

from autorig.blender.export import atomic_output, selected
from autorig.rigging.errors import RigError

# The clip Quick Look plays on open.
CLIP = "idle"
# Quick Look on phones runs out of memory on large textures; 2048 px keeps detail.
TEXTURE_SIZE = "2048"


def export_usdz(path: str | os.PathLike, rig: Any, actions: dict[str, Any] | None = None) -> Path:
    """Write ``rig`` (armature + meshes) to ``path`` as USDZ, atomically, with the ``CLIP``
    action as its animation when ``actions`` has it. Returns ``path``."""
    path = Path(path)
    scene = bpy.context.scene
    arm = rig.armature
    ad = arm.animation_data or arm.animation_data_create()
    action = (actions or {}).get(CLIP)
    saved = (ad.action, scene.frame_start, scene.frame_end, scene.frame_current)
    try:
        if action is not None:
            ad.action = action
            if ad.action_slot is None and len(action.slots):
                ad.action_slot = action.slots[0]
            scene.frame_start, scene.frame_end = int(action.frame_range[0]), int(action.frame_range[1])
        with atomic_output(path) as tmp, selected(list(rig.objects)):
            result = bpy.ops.wm.usd_export(
                filepath=str(tmp),
                selected_objects_only=True,
                export_animation=action is not None,
                export_armatures=True,
                only_deform_bones=False,
                export_shapekeys=True,
                export_uvmaps=True,
                rename_uvmaps=True,
                export_normals=True,
                export_materials=True,
                generate_preview_surface=True,
                export_textures_mode="NEW",
                usdz_downscale_size=TEXTURE_SIZE,
                convert_orientation=True,
                export_global_forward_selection="NEGATIVE_Z",
                export_global_up_selection="Y",
                convert_world_material=False,
                export_cameras=False,
                export_lights=False,
                export_custom_properties=False,
                evaluation_mode="VIEWPORT",
                triangulate_meshes=False,
                root_prim_path="/root",
            )
            if "FINISHED" not in result or not tmp.is_file() or tmp.stat().st_size == 0:
                raise RigError("internal", "the USD exporter wrote nothing")
    finally:
        ad.action = saved[0]
        scene.frame_start, scene.frame_end = saved[1], saved[2]
        scene.frame_set(saved[3])
    return path
