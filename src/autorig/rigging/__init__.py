"""Pure geometry: mesh preparation, skeleton fitting, skinning and metrics.

Nothing in this package imports bpy; every function works on numpy arrays.
"""
