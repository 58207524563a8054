"""Extract the MediaPipe canonical face mesh from the npm package @mediapipe/face_mesh.

Usage:
    npm pack @mediapipe/face_mesh@0.4.1657299874 && tar xzf mediapipe-face_mesh-*.tgz
    python scripts/extract_canonical_mesh.py package/ src/talkstyle/face/assets/canonical_mesh.npz

The packed asset file holds `geometry_pipeline_metadata_landmarks.binarypb`; its byte range is
listed in the loader script. In that protobuf, field 1 is the canonical mesh, whose field 3 is the
vertex buffer (x, y, z, u, v per vertex, as floats) and field 4 the triangle index buffer.
The mesh is Apache-2.0 (see src/talkstyle/face/assets/NOTICE).
"""
from __future__ import annotations

import json
import re
import struct
import sys
from pathlib import Path

import numpy as np

ASSET = "geometry_pipeline_metadata_landmarks.binarypb"


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(buf: bytes):
    """Yield (field number, wire type, payload) for each field of a protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield field, wire, value


def _packed_varints(buf: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(buf):
        v, pos = _varint(buf, pos)
        out.append(v)
    return out


def extract(package_dir: Path) -> dict[str, np.ndarray]:
    loader = (package_dir / "face_mesh_solution_packed_assets_loader.js").read_text()
    entries = re.findall(r'"filename":\s*"([^"]+)",\s*"start":\s*(\d+),\s*"end":\s*(\d+)', loader)
    start, end = next((int(s), int(e)) for name, s, e in entries if name.endswith(ASSET))
    blob = (package_dir / "face_mesh_solution_packed_assets.data").read_bytes()[start:end]
    mesh = next(value for field, _, value in _fields(blob) if field == 1)
    floats: list[float] = []
    indices: list[int] = []
    for field, wire, value in _fields(mesh):
        if field == 3:  # vertex buffer, packed or one float per field
            floats += struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else list(struct.unpack("<f", value))
        elif field == 4:
            indices += _packed_varints(value) if wire == 2 else [value]
    vb = np.asarray(floats, np.float32).reshape(-1, 5)
    return {
        "vertices_cm": vb[:, :3],
        "uvs": vb[:, 3:],
        "triangles": np.asarray(indices, np.int32).reshape(-1, 3),
    }


def main() -> None:
    package_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    data = extract(package_dir)
    meta = json.loads((package_dir / "package.json").read_text())
    np.savez_compressed(out, source=np.array(f"{meta['name']}@{meta['version']}"), **data)
    print(f"{out}: {len(data['vertices_cm'])} vertices, {len(data['triangles'])} triangles")


if __name__ == "__main__":
    main()
