"""Headless preview renderer for FaceRig vertices.

moderngl on EGL (Mesa's software rasteriser: no display, no GPU needed). Where EGL cannot be
opened, a numpy z-buffer rasteriser takes over (much slower; a message says so).

Shading: smooth vertex normals, one directional light plus ambient, a skin colour or an RGB
texture in the mesh's UV space (u to the right, v downward, as MediaPipe's canonical UVs);
the mouth and eye openings are filled with a dark interior drawn just behind the lips and lids.
"""
from __future__ import annotations

import sys
from typing import Iterable, Iterator

import numpy as np

from ..errors import TalkstyleError
from ..face.rig import FaceRig

SKIN = (0.86, 0.66, 0.55)
INTERIOR = (0.16, 0.05, 0.05)
BACKGROUND = (0.19, 0.20, 0.23)
LIGHT_DIR = (0.35, 0.45, 1.0)

_VERT = """
#version 330
uniform mat4 mvp;
uniform float depth_bias;
in vec3 in_pos; in vec3 in_normal; in vec2 in_uv;
out vec3 v_normal; out vec2 v_uv;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    gl_Position.z += depth_bias * gl_Position.w;   // the interior fill sits just behind the surface
    v_normal = in_normal; v_uv = in_uv;
}
"""
_FRAG = """
#version 330
uniform vec3 light_dir; uniform vec3 base; uniform bool textured; uniform bool lit;
uniform sampler2D tex;
in vec3 v_normal; in vec2 v_uv;
out vec4 color;
void main() {
    vec3 n = normalize(v_normal);
    vec3 albedo = textured ? texture(tex, v_uv).rgb : base;
    float diffuse = max(dot(n, light_dir), 0.0);
    vec3 h = normalize(light_dir + vec3(0.0, 0.0, 1.0));
    float spec = lit ? 0.12 * pow(max(dot(n, h), 0.0), 24.0) : 0.0;
    vec3 c = lit ? albedo * (0.32 + 0.72 * diffuse) + spec : albedo;
    color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
"""


def _perspective(fov_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / np.tan(np.deg2rad(fov_deg) / 2)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                     [0, 0, -1, 0]], np.float64)


def camera_matrix(size: int, distance: float = 650.0, centre=(0.0, -6.0, 0.0), fov_deg: float = 21.0) -> np.ndarray:
    """Model-view-projection (4x4) of the preview camera: on +z, looking at the face."""
    view = np.eye(4)
    view[:3, 3] = -np.array([centre[0], centre[1], centre[2] + distance])
    return _perspective(fov_deg, 1.0, distance - 300.0, distance + 300.0) @ view


class _Normals:
    """Smooth vertex normals: area-weighted face normals summed per vertex (one sparse product)."""

    def __init__(self, triangles: np.ndarray, num_vertices: int):
        from scipy.sparse import csr_matrix

        rows = triangles.reshape(-1)
        cols = np.repeat(np.arange(len(triangles)), 3)
        self.tris = triangles
        self.incidence = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                    shape=(num_vertices, len(triangles)))

    def __call__(self, v: np.ndarray) -> np.ndarray:
        a, b, c = (v[self.tris[:, i]] for i in range(3))
        n = self.incidence @ np.cross(b - a, c - a)
        return (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)).astype(np.float32)


