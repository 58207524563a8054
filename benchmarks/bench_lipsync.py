"""Lip sync of the shipped model on real speech and on procedural clips, beside the ground truth.

Run: .venv/bin/python benchmarks/bench_lipsync.py [--checkpoint DIR]
Real speech: the shipped CMU ARCTIC clip, and beckett.wav when useful-moonshine-onnx is installed
(transcribed by Whisper tiny.en). Procedural: the synthetic actor's exact ground truth on its own
TTS audio, and the model animating that same audio (the line given as transcript).
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np

PROMPT = "A person speaks with a calm neutral expression."
LINES = ["Bob paid for a pump and a big blue bag.", "Maybe the baby will bring back my map.",
         "Open the window and pass me a bottle of apple juice.", "My mother bought a lamp at the market.",
         "Please put the paper back by the bed.", "We must move the boxes before the bus comes.",
         "The puppy jumped up and grabbed my sandwich.", "Remember to buy bread, milk and some plums.",
         "Big problems make better people, maybe.", "He dropped the map somewhere by the bamboo path."]
KEYS = ("bilabial_closed_fraction", "bilabial_opening_ratio", "vowel_open_fraction", "vowel_opening_ratio",
        "lag_ms", "lag_correlation", "open_vowel_gap_mm")


def row(name: str, s) -> str:
    return f"| {name} | {s.num_bilabials} | " + " | ".join(f"{getattr(s, k):.2f}" for k in KEYS) + " |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--voices", default="espeak",
                        help="the actor's voices for the procedural lines: 'espeak' (as in the docs' figures), 'all', or a list")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import torch

    from talkstyle.animate import animate
    from talkstyle.audio import load_audio
    from talkstyle.audio.samples import speech_path
    from talkstyle.vocab.attributes import Prompt, StyleAttributes
    from talkstyle.data.synth.person import PersonStyle
    from talkstyle.data.synth.procedural import perform
    from talkstyle.data.synth.voices import resolve_voices
    from talkstyle.eval.lipsync import lipsync_report

    torch.set_num_threads(2)
    print("| clip | bilabials | " + " | ".join(KEYS) + " |")
    print("|---" * (len(KEYS) + 2) + "|")
    for name in ("arctic_a0007", "beckett"):
        path = speech_path(name)
        if path is None:
            continue
        audio = load_audio(path)
        motion = animate(audio, PROMPT, checkpoint=args.checkpoint, progress=False)
        print(row(f"{name} (model)", lipsync_report(motion, audio)))
    totals = {"ground truth": [], "model": []}
    voices = resolve_voices(args.voices)
    for i, line in enumerate(LINES):
        person = PersonStyle.from_id(f"bench{i}", voices=voices)
        clip = perform(Prompt("A person speaks.", StyleAttributes()), line, person, seed=i)
        truth = lipsync_report(clip.motion, transcript=clip.line)     # the line as spoken (restarts)
        model = lipsync_report(animate(clip.motion.audio, PROMPT, checkpoint=args.checkpoint, progress=False),
                               clip.motion.audio, transcript=clip.line)
        print(row(f"procedural {i} ground truth", truth))
        print(row(f"procedural {i} model", model))
        totals["ground truth"].append(truth)
        totals["model"].append(model)
    for name, reports in totals.items():
        closed = sum(r.bilabial_closed_fraction * r.num_bilabials for r in reports) / sum(r.num_bilabials for r in reports)
        lag = np.mean([abs(r.lag_ms) for r in reports])
        gap = sum(r.open_vowel_gap_mm * r.num_open_vowels for r in reports) / sum(r.num_open_vowels for r in reports)
        print(f"procedural {name}: bilabials closed {closed:.2f}, mean |lag| {lag:.0f} ms, open-vowel gap {gap:.1f} mm")


if __name__ == "__main__":
    main()
