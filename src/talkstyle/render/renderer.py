"""Headless preview renderer for FaceRig vertices.

moderngl on EGL (Mesa's software rasteriser: no display, no GPU needed). Where EGL cannot be
opened, a numba z-buffer rasteriser takes over (slower; a message says so).

Shading: smooth vertex normals, one directional light plus ambient, a skin colour or an RGB
texture in the mesh's UV space (u to the right, v downward, as MediaPipe's canonical UVs);
the mouth and eye openings are filled with a dark interior drawn just behind the lips and lids.
With `head=True` the rest of the head (face/head_parts.py: eyeballs, teeth, tongue, mouth
interior, skull, hair, neck) is drawn instead of that fill, each part in its own flat colour;
`render(vertices, parts)` then takes the posed part vertices too (`render_motion` does both).
"""
from __future__ import annotations

import sys
from typing import Iterable, Iterator

import numba
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
uniform float depth_bias; uniform bool per_vertex;
uniform vec3 base; uniform bool lit;
in vec3 in_pos; in vec3 in_normal; in vec2 in_uv; in vec4 in_colour;
out vec3 v_normal; out vec2 v_uv; flat out vec4 v_colour;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    gl_Position.z += depth_bias * gl_Position.w;   // the interior fill sits just behind the surface
    v_normal = in_normal; v_uv = in_uv;
    // head parts carry their colour and lit flag per vertex, so all of them go in one draw call
    v_colour = per_vertex ? in_colour : vec4(base, lit ? 1.0 : 0.0);
}
"""
_FRAG = """
#version 330
uniform vec3 light_dir; uniform bool textured;
uniform sampler2D tex;
in vec3 v_normal; in vec2 v_uv; flat in vec4 v_colour;
out vec4 color;
void main() {
    vec3 n = normalize(v_normal);
    bool lit = v_colour.a > 0.5;
    vec3 albedo = textured ? texture(tex, v_uv).rgb : v_colour.rgb;
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
    go through H.264 anyway; stills such as the contact sheet ask for 4); backend: "auto" (EGL,
    else numpy with a message), "egl" or "numpy".

    A context manager: `with Renderer(...) as r:` releases the GL context however the block ends.
    """

    def __init__(self, size: int = 512, texture: np.ndarray | None = None,
                 light_dir: Iterable[float] = LIGHT_DIR, rig: FaceRig | None = None,
                 background: tuple[float, float, float] = BACKGROUND, samples: int = 0,
                 backend: str = "auto", head: bool = False):
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
        self.parts = None
        if head:
            from ..face.head_parts import HeadParts

            self.parts = HeadParts.default()
            self._part_normals = _Normals(self.parts.triangles, len(self.parts.vertices))
        if backend not in ("auto", "egl", "numpy"):
            raise TalkstyleError(f"unknown render backend {backend!r} (auto, egl, numpy)")
        self._gl = None
        if backend == "numpy":
            return
        try:
            self._gl = _GLBackend(self, samples)
        except Exception as e:  # noqa: BLE001 - any EGL/driver failure means: use the fallback
            if backend == "egl":
                raise TalkstyleError(f"EGL rendering unavailable: {e}") from None
            print(f"talkstyle: EGL rendering unavailable ({e.__class__.__name__}: {e}); "
                  "using the slower numba rasteriser", file=sys.stderr)

    @property
    def backend(self) -> str:
        return "egl" if self._gl is not None else "numpy"

    def render(self, vertices: np.ndarray, parts: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Yield one (size, size, 3) uint8 frame per (468,3) vertex set; with `head=True`, `parts`
        are the matching (T, N, 3) posed head parts (HeadParts.pose)."""
        vertices = np.asarray(vertices, np.float32)
        if vertices.ndim == 2:
            vertices = vertices[None]
        if vertices.ndim != 3 or vertices.shape[1:] != self.rig.neutral.shape:
            raise TalkstyleError(f"vertices must be (T, 468, 3), got {vertices.shape}")
        if (parts is None) != (self.parts is None):
            raise TalkstyleError("head parts are drawn by a Renderer(head=True), and it needs them")
        if parts is not None:
            parts = np.asarray(parts, np.float32).reshape(len(vertices), -1, 3)
        for i, v in enumerate(vertices):
            n = self._normals(v)
            p = None if parts is None else (parts[i], self._part_normals(parts[i]))
            yield self._gl.frame(v, n, p) if self._gl is not None else _numpy_frame(self, v, n, p)

    def render_frame(self, vertices: np.ndarray, parts: np.ndarray | None = None) -> np.ndarray:
        return next(self.render(vertices[None], None if parts is None else parts[None]))

    def render_motion(self, motion) -> Iterator[np.ndarray]:
        """Frames of a FaceMotion: the rig decoded, and the head parts posed when drawn."""
        vertices = self.rig.decode(motion)
        parts = None if self.parts is None else self.parts.pose(motion.weights, motion.head)
        return self.render(vertices, parts)

    def release(self) -> None:
        """Free the GL context (idempotent); `with` calls it."""
        if self._gl is not None:
            self._gl.release()
            self._gl = None

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


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
        self.parts = None
        if r.parts is not None:
            # One draw call for every part (a draw costs llvmpipe about 0.3 ms): each vertex
            # carries its part's colour and lit flag; the groups do not share vertices.
            m = len(r.parts.vertices)
            colours = np.zeros((m, 4), np.float32)
            for tris, colour, lit, _ in r.parts.groups:
                colours[np.unique(tris)] = (*colour, float(lit))
            self.part_pos, self.part_nrm = ctx.buffer(reserve=m * 12), ctx.buffer(reserve=m * 12)
            part_content = [(self.part_pos, "3f", "in_pos"), (self.part_nrm, "3f", "in_normal"),
                            (ctx.buffer(np.zeros((m, 2), np.float32).tobytes()), "2f", "in_uv"),
                            (ctx.buffer(colours.tobytes()), "4f", "in_colour")]
            tris = np.concatenate([g[0] for g in r.parts.groups]).astype(np.int32)
            self.parts = ctx.vertex_array(self.prog, part_content, ctx.buffer(tris.tobytes()))

    def frame(self, v: np.ndarray, n: np.ndarray, parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
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
        if parts is None:
            prog["lit"].value = False
            prog["base"].value = INTERIOR
            prog["depth_bias"].value = 0.002
            self.fill.render()
        else:
            self.part_pos.write(parts[0].tobytes())
            self.part_nrm.write(parts[1].tobytes())
            prog["per_vertex"].value = True
            self.parts.render()
            prog["per_vertex"].value = False
        if self.ms_fbo is not self.fbo:
            ctx.copy_framebuffer(self.fbo, self.ms_fbo)      # resolve the multisampled image
        img = np.frombuffer(self.fbo.read(components=3), np.uint8).reshape(self.r.size, self.r.size, 3)
        return img[::-1].copy()   # GL rows run bottom-up

    def release(self) -> None:
        self.ctx.release()


def _numpy_frame(r: Renderer, v: np.ndarray, n: np.ndarray,
                 parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Fallback: a numba z-buffer rasteriser. Lighting is per vertex (Gouraud), the texture is
    sampled per pixel at the interpolated UV; the interior fill sits just behind the surface.
    Head parts are flat colours from a palette (flag 2 + their group index)."""
    size = r.size
    mvp = r.mvp

    def project(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        clip = np.c_[p, np.ones(len(p))] @ mvp.T
        ndc = clip[:, :3] / clip[:, 3:]
        return np.c_[(ndc[:, 0] + 1) * size / 2, (1 - ndc[:, 1]) * size / 2], ndc[:, 2]

    xy, z = project(v)
    light = 0.32 + 0.72 * np.clip(n @ r.light_dir, 0, None)
    attrs = np.c_[light, r.rig.uvs].astype(np.float64)          # per vertex: light, u, v
    zbuf = np.full((size, size), np.inf)
    buf = np.zeros((size, size, 4))                              # light, u, v, flag
    _raster(xy, z, attrs, r.rig.triangles, 0.0, 0.0, zbuf, buf)
    palette = np.asarray([INTERIOR], np.float64) * 255.0
    if parts is None:
        _raster(xy, z, attrs, r.rig.fill_triangles, 0.002, 1.0, zbuf, buf)
    else:
        pxy, pz = project(parts[0])
        plight = 0.32 + 0.72 * np.clip(parts[1] @ r.light_dir, 0, None)
        palette = np.asarray([INTERIOR] + [c for _, c, _, _ in r.parts.groups], np.float64) * 255.0
        for g, (tris, _, lit, _) in enumerate(r.parts.groups):
            pattrs = np.c_[plight if lit else np.ones(len(plight)), np.zeros((len(plight), 2))]
            _raster(pxy, pz, pattrs, tris, 0.0, 2.0 + g, zbuf, buf)
    img = np.empty((size, size, 3), np.uint8)
    _shade(zbuf, buf, r.texture, palette, np.asarray(r.background) * 255.0, img)
    return img


@numba.njit(cache=True)
def _shade(zbuf, buf, texture, palette, background, img):
    """Per pixel: background, dark interior (flag 1), a head part's colour times its lighting
    (flag 2 + part), or the texel at (u, v) times the lighting."""
    th, tw = texture.shape[0], texture.shape[1]
    for y in range(zbuf.shape[0]):
        for x in range(zbuf.shape[1]):
            if zbuf[y, x] == np.inf:
                for k in range(3):
                    img[y, x, k] = np.uint8(background[k] + 0.5)
            elif buf[y, x, 3] > 1.5:
                g = int(buf[y, x, 3] - 1.0 + 0.5)
                for k in range(3):
                    img[y, x, k] = np.uint8(min(palette[g, k] * buf[y, x, 0], 255.0) + 0.5)
            elif buf[y, x, 3] > 0.5:
                for k in range(3):
                    img[y, x, k] = np.uint8(palette[0, k] + 0.5)
            else:
                ty = min(max(int(buf[y, x, 2] * th), 0), th - 1)
                tx = min(max(int(buf[y, x, 1] * tw), 0), tw - 1)
                for k in range(3):
                    img[y, x, k] = np.uint8(min(texture[ty, tx, k] * buf[y, x, 0], 255.0) + 0.5)


@numba.njit(cache=True)
def _raster(xy, z, attrs, tris, bias, flag, zbuf, buf):
    """Fill triangles into zbuf/buf with barycentric interpolation of the vertex attributes."""
    h, w = zbuf.shape
    for t in range(tris.shape[0]):
        a, b, c = tris[t, 0], tris[t, 1], tris[t, 2]
        ax, ay, bx, by, cx, cy = xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1], xy[c, 0], xy[c, 1]
        area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        if abs(area) < 1e-12:
            continue
        x0, x1 = max(int(min(ax, bx, cx)), 0), min(int(max(ax, bx, cx)) + 1, w - 1)
        y0, y1 = max(int(min(ay, by, cy)), 0), min(int(max(ay, by, cy)) + 1, h - 1)
        for py in range(y0, y1 + 1):
            for px in range(x0, x1 + 1):
                sx, sy = px + 0.5, py + 0.5
                w0 = ((bx - sx) * (cy - sy) - (by - sy) * (cx - sx)) / area
                w1 = ((cx - sx) * (ay - sy) - (cy - sy) * (ax - sx)) / area
                w2 = 1.0 - w0 - w1
                if w0 < 0 or w1 < 0 or w2 < 0:
                    continue
                depth = w0 * z[a] + w1 * z[b] + w2 * z[c] + bias
                if depth >= zbuf[py, px]:
                    continue
                zbuf[py, px] = depth
                for k in range(3):
                    buf[py, px, k] = w0 * attrs[a, k] + w1 * attrs[b, k] + w2 * attrs[c, k]
                buf[py, px, 3] = flag
