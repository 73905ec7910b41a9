"""Write rigged characters as GLB and FBX, each file whole or not at all.

``atomic_output(path)`` is the one way outputs are written: the exporter writes a hidden
temporary file in the same folder, which is renamed over ``path`` only when complete, so a
file that exists under its real name is whole (the worker serves files as soon as they exist).

GLB: Y up (glTF's rule), skins, textures embedded, no cameras or lights, animations only when
asked. FBX, set up for Unity and Unreal: -Z forward / Y up, the unit scale written to the file
(``FBX_SCALE_UNITS``: 1 Blender unit = 1 m = UnitScaleFactor 100, objects keep scale 1, so Unity
shows scale 1 and Unreal converts to cm by itself), no leaf bones added, bones' primary axis Y
and secondary X (the frames of ``armature.py``'s roll convention), the armature as a plain
null node, textures embedded, animation baked only when asked. The axis conversion stays on the
top-level objects (``bake_space_transform`` off: it is experimental and mangles armatures);
Unity's "Bake Axis Conversion" removes it at import if wanted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import bpy

from autorig.rigging.errors import RigError


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix, so exporters keep it); when the
    block ends without error the temporary file replaces ``path``, otherwise it is removed.

    >>> with atomic_output(out / "model.glb") as tmp:
    ...     write(tmp)
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.part-{secrets.token_hex(4)}{path.suffix}")
    try:
        yield tmp
        if not tmp.is_file():
            raise RuntimeError(f"nothing was written for {path.name}")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def selected(objects) -> Iterator[None]:
    """Select exactly ``objects`` (exporters work on the selection), object mode, restore after."""
    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    before = [ob for ob in bpy.context.scene.objects if ob.select_get()]
    active = bpy.context.view_layer.objects.active
    for ob in before:
        ob.select_set(False)
    for ob in objects:
        ob.hide_set(False)
        ob.select_set(True)
    if objects:
        bpy.context.view_layer.objects.active = objects[0]
    try:
        yield
    finally:
        for ob in objects:
            ob.select_set(False)
        for ob in before:
            ob.select_set(True)
        bpy.context.view_layer.objects.active = active


# Image file formats and the extension a reader expects on their embedded name.
IMAGE_EXTENSIONS = {
    "PNG": ".png", "JPEG": ".jpg", "TARGA": ".tga", "TARGA_RAW": ".tga", "BMP": ".bmp", "TIFF": ".tif",
    "OPEN_EXR": ".exr", "HDR": ".hdr", "WEBP": ".webp",
}  # fmt: skip
KNOWN_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tga", ".bmp", ".tif", ".tiff", ".exr", ".hdr", ".webp", ".dds"}


def _images_of(objects) -> list:
    """Images used by the materials of ``objects``' meshes (texture nodes, one level of groups)."""
    found = []
    for ob in objects:
        if ob.type != "MESH":
            continue
        for slot in ob.material_slots:
            mat = slot.material
            if mat is None or mat.node_tree is None:
                continue
            trees = [mat.node_tree] + [n.node_tree for n in mat.node_tree.nodes if n.type == "GROUP" and n.node_tree]
            for tree in trees:
                for node in tree.nodes:
                    image = getattr(node, "image", None)
                    if image is not None and all(image is not f for f in found):
                        found.append(image)
    return found


@contextlib.contextmanager
def named_textures(objects) -> Iterator[None]:
    """Packed images get a file name with its extension while the FBX is written.

    Blender's FBX exporter names an embedded image without a file path ``textures/packed/<name>``,
    and importers that pick the decoder by extension (three.js's FBXLoader) skip such a texture.
    Each gets ``textures/<name>.<ext>`` from its real format, unique per image; restored after."""
    saved = []
    used: set[str] = set()
    try:
        for image in _images_of(objects):
            if image.packed_file is None:
                continue
            current = Path(bpy.path.abspath(image.filepath_raw)) if image.filepath_raw else None
            if current is not None and current.suffix.lower() in KNOWN_EXTENSIONS and current.name.lower() not in used:
                used.add(current.name.lower())
                continue
            ext = IMAGE_EXTENSIONS.get(image.file_format, ".png")
            named = Path(image.name)
            stem = named.stem if named.suffix.lower() in KNOWN_EXTENSIONS else image.name
            stem = bpy.path.clean_name(stem) or "texture"
            name, n = f"{stem}{ext}", 1
            while name.lower() in used:
                n += 1
                name = f"{stem}_{n}{ext}"
            used.add(name.lower())
            saved.append((image, image.filepath_raw))
            image.filepath_raw = f"//textures/{name}"
        yield
    finally:
        for image, raw in saved:
            image.filepath_raw = raw


