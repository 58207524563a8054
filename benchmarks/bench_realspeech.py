"""Lip sync on real human speech, clean and degraded, beside two baselines, per recording and pooled.

Run: .venv/bin/python benchmarks/bench_realspeech.py [--checkpoint DIR|shipped ...] [--stream DIR|shipped ...]
     [--only clean|degraded] [--limit N] [--out report.md]

`--stream` scores a streaming model (talkstyle.stream) beside the offline ones: the audio is fed in
40 ms chunks as a live microphone would, and the frames a listener would have seen are scored.

Recordings and transcripts: benchmarks/realspeech/transcripts.tsv (../shared/realspeech and speech
shipped in registry packages; a missing one is skipped with a note). The clean audio is force-aligned
once (cached in ~/.cache/talkstyle/bench_realspeech), and those phone times score both the clean and
the degraded copy (a simulated distant microphone in a room with babble, street noise, a band limit
and a lossy codec: talkstyle.audio.degrade.far_field, seeded per recording, timing kept). Every
system's inner-lip gap is scored against the phones and the clean speech envelope
(talkstyle.eval.lipsync). Never train on these recordings.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TSV = ROOT / "benchmarks" / "realspeech" / "transcripts.tsv"
REALSPEECH = ROOT.parent / "shared" / "realspeech"
PROMPT = "A person speaks with a calm neutral expression."
ENVELOPE, PHONES = "jaw = envelope", "aligned-phone mouth (upper ref.)"
# (key in talkstyle.eval.lipsync.pooled, column title, format)
METRICS = [("bilabial_closed_fraction", "lips closed at p/b/m", "{:.2f}"),
           ("vowel_open_fraction", "mouth open at open vowels", "{:.2f}"),
           ("viseme_auc", "viseme AUC", "{:.2f}"),
           ("lag_correlation", "jaw-envelope r", "{:.2f}"),
           ("lag_ms", "lag ms", "{:+.0f}"),
           ("open_vowel_gap_mm", "open-vowel gap mm", "{:.1f}")]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", action="append", default=None,
                   help="model folder, or 'shipped' (default); repeat to compare models side by side")
    p.add_argument("--stream", action="append", default=[],
                   help="streaming model folder, or 'shipped'; repeat to compare (fed in --chunk-ms chunks). "
                        "FOLDER@log-mel or FOLDER@whisper picks its lip contact (default: the model's preferred)")
    p.add_argument("--chunk-ms", type=float, default=40.0, help="chunk size for the --stream models")
    p.add_argument("--only", choices=("clean", "degraded"), default=None, help="score one condition only")
    p.add_argument("--limit", type=int, default=None, help="first N recordings only")
    p.add_argument("--out", type=Path, default=None, help="write the markdown report here")
    p.add_argument("--seed", type=int, default=0, help="seed of the degradations")
    p.add_argument("--tsv", type=Path, default=TSV)
    p.add_argument("--realspeech-dir", type=Path, default=REALSPEECH)
    p.add_argument("--cache", type=Path, default=None, help="alignment cache (default ~/.cache/talkstyle/bench_realspeech)")
    return p.parse_args(argv)


def checkpoint_name(ckpt: str | None) -> str:
    return "talkstyle " + ("shipped" if ckpt is None else ckpt)


def stream_name(spec: str) -> str:
    folder, _, contact = spec.partition("@")
    return f"talkstyle streaming {folder}" + (f" ({contact} lip contact)" if contact else "")


def stream_of(spec: str) -> tuple[str | None, bool | str]:
    """--stream FOLDER[@CONTACT] -> (checkpoint or None for the shipped one, lip_contact)."""
    folder, _, contact = spec.partition("@")
    return (None if folder == "shipped" else folder), (contact or True)


def fmt(value: float, spec: str) -> str:
    return "-" if value is None or not np.isfinite(value) else spec.format(value)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    warnings.simplefilter("ignore")
    import torch

    from talkstyle.animate import animate
    from talkstyle.audio import load_audio
    from talkstyle.audio.degrade import far_field
    from talkstyle.audio.features import num_frames_for
    from talkstyle.errors import TalkstyleError
    from talkstyle.eval.lipsync import phone_gaps, pooled
    from talkstyle.eval.realspeech import AlignmentCache, envelope_jaw, load_recordings, phone_mouth, speaking_rate
    from talkstyle.face.rig import FaceRig
    from talkstyle.stream import animate_stream

    torch.set_num_threads(1)
    started = time.perf_counter()
    checkpoints = [None if c in (None, "shipped") else c for c in (args.checkpoint or [None])]
    models = [(checkpoint_name(c), c) for c in checkpoints]
    streams = [(stream_name(spec), stream_of(spec)) for spec in args.stream]
    if len({name for name, _ in models + streams}) < len(models) + len(streams):
        raise TalkstyleError("the same --checkpoint or --stream is given twice")
    systems = [name for name, _ in models + streams] + [ENVELOPE, PHONES]
    conditions = [args.only] if args.only else ["clean", "degraded"]

    recordings, audio, skipped = [], {}, []
    for rec in load_recordings(args.tsv):
        path = rec.path(args.realspeech_dir)
        if path is None:
            skipped.append(rec.id)
            continue
        recordings.append(rec)
        audio[rec.id] = load_audio(path)
    if skipped:
        print(f"not installed, skipped: {', '.join(skipped)}", flush=True)
    recordings = recordings[:args.limit] if args.limit else recordings
    if not recordings:
        raise TalkstyleError("no benchmark recordings found: see benchmarks/realspeech/transcripts.tsv")

    cache = AlignmentCache(args.cache)
    rig = FaceRig.default()
    gaps = {(s, c): {} for s in systems for c in conditions}     # (system, condition) -> {id: PhoneGaps}
    info = {}
    for i, rec in enumerate(recordings, 1):
        clean = audio[rec.id]
        t0 = time.perf_counter()
        phones, cached = cache.phones(clean, rec.align_text or rec.text)
        n = num_frames_for(len(clean))
        info[rec.id] = (len(clean) / 16000, speaking_rate(phones))
        line = [f"[{i}/{len(recordings)}] {rec.id} ({len(clean) / 16000:.1f} s): align {'cached' if cached else f'{time.perf_counter() - t0:.1f} s'}"]
        reference = phone_gaps(rig.mouth_opening(phone_mouth(phones, n)), 25.0, phones, clean)
        for cond in conditions:
            t0 = time.perf_counter()
            if cond == "clean":
                heard = clean
            else:
                # Babble from all the other installed recordings (never this one, and not only those
                # under --limit, so a recording's degraded copy is the same whatever the limit).
                others = [a for i, a in audio.items() if i != rec.id] or None
                heard, _ = far_field(clean, args.seed * 1_000_003 + zlib.crc32(rec.id.encode()), others)
            for name, ckpt in models:
                motion = animate(heard, PROMPT, checkpoint=ckpt, progress=False)
                gaps[name, cond][rec.id] = phone_gaps(rig.mouth_opening(motion), motion.fps, phones, clean)
            for name, (ckpt, contact) in streams:
                motion = animate_stream(heard, PROMPT, ckpt, chunk_seconds=args.chunk_ms / 1000, lip_contact=contact)
                gaps[name, cond][rec.id] = phone_gaps(rig.mouth_opening(motion), motion.fps, phones, clean)
            gaps[ENVELOPE, cond][rec.id] = phone_gaps(rig.mouth_opening(envelope_jaw(heard, n)), 25.0, phones, clean)
            gaps[PHONES, cond][rec.id] = reference       # from the clean alignment: same for both copies
            line.append(f"{cond} {time.perf_counter() - t0:.1f} s")
        print(", ".join(line), flush=True)

    report = render(recordings, info, gaps, systems, conditions, pooled, args)
    report += f"\nRun time: {time.perf_counter() - started:.0f} s.\n"
    print("\n" + report)
    if args.out:
        args.out.write_text(report)
        print(f"wrote {args.out}")


def render(recordings: list, info: dict[str, tuple[float, float]], gaps: dict, systems: list[str],
           conditions: list[str], pooled, args: argparse.Namespace) -> str:
    """The markdown report: counts, the pooled table, the per-recording table."""
    ids = [r.id for r in recordings]
    some = gaps[systems[-1], conditions[0]]
    n_bil = sum(len(some[i].bilabial) for i in ids)
    n_vow = sum(len(some[i].vowel) for i in ids)
    seconds = sum(info[i][0] for i in ids)
    out = [f"{len(ids)} recordings, {seconds:.0f} s, {n_bil} p/b/m, {n_vow} open vowels; degradation seed {args.seed}.",
           "", "### Pooled (over all phones of all recordings)", "",
           "| system | audio | " + " | ".join(title for _, title, _ in METRICS) + " |",
           "|---|---|" + "---|" * len(METRICS)]
    for s in systems:
        for c in conditions:
            p = pooled([gaps[s, c][i] for i in ids])
            out.append(f"| {s} | {c} | " + " | ".join(fmt(p[k], f) for k, _, f in METRICS) + " |")
    both = len(conditions) == 2
    styles = sorted({r.style or "-" for r in recordings})
    if len(styles) > 1:
        keys = METRICS[:3]
        out += ["", "### Pooled by kind of speech" + (" (clean / degraded)" if both else f" ({conditions[0]})"), "",
                "| speech | recordings | s | p/b/m | open V | system | " + " | ".join(t for _, t, _ in keys) + " |",
                "|---|---|---|---|---|---|" + "---|" * len(keys)]
        for st in styles:
            sel = [r.id for r in recordings if (r.style or "-") == st]
            for j, s in enumerate(systems):
                ps = [pooled([gaps[s, c][i] for i in sel]) for c in conditions]
                head = (f"| {st} | {len(sel)} | {sum(info[i][0] for i in sel):.0f} | {ps[0]['num_bilabials']} | "
                        f"{ps[0]['num_open_vowels']} " if j == 0 else "| | | | | ")
                out.append(head + f"| {s} | " + " | ".join(" / ".join(fmt(p[k], f) for p in ps) for k, _, f in keys) + " |")
    out += ["", "### Per recording" + (" (clean / degraded)" if both else f" ({conditions[0]})"), "",
            "| recording | s | syl/s | p/b/m | open V | system | " + " | ".join(t for _, t, _ in METRICS) + " |",
            "|---|---|---|---|---|---|" + "---|" * len(METRICS)]
    for i in ids:
        seconds, rate = info[i]
        for j, s in enumerate(systems):
            cells = []
            for k, _, f in METRICS:
                vals = [fmt(pooled([gaps[s, c][i]])[k], f) for c in conditions]
                cells.append(" / ".join(vals))
            head = (f"| {i} | {seconds:.1f} | {rate:.1f} | {len(some[i].bilabial)} | {len(some[i].vowel)} "
                    if j == 0 else "| | | | | ")
            out.append(head + f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    try:
        main()
    except Exception as e:          # one clear line for the known errors, a traceback for the rest
        from talkstyle.errors import TalkstyleError

        if isinstance(e, TalkstyleError):
            sys.exit(f"error: {e}")
        raise