class Renderer:
    """Render (T,468,3) FaceRig vertices (mm) to uint8 RGB frames.

    texture: optional (H,W,3) uint8 image in the mesh's UV space; light_dir: direction toward the
    light in camera space (+z toward the viewer); size: output width = height in pixels;
    samples: MSAA samples (0 = none: 4x costs about 2.5x the CPU time on llvmpipe, and previews
    go through H.264 anyway; stills such as the contact sheet ask for 4).
    """

    def __init__(self, size: int = 512, texture: np.ndarray | None = None,
                 light_dir: Iterable[float] = LIGHT_DIR, rig: FaceRig | None = None,
                 background: tuple[float, float, float] = BACKGROUND, samples: int = 0):
        if not 16 <= size <= 4096:
            raise TalkstyleError(f"render size must be in [16, 4096], got {size}")
        self.size = int(size)
        self.rig = rig or FaceRig.default()
        self.light_dir = np.asarray(list(light_dir), np.float32)
        self.light_dir /= np.linalg.norm(self.light_dir)
        self.background = background
        if texture is None:
            from .paint import default_texture

            texture = default_texture()
        self.texture = _check_texture(texture)
        self.mvp = camera_matrix(self.size)
        self._normals = _Normals(self.rig.triangles, len(self.rig.neutral))
        self._gl = None
        try:
            self._gl = _GLBackend(self, samples)
        except Exception as e:  # noqa: BLE001 - any EGL/driver failure means: use the fallback
            print(f"talkstyle: EGL rendering unavailable ({e.__class__.__name__}: {e}); "
                  "using the slow numpy rasteriser", file=sys.stderr)

    @property
    def backend(self) -> str:
        return "egl" if self._gl is not None else "numpy"

    def render(self, vertices: np.ndarray) -> Iterator[np.ndarray]:
        """Yield one (size, size, 3) uint8 frame per (468,3) vertex set."""
        vertices = np.asarray(vertices, np.float32)
        if vertices.ndim == 2:
            vertices = vertices[None]
        if vertices.ndim != 3 or vertices.shape[1:] != self.rig.neutral.shape:
            raise TalkstyleError(f"vertices must be (T, 468, 3), got {vertices.shape}")
        for v in vertices:
            n = self._normals(v)
            yield self._gl.frame(v, n) if self._gl is not None else _numpy_frame(self, v, n)

    def render_frame(self, vertices: np.ndarray) -> np.ndarray:
        return next(self.render(vertices[None]))

    def release(self) -> None:
        if self._gl is not None:
            self._gl.release()
            self._gl = None


def _check_texture(texture: np.ndarray) -> np.ndarray:
    t = np.asarray(texture)
    if t.ndim != 3 or t.shape[2] != 3 or t.dtype != np.uint8:
        raise TalkstyleError(f"texture must be an (H, W, 3) uint8 image, got {t.shape} {t.dtype}")
    return np.ascontiguousarray(t)


class _GLBackend:
    def __init__(self, r: Renderer, samples: int):
        import moderngl

        self.r = r
        self.ctx = ctx = moderngl.create_context(standalone=True, backend="egl")
        self.prog = ctx.program(vertex_shader=_VERT, fragment_shader=_FRAG)
        n = len(r.rig.neutral)
        self.pos = ctx.buffer(reserve=n * 12)
        self.nrm = ctx.buffer(reserve=n * 12)
        uv = ctx.buffer(r.rig.uvs.astype(np.float32).tobytes())
        content = [(self.pos, "3f", "in_pos"), (self.nrm, "3f", "in_normal"), (uv, "2f", "in_uv")]
        self.skin = ctx.vertex_array(self.prog, content, ctx.buffer(r.rig.triangles.astype(np.int32).tobytes()))
        self.fill = ctx.vertex_array(self.prog, content, ctx.buffer(r.rig.fill_triangles.astype(np.int32).tobytes()))
        size = (r.size, r.size)
        self.fbo = ctx.framebuffer(ctx.renderbuffer(size), ctx.depth_renderbuffer(size))
        self.ms_fbo = self.fbo if samples <= 0 else ctx.framebuffer(
            ctx.renderbuffer(size, samples=samples), ctx.depth_renderbuffer(size, samples=samples))
        self.prog["mvp"].write(r.mvp.T.astype(np.float32).tobytes())   # GLSL is column-major
        self.prog["light_dir"].value = tuple(r.light_dir)
        self.tex = None
        if r.texture is not None:
            h, w = r.texture.shape[:2]
            self.tex = ctx.texture((w, h), 3, r.texture.tobytes())
            self.tex.build_mipmaps()
            self.tex.use(0)
            self.prog["tex"].value = 0

    def frame(self, v: np.ndarray, n: np.ndarray) -> np.ndarray:
        import moderngl

        ctx, prog = self.ctx, self.prog
        self.pos.write(v.tobytes())
        self.nrm.write(n.tobytes())
        self.ms_fbo.use()
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.clear(*self.r.background, depth=1.0)
        prog["textured"].value = self.tex is not None
        prog["lit"].value = True
        prog["base"].value = SKIN
        prog["depth_bias"].value = 0.0
        self.skin.render()
        prog["textured"].value = False
        prog["lit"].value = False
        prog["base"].value = INTERIOR
        prog["depth_bias"].value = 0.002
        self.fill.render()
        if self.ms_fbo is not self.fbo:
            ctx.copy_framebuffer(self.fbo, self.ms_fbo)      # resolve the multisampled image
        img = np.frombuffer(self.fbo.read(components=3), np.uint8).reshape(self.r.size, self.r.size, 3)
        return img[::-1].copy()   # GL rows run bottom-up

    def release(self) -> None:
        self.ctx.release()


