"""The only package that imports bpy: import/export, armature, LOD, animation, preview."""