@contextlib.contextmanager
def undeformed(objects) -> Iterator[None]:
    """The meshes' Armature modifiers switched off in the viewport while the FBX exporter bakes
    the clips: it sets every frame of every clip and reads the bones, and the scene would deform
    every skin on each of those frames for nothing (on a large model, most of the bake's time).
    The exporter finds the skin by the modifier, shown or not, and writes the undeformed mesh."""
    saved = []
    try:
        for ob in objects:
            if ob.type != "MESH":
                continue
            for mod in ob.modifiers:
                if mod.type == "ARMATURE" and mod.show_viewport:
                    mod.show_viewport = False
                    saved.append(mod)
        yield
    finally:
        for mod in saved:
            mod.show_viewport = True


def _check(result, fmt: str, path: Path) -> None:
    if "FINISHED" not in result or not path.is_file() or path.stat().st_size == 0:
        raise RigError("internal", f"the {fmt} exporter wrote nothing")


def export_glb(path: str | os.PathLike, objects, *, animations: bool = False, **options) -> Path:
    """Write ``objects`` (armature first, then meshes) to ``path`` as GLB, atomically.

    ``animations``: write the armature's actions as named glTF animations. ``options``: any
    further ``bpy.ops.export_scene.gltf`` settings (e.g. Draco compression for a light viewer
    file). Returns ``path``."""
    path = Path(path)
    settings = dict(
        export_format="GLB",
        use_selection=True,
        export_yup=True,
        export_apply=False,  # the Armature modifier must stay a skin, not be baked
        export_skins=True,
        export_influence_nb=4,
        export_all_influences=False,
        export_def_bones=False,  # keep end and root bones: engines expect them
        export_leaf_bone=False,
        export_rest_position_armature=True,
        export_materials="EXPORT",
        export_image_format="AUTO",
        export_texcoords=True,
        export_normals=True,
        export_morph=True,
        export_cameras=False,
        export_lights=False,
        export_extras=False,
        export_animations=animations,
        export_animation_mode="ACTIONS",
    )
    settings.update(options)
    with atomic_output(path) as tmp, selected(list(objects)):
        result = bpy.ops.export_scene.gltf(filepath=str(tmp), **settings)
        _check(result, "GLB", tmp)
    return path


def export_fbx(path: str | os.PathLike, objects, *, animations: bool = False, **options) -> Path:
    """Write ``objects`` to ``path`` as binary FBX for Unity and Unreal, atomically.

    ``animations``: bake every action of the armature as its own take. ``options``: further
    ``bpy.ops.export_scene.fbx`` settings. Returns ``path``."""
    path = Path(path)
    settings = dict(
        use_selection=True,
        object_types={"ARMATURE", "MESH"},
        axis_forward="-Z",
        axis_up="Y",
        global_scale=1.0,
        apply_unit_scale=True,
        apply_scale_options="FBX_SCALE_UNITS",
        use_space_transform=True,
        bake_space_transform=False,
        use_mesh_modifiers=False,  # the Armature modifier is the skin; other modifiers are none of ours
        mesh_smooth_type="FACE",  # smoothing groups: Unreal and Unity warn without them
        use_tspace=False,
        add_leaf_bones=False,
        primary_bone_axis="Y",
        secondary_bone_axis="X",
        use_armature_deform_only=False,
        armature_nodetype="NULL",
        bake_anim=animations,
        bake_anim_use_all_bones=True,
        bake_anim_use_nla_strips=False,
        bake_anim_use_all_actions=True,
        bake_anim_force_startend_keying=True,
        path_mode="COPY",
        embed_textures=True,
        use_metadata=True,
    )
    settings.update(options)
    still = undeformed(list(objects)) if animations else contextlib.nullcontext()
    with atomic_output(path) as tmp, selected(list(objects)), named_textures(list(objects)), still:
        # The exporter names embedded textures after the file (``NAME.fbm/skin.png``): it
        # writes under the final name in a private folder, not under the temporary name.
        staging = tmp.with_suffix("")
        staging.mkdir()
        try:
            result = bpy.ops.export_scene.fbx(filepath=str(staging / path.name), **settings)
            _check(result, "FBX", staging / path.name)
            os.replace(staging / path.name, tmp)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return path