def _numpy_frame(r: Renderer, v: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Fallback z-buffer rasteriser with per-vertex (Gouraud) shading."""
    size = r.size
    clip = np.c_[v, np.ones(len(v))] @ r.mvp.T
    ndc = clip[:, :3] / clip[:, 3:]
    xy = np.c_[(ndc[:, 0] + 1) * size / 2, (1 - ndc[:, 1]) * size / 2]
    depth = ndc[:, 2]
    if r.texture is not None:
        h, w = r.texture.shape[:2]
        uv = r.rig.uvs
        albedo = r.texture[np.clip((uv[:, 1] * h).astype(int), 0, h - 1),
                           np.clip((uv[:, 0] * w).astype(int), 0, w - 1)] / 255.0
    else:
        albedo = np.broadcast_to(SKIN, v.shape)
    diffuse = np.clip(n @ r.light_dir, 0, None)[:, None]
    shade = np.clip(albedo * (0.32 + 0.72 * diffuse), 0, 1)
    img = np.broadcast_to(np.asarray(r.background, np.float64), (size, size, 3)).copy()
    zbuf = np.full((size, size), np.inf)
    for tris, colour, bias in ((r.rig.triangles, shade, 0.0),
                               (r.rig.fill_triangles, np.broadcast_to(INTERIOR, v.shape), 0.002)):
        for tri in tris:
            _fill_triangle(img, zbuf, xy[tri], depth[tri] + bias, colour[tri])
    return (img * 255 + 0.5).astype(np.uint8)


def _fill_triangle(img, zbuf, p, z, col) -> None:
    x0, y0 = np.floor(p.min(0)).astype(int)
    x1, y1 = np.ceil(p.max(0)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, img.shape[1] - 1), min(y1, img.shape[0] - 1)
    if x1 < x0 or y1 < y0:
        return
    ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1] + 0.5
    (ax, ay), (bx, by), (cx, cy) = p
    area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    if abs(area) < 1e-9:
        return
    w0 = ((bx - xs) * (cy - ys) - (by - ys) * (cx - xs)) / area
    w1 = ((cx - xs) * (ay - ys) - (cy - ys) * (ax - xs)) / area
    w2 = 1 - w0 - w1
    inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
    zz = w0 * z[0] + w1 * z[1] + w2 * z[2]
    sub = zbuf[y0:y1 + 1, x0:x1 + 1]
    win = inside & (zz < sub)
    sub[win] = zz[win]
    colour = w0[..., None] * col[0] + w1[..., None] * col[1] + w2[..., None] * col[2]
    img[y0:y1 + 1, x0:x1 + 1][win] = colour[win]
