"""The dataset store: a folder of clips and a Parquet manifest, safe to crash and to rerun.

    DIR/dataset.json        build settings and the person -> split table (written by the engine)
    DIR/clips/<id>.npz      FaceMotion with audio; metadata holds prompt, line, person, phones
    DIR/clips/<id>.wav      the audio, for listening
    DIR/rows/<id>.json      one manifest row per clip: the append log, written last
    DIR/manifest.parquet    all rows, sorted by clip id (compacted from rows/)

Every file is written atomically and a clip's row only after its files, so a clip either has a
row and complete files or is simply not there yet; a crash never leaves a corrupt manifest.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..atomic import atomic_path, write_text
from ..audio.io import save_wav
from ..errors import TalkstyleError
from ..face.motion import DEFAULT_FPS, FaceMotion
from .prompts import prompt_from_dict, prompt_to_dict
from .records import ClipRecord, SynthClip
from ..vocab.attributes import Phone, Prompt

SPLITS = ("train", "val", "test")
ROW_TEXT_FIELDS = ("clip_id", "person", "split", "motion_path", "sha256")
MANIFEST_COLUMNS = ("clip_id", "person", "split", "motion_path", "sha256")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
ATTRIBUTE_COLUMNS = ("subject", "gender", "age_group", "emotion", "family", "intensity", "level",
                     "head_motion", "delivery")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def split_for_person(person: str) -> str:
    """A stable split for a person the dataset has no table entry for (80/10/10 by hash)."""
    u = int(hashlib.sha256(person.encode()).hexdigest()[:8], 16) / 2**32
    return "train" if u < SPLIT_FRACTIONS[0] else "val" if u < SPLIT_FRACTIONS[0] + SPLIT_FRACTIONS[1] else "test"


@dataclasses.dataclass
class Window:
    """A training window of one clip: `length` frames (fewer at the end of a short clip) with audio,
    and the `context` frames before it (None at the start of the clip)."""
    clip_id: str
    person: str
    prompt: Prompt
    start: int
    motion: FaceMotion
    context: FaceMotion | None


class Dataset:
    """A dataset folder. `Dataset(dir)` opens (and with create=True makes) one."""

    def __init__(self, root: str | Path, create: bool = False):
        self.root = Path(root)
        if create:
            if self.root.exists() and not self.root.is_dir():
                raise TalkstyleError(f"not a folder: {self.root}")
            (self.root / "clips").mkdir(parents=True, exist_ok=True)
            (self.root / "rows").mkdir(exist_ok=True)
        elif not (self.root / "rows").is_dir():
            raise TalkstyleError(f"not a talkstyle dataset (no rows/ folder): {self.root}")
        self._manifest = None

    # ---------------------------------------------------------------- settings
    @property
    def config_path(self) -> Path:
        return self.root / "dataset.json"

    def config(self) -> dict[str, Any]:
        if not self.config_path.is_file():
            return {}
        try:
            config = json.loads(self.config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            config = None
        if not isinstance(config, dict) or not isinstance(config.get("persons", {}), dict):
            raise TalkstyleError(
                f"{self.config_path} is damaged (not a JSON object of build settings): restore it, or "
                "delete it and rerun the same `talkstyle data build` command (same --seed and options) "
                "to write it again; the clips already made are kept")
        return config

    def write_config(self, config: dict[str, Any]) -> None:
        write_text(self.config_path, json.dumps(config, indent=1, sort_keys=True))

    def split_of(self, person: str) -> str:
        """The person's split: from the build's person table, else by hash."""
        entry = self.config().get("persons", {}).get(person)
        return entry["split"] if entry else split_for_person(person)

    # ---------------------------------------------------------------- writing
    def has(self, clip_id: str) -> bool:
        return (self.root / "rows" / f"{clip_id}.json").is_file()

    def read_row(self, path: Path) -> dict[str, Any]:
        """One row of the row log, checked; a damaged one raises TalkstyleError saying how to recover."""
        try:
            row = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            row = None
        except OSError as e:
            raise TalkstyleError(f"cannot read {path}: {e.strerror or e}") from None
        if not isinstance(row, dict) or row.get("clip_id") != path.stem or \
                any(not isinstance(row.get(k), str) for k in ROW_TEXT_FIELDS):
            raise TalkstyleError(
                f"dataset row {path} is damaged: run `talkstyle data verify {self.root} --repair` to drop "
                "it; rerunning the build (or import) then makes that clip again")
        return row

    def problem(self, clip_id: str, row: dict[str, Any] | None = None) -> str | None:
        """What is wrong with a stored clip (damaged row, missing, truncated or changed files),
        or None when it is intact: the row's size and checksum are checked against the file."""
        path = self.root / "rows" / f"{clip_id}.json"
        if row is None:
            if not path.is_file():
                return "no row"
            try:
                row = self.read_row(path)
            except TalkstyleError:
                return f"damaged row rows/{clip_id}.json"
        motion = self.root / row["motion_path"]
        if not motion.is_file():
            return f"missing {row['motion_path']}"
        size = row.get("size")
        if isinstance(size, int) and motion.stat().st_size != size:
            return f"size mismatch for {row['motion_path']} ({motion.stat().st_size} bytes, the row says {size})"
        if file_sha256(motion) != row["sha256"]:
            return f"checksum mismatch for {row['motion_path']}"
        for key in ("audio_path", "video_path"):
            if row.get(key) and not (self.root / row[key]).is_file():
                return f"missing {row[key]}"
        return None

    def intact(self, clip_id: str) -> bool:
        return self.problem(clip_id) is None

    def remove(self, clip_id: str) -> None:
        """Forget a clip: its row first (so it is not done any more), then its files."""
        (self.root / "rows" / f"{clip_id}.json").unlink(missing_ok=True)
        for p in (self.root / "clips").glob(f"{clip_id}.*"):
            p.unlink(missing_ok=True)
        self._manifest = None

    def add(self, clip: SynthClip, clip_id: str | None = None, backend: str = "external",
            augmented: str = "", source_clip: str = "", split: str | None = None,
            video: Path | None = None) -> str:
        """Store one clip (any backend: motion + audio + prompt) and its manifest row. Returns its id."""
        m = clip.motion
        if m.fps != DEFAULT_FPS:
            m = m.resample(DEFAULT_FPS)
        clip_id = clip_id or "x" + hashlib.sha256(
            f"{clip.person}|{clip.prompt.text}|{clip.line}|{m.num_frames}".encode()).hexdigest()[:15]
        if not clip_id.replace("-", "").replace("_", "").isalnum():
            raise TalkstyleError(f"clip id must be letters, digits, - or _: {clip_id!r}")
        split = split or self.split_of(clip.person)
        if split not in SPLITS:
            raise TalkstyleError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        metadata = {**m.metadata, "clip_id": clip_id, "prompt": prompt_to_dict(clip.prompt), "line": clip.line,
                    "person": clip.person, "phones": [[p.symbol, p.start, p.end] for p in clip.phones],
                    "has_speech_audio": clip.has_speech_audio}
        clips = self.root / "clips"
        npz = clips / f"{clip_id}.npz"
        dataclasses.replace(m, metadata=metadata).save(npz)
        wav = clips / f"{clip_id}.wav"
        if m.audio is not None:
            save_wav(wav, m.audio, m.sample_rate)
        if video is not None:
            with atomic_path(clips / f"{clip_id}.mp4") as tmp:
                shutil.copyfile(video, tmp)
        row = {
            "clip_id": clip_id, "person": clip.person, "split": split,
            **{k: v for k, v in clip.prompt.attributes.to_dict().items() if k in ATTRIBUTE_COLUMNS},
            "prompt": clip.prompt.text, "line": clip.line, "duration": round(m.duration, 4),
            "num_frames": m.num_frames, "motion_path": f"clips/{clip_id}.npz",
            "audio_path": f"clips/{clip_id}.wav" if m.audio is not None else "",
            "video_path": f"clips/{clip_id}.mp4" if video is not None else "",
            "sha256": file_sha256(npz), "size": npz.stat().st_size, "backend": backend, "augmented": augmented,
            "source_clip": source_clip,
        }
        write_text(self.root / "rows" / f"{clip_id}.json", json.dumps(row, sort_keys=True))
        self._manifest = None
        return clip_id

    def clean_partial(self) -> int:
        """Remove temporary files a killed writer left behind (atomic writes name them .<name>.*)."""
        leftovers = [*(self.root / "clips").glob(".*"), *(self.root / "rows").glob(".*"),
                     *self.root.glob(".manifest.parquet.*"), *self.root.glob(".dataset.json.*")]
        for p in leftovers:
            p.unlink()
        return len(leftovers)

    def compact(self):
        """Rewrite manifest.parquet from the row log (atomically). Returns the manifest DataFrame."""
        df = self._read_rows()
        with atomic_path(self.root / "manifest.parquet") as tmp:
            df.to_parquet(tmp, index=False)
        self._manifest = df
        return df

    def _read_rows(self):
        import pandas as pd

        rows = [self.read_row(p) for p in sorted((self.root / "rows").glob("*.json"))]
        if not rows:
            return pd.DataFrame(columns=["clip_id", "person", "split", *ATTRIBUTE_COLUMNS, "prompt", "line",
                                         "duration", "num_frames", "motion_path", "audio_path", "video_path",
                                         "sha256", "backend", "augmented", "source_clip"])
        return pd.DataFrame(rows).sort_values("clip_id", kind="stable").reset_index(drop=True)

    # ---------------------------------------------------------------- reading
    @property
    def manifest(self):
        """All rows (pandas DataFrame). Taken from the row log when manifest.parquet is behind it
        (fewer rows, or a row written after it)."""
        import pandas as pd

        if self._manifest is None:
            path = self.root / "manifest.parquet"
            rows = [p.stat().st_mtime for p in (self.root / "rows").glob("*.json")]
            fresh = path.is_file() and path.stat().st_mtime >= max(rows, default=0.0)
            df = None
            if fresh:
                try:
                    df = pd.read_parquet(path)
                except Exception:  # noqa: BLE001 - a damaged manifest is only a cache of rows/
                    df = None
                if df is not None and not set(MANIFEST_COLUMNS) <= set(df.columns):
                    df = None
            # manifest.parquet is a compaction of rows/: when it is behind or damaged, rows/ is the truth.
            self._manifest = df if df is not None and len(df) == len(rows) else self._read_rows()
        return self._manifest

    def __len__(self) -> int:
        return len(self.manifest)

    def clip_ids(self, split: str | None = None) -> list[str]:
        df = self.manifest
        if split is not None:
            if split not in SPLITS:
                raise TalkstyleError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
            df = df[df["split"] == split]
        return list(df["clip_id"])

    def record(self, clip_id: str) -> ClipRecord:
        rows = self.manifest[self.manifest["clip_id"] == clip_id]
        if rows.empty:
            raise TalkstyleError(f"no clip {clip_id!r} in {self.root}")
        row = rows.iloc[0]
        motion = FaceMotion.load(self.root / row["motion_path"])
        meta = motion.metadata
        return ClipRecord(clip_id=clip_id, person=row["person"], split=row["split"],
                          prompt=prompt_from_dict(meta["prompt"]), line=row["line"], motion=motion,
                          phones=[Phone(s, float(a), float(b)) for s, a, b in meta.get("phones", [])])

    def records(self, split: str | None = None) -> list[ClipRecord]:
        return [self.record(c) for c in self.clip_ids(split)]

    def windows(self, split: str | None = None, length: int = 100, context: int = 10,
                stride: int | None = None, min_length: int = 25, shuffle: bool = False,
                seed: int = 0) -> Iterator[Window]:
        """Training windows: consecutive `length`-frame windows of each clip (stride defaults to
        `length`, as generation chains them), each with the `context` frames before it. A clip's
        last window may be shorter; one under `min_length` frames is skipped (unless it is the
        whole clip)."""
        if length < 1 or context < 0 or min_length < 1:
            raise TalkstyleError("window length and min_length must be >= 1, context >= 0")
        stride = stride or length
        ids = self.clip_ids(split)
        if shuffle:
            ids = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
        for cid in ids:
            rec = self.record(cid)
            T = rec.motion.num_frames
            for start in range(0, T, stride):
                if start > 0 and T - start < min_length:
                    break
                ctx = rec.motion.slice(max(0, start - context), start) if start > 0 and context > 0 else None
                yield Window(cid, rec.person, rec.prompt, start, rec.motion.slice(start, min(T, start + length)), ctx)

    def verify(self, progress: bool = False) -> list[str]:
        """Problems found, one per damaged clip ("ID: what"): damaged rows, missing or truncated
        files, checksum mismatches. Empty when the dataset is sound."""
        from tqdm import tqdm

        problems = []
        for path in tqdm(sorted((self.root / "rows").glob("*.json")), desc="verify", unit="clip",
                         disable=not progress, leave=False):
            problem = self.problem(path.stem)
            if problem:
                problems.append(f"{path.stem}: {problem}")
        return problems

    def repair(self) -> list[str]:
        """Remove every damaged clip (row and files) and rewrite the manifest; returns the
        problems fixed. A rerun of the build or import then makes those clips again."""
        problems = self.verify()
        for p in problems:
            self.remove(p.split(":", 1)[0])
        self.clean_partial()
        self.compact()
        return problems
