"""The MediaPipe canonical face mesh (Apache-2.0, see assets/NOTICE), in millimetres."""
from __future__ import annotations

import functools

import numpy as np

from .. import assets


@functools.lru_cache(maxsize=1)
def canonical_mesh() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices mm (468,3) y up +z to the viewer, uvs (468,2), all 898 triangles (898,3))."""
    with np.load(assets.path("canonical_mesh.npz", "talkstyle.face"), allow_pickle=False) as z:
        return (z["vertices_cm"].astype(np.float32) * 10.0, z["uvs"].astype(np.float32),
                z["triangles"].astype(np.int32))
