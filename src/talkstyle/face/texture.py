"""A face texture in the canonical mesh's UV space, warped from a photo by its landmarks.

Each mesh triangle is mapped from where its three landmarks sit in the photo to where its UVs sit
in the texture (piecewise affine over the mesh's own triangles). The texture is an image with u to
the right and v downward (row = v * size), the layout of the canonical mesh's UVs. Texels outside
the mesh take the colour of the nearest texel inside, so that filtering never bleeds background.
"""
from __future__ import annotations

import numpy as np

from .. import assets
from ..errors import TalkstyleError


def _mesh_asset() -> tuple[np.ndarray, np.ndarray]:
    with np.load(assets.path("canonical_mesh.npz", "talkstyle.face")) as z:
        return z["uvs"].astype(np.float64), z["triangles"].astype(np.int64)


def _rasterise(tri_uv: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For every texel centre: the index of the UV triangle covering it (-1: none) and its
    barycentric coordinates (size, size, 3)."""
    owner = np.full((size, size), -1, np.int64)
    bary = np.zeros((size, size, 3))
    px = tri_uv * size - 0.5                                  # texel centres sit at integer coords
    for t, (a, b, c) in enumerate(px):
        lo = np.maximum(np.floor(np.minimum(np.minimum(a, b), c)).astype(int), 0)
        hi = np.minimum(np.ceil(np.maximum(np.maximum(a, b), c)).astype(int), size - 1)
        if np.any(hi < lo):
            continue
        xs, ys = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1))
        T = np.array([b - a, c - a]).T
        det = np.linalg.det(T)
        if abs(det) < 1e-12:
            continue
        l12 = np.linalg.solve(T, np.stack([xs.ravel() - a[0], ys.ravel() - a[1]]))
        l = np.vstack([1.0 - l12.sum(0), l12])
        inside = (l >= -1e-9).all(0)
        owner[ys.ravel()[inside], xs.ravel()[inside]] = t
        bary[ys.ravel()[inside], xs.ravel()[inside]] = l[:, inside].T
    return owner, bary


def warp_to_uv(image: np.ndarray, landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """Texture (size, size, 3) uint8 from an RGB photo and its 468 landmarks (x, y pixels)."""
    from scipy import ndimage

    if image.ndim != 3 or image.shape[2] != 3:
        raise TalkstyleError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    uvs, triangles = _mesh_asset()
    owner, bary = _rasterise(uvs[triangles], size)
    covered = owner >= 0
    # Photo position of each covered texel: same barycentric weights on the landmark triangle.
    corners = landmarks[:, :2][triangles[owner[covered]]]             # (M, 3, 2)
    xy = np.einsum("mk,mkj->mj", bary[covered], corners)
    out = np.zeros((size, size, 3), np.float64)
    for ch in range(3):
        out[..., ch][covered] = ndimage.map_coordinates(image[..., ch].astype(np.float64),
                                                        [xy[:, 1], xy[:, 0]], order=1, mode="nearest")
    _, (iy, ix) = ndimage.distance_transform_edt(~covered, return_indices=True)
    return np.clip(out[iy, ix], 0, 255).astype(np.uint8)
