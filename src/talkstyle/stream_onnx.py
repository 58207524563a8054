"""The streaming model as one ONNX graph, for engines (Unity Sentis, Unreal NNE, onnxruntime).

The graph holds the whole step, so an engine feeds raw samples and reads ARKit weights:

    inputs   audio  (1, 240 + 640 F) float32  16 kHz mono: the 240 samples before this step's
                                              frames, then 640 new samples per frame (F >= 1)
             style  (1, 64)                   a style vector (styles.json, written beside it)
             state  (layers, 1, hidden)       zeros at the start of a stream, then state_out
             history (1, context, 320)        with a lip-contact component only: the features it
                                              still needs from before (styles.json's
                                              history_fill at a stream's start), then history_out
    outputs  motion (1, F, 55)                52 ARKit weights in [0, 1] (lips sealed at p/b/m)
                                              then head pitch, yaw, roll in radians
             state_out
             history_out                      (with a lip-contact component)

The first `lookahead` motion rows of a stream belong to no frame (the net's delay line): drop
them, then row r is frame r - lookahead. Keep a buffer that starts with 200 zeros; whenever it
holds 240 + 640 F samples, run the step on them and drop the first 640 F. That is exactly what
talkstyle.stream.StreamAnimator does, and the test compares the two frame by frame.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .atomic import atomic_path, write_text
from .audio.incremental import LogMel, normalise
from .errors import TalkstyleError
from .face.arkit import ARKIT_NAMES, NUM_BLENDSHAPES
from .face.blinks import BlinkShaper
from .face.lip_seal import seal_lips
from .model.contact import LipContact
from .model.stream import StreamNet
from .stream import DEFAULT_STREAM_MODEL, HEAD_LIMIT, Frame, StreamAnimator

OPSET = 17
ONNX_FILE, STYLES_FILE = "talkstyle_stream.onnx", "styles.json"


class StreamStep(nn.Module):
    """Samples + style + state (+ feature history) -> motion + state (+ history): the front end,
    the net, the lip contact seal and the output limits."""

    def __init__(self, net: StreamNet, contact: LipContact | None):
        super().__init__()
        self.log_mel, self.net, self.contact = LogMel(), net, contact

    def forward(self, audio: torch.Tensor, style: torch.Tensor, state: torch.Tensor,
                history: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        feats = normalise(self.log_mel(audio))
        y, state = self.net(feats, style[:, None].expand(-1, feats.shape[1], -1), state)
        x = self.net.denormalise(y)
        weights = torch.clamp(x[..., :NUM_BLENDSHAPES], 0.0, 1.0)
        head = torch.clamp(x[..., NUM_BLENDSHAPES:], -HEAD_LIMIT, HEAD_LIMIT)
        if self.contact is None:
            return torch.cat([weights, head], -1), state
        window = torch.cat([history, feats], 1)
        closure = self.contact.ramp(torch.sigmoid(self.contact.step(window)))
        return torch.cat([seal_lips(weights, closure), head], -1), state, window[:, -self.contact.cfg.context:]


def export_onnx(dest: str | Path, checkpoint: str | Path | None = None, styles: list[str] = ()) -> Path:
    """Write talkstyle_stream.onnx and styles.json (the null style and the vectors of `styles`)
    into `dest`; returns the ONNX file."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise TalkstyleError(f"--out must be a folder: {dest}")
    animator = StreamAnimator(None, checkpoint, lip_contact="log-mel")     # the one a graph can hold
    vectors = {"": animator.style_vector(None).tolist()}
    for prompt in styles:
        vectors[prompt] = animator.style_vector(prompt).tolist()
    net, contact = animator.net, animator.contact
    step = StreamStep(net, contact).eval()
    dest.mkdir(parents=True, exist_ok=True)
    example = (torch.zeros(1, 240 + 640 * 2), torch.zeros(1, net.cfg.style_dim), net.initial_state())
    inputs, outputs = ["audio", "style", "state"], ["motion", "state_out"]
    if contact is not None:
        example += (torch.zeros(1, contact.cfg.context, net.cfg.feature_dim),)
        inputs, outputs = inputs + ["history"], outputs + ["history_out"]
    with atomic_path(dest / ONNX_FILE, suffix=".onnx") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the exporter's notes on GRU batch sizes are not the user's
        torch.onnx.export(step, example, str(tmp), input_names=inputs, output_names=outputs, opset_version=OPSET,
                          dynamo=False, dynamic_axes={"audio": {1: "samples"}, "motion": {1: "frames"}})
    meta = {"format": "talkstyle-stream-onnx", "version": 1, "sample_rate": 16000, "fps": net.cfg.fps,
            "lookahead": net.cfg.lookahead, "context_samples": 240, "samples_per_frame": 640,
            "lead_zeros": 200, "state_shape": list(net.initial_state().shape),
            "history_shape": list(example[3].shape) if contact is not None else None,
            "history_fill": contact.cfg.pad_value if contact is not None else None,
            "outputs": list(ARKIT_NAMES) + ["headPitch", "headYaw", "headRoll"],
            "checkpoint": str(checkpoint or DEFAULT_STREAM_MODEL), "styles": vectors}
    write_text(dest / STYLES_FILE, json.dumps(meta, indent=1) + "\n")
    return dest / ONNX_FILE


def read_styles(folder: str | Path) -> dict:
    return json.loads((Path(folder) / STYLES_FILE).read_text())


class OnnxAnimator:
    """The exported graph run by onnxruntime with the buffering an engine does: a reference for
    porting it (C#, C++), and the check that the export gives StreamAnimator's frames."""

    def __init__(self, folder: str | Path, style: str = "", *, threads: int = 1):
        import onnxruntime as ort

        folder = Path(folder)
        if not (folder / ONNX_FILE).is_file():
            raise TalkstyleError(f"no {ONNX_FILE} in {folder}: run talkstyle export-onnx first")
        self.meta = read_styles(folder)
        if style not in self.meta["styles"]:
            raise TalkstyleError(f"style {style!r} was not exported to {folder / STYLES_FILE}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), opts, providers=["CPUExecutionProvider"])
        self.style = np.asarray(self.meta["styles"][style], np.float32)[None]
        self.blinks = BlinkShaper(self.meta["fps"])     # after the graph, as StreamAnimator does
        self.reset()

    def reset(self) -> None:
        self.buffer = np.zeros(self.meta["lead_zeros"], np.float32)
        self.state = np.zeros(self.meta["state_shape"], np.float32)
        shape = self.meta.get("history_shape")
        self.history = None if shape is None else np.full(shape, self.meta["history_fill"], np.float32)
        self.rows = 0
        self.blinks.reset()

    def push(self, samples: np.ndarray) -> list[Frame]:
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, np.float32)])
        per, ctx = self.meta["samples_per_frame"], self.meta["context_samples"]
        n = (len(self.buffer) - ctx) // per
        if n <= 0:
            return []
        feed = {"audio": self.buffer[None, :ctx + n * per], "style": self.style, "state": self.state}
        if self.history is None:
            motion, self.state = self.session.run(None, feed)
        else:
            motion, self.state, self.history = self.session.run(None, {**feed, "history": self.history})
        self.buffer = self.buffer[n * per:]
        frames = []
        for row in motion[0]:
            i = self.rows - self.meta["lookahead"]
            self.rows += 1
            if i >= 0:
                frames.append(Frame(i, i / self.meta["fps"], self.blinks(row[:NUM_BLENDSHAPES]), row[NUM_BLENDSHAPES:]))
        return frames
