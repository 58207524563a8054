"""Style control measured: intensity, timelines, blends, and lip sync under each (issue 17).

Run: .venv/bin/python benchmarks/bench_style_control.py --eval-data DIR --ref-data DIR
         [--checkpoint DIR] [--holdout-data DIR] [--only evaluators,intensity,words,timeline,blend,lipsync]
         [--seed 0,1,2] [--out report.md]

--eval-data: a dataset built with another seed than the generator's (`talkstyle data build --hours 0.5
--seed 1`); the independent style evaluator is trained on it (cached, as `talkstyle evaluate` does)
and its clips give each family's signature channels and the data's velocities. Intensity is also
judged by a second evaluator trained the same way on the same clips but with graded targets
(eval.style_eval.graded_targets, which follow each clip's rendered emotion amplitude): the first
one's family probability is 0.98-0.99 on every data clip from "faint" to "overwhelming", so it
cannot rank intensities. --ref-data: a third seed's dataset (persons neither model saw), whose
clips serve as style references. --seed 0,1,2: the lip-sync section pools three generation seeds
(one seed's open-vowel share moved by 2.4 % with the noise alone).
Speech: real recordings never trained on (benchmarks/realspeech, ../shared/realspeech).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TSV = ROOT / "benchmarks" / "realspeech" / "transcripts.tsv"
REALSPEECH = ROOT.parent / "shared" / "realspeech"
LEVELS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
WORDS = ["faint", "slight", "mild", "moderate", "clear", "strong", "intense", "overwhelming"]
FAMILY_WORDS = {"happy": ("happy", "cheerful"), "sad": ("sad", "unhappy"), "angry": ("angry", "furious"),
                "fearful": ("fearful", "afraid"), "surprised": ("surprised", "astonished"),
                "disgusted": ("disgusted", "repulsed"), "contempt": ("contemptuous", "scornful")}
TEMPLATES = ("A woman speaks with a {} expression.", "A man talks with a {} look.")
SWEEP_AUDIO = ("LJ001-0003", "beckett")
LONG_PARTS = ("LJ001-0001", "LJ001-0003", "LJ001-0004", "LJ001-0005", "LJ001-0006", "LJ001-0007")
TIMELINES = [("neutral", "angry", "happy"), ("sad", "surprised", "disgusted"), ("happy", "fearful", "contempt"),
             ("angry", "sad", "surprised")]
BLEND_PAIRS = [("happy", "angry"), ("sad", "surprised"), ("fearful", "disgusted"), ("contempt", "sad")]
MIX = [0.0, 0.25, 0.5, 0.75, 1.0]
LIP_KEYS = ("bilabial_closed_fraction", "vowel_open_fraction", "viseme_auc", "lag_correlation")


def prompt(family: str, k: int = 0, word: str | None = None) -> str:
    emo = "neutral" if family == "neutral" else FAMILY_WORDS[family][k % 2]
    return TEMPLATES[k % 2].format(f"{word} {emo}" if word else emo).replace("a a", "an a")


class Bench:
    def __init__(self, args: argparse.Namespace):
        import torch

        from talkstyle.animate import _pipeline
        from talkstyle.audio import load_audio
        from talkstyle.data.store import Dataset
        from talkstyle.eval.realspeech import AlignmentCache, load_recordings
        from talkstyle.eval.style_probe import family_channels, load_or_train_evaluator

        torch.set_num_threads(1)
        self.args = args
        self.evaluator, records = load_or_train_evaluator(args.eval_data, args.evaluator_steps)
        self.graded, _ = load_or_train_evaluator(args.eval_data, args.evaluator_steps, graded=True)
        self.channels = family_channels(records)
        self.data_motions = [r.motion for r in records]
        self.refs = {}
        for r in Dataset(args.ref_data).records():       # the first clip of each family, 4 s or longer
            f = r.prompt.attributes.family
            if f not in self.refs and r.motion.duration >= 4.0 and r.prompt.attributes.level >= 0.5:
                self.refs[f] = r.motion.resample(25.0)
        # Every read or orated recording (the conversational call has overlapping talkers).
        self.audio, self.text, self.lipsync_ids = {}, {}, []
        for r in load_recordings(TSV):
            path = r.path(REALSPEECH)
            if path is not None and r.style != "conversational":
                self.audio[r.id] = load_audio(path)
                self.text[r.id] = r.align_text or r.text
                self.lipsync_ids.append(r.id)
        self.cache = AlignmentCache()
        # The same recording's features are computed once (the same input gives the same features):
        # every condition of every section generates from a handful of recordings.
        pipe = _pipeline(args.checkpoint, None)
        encode, memo = pipe.encode_audio, {}

        def encode_once(wav: np.ndarray, progress=None) -> np.ndarray:
            key = hashlib.sha1(np.ascontiguousarray(wav).tobytes()).hexdigest()
            if key not in memo:
                memo[key] = encode(wav, progress=progress)
            return memo[key]

        pipe.encode_audio = encode_once
        self.results: dict = {}
        self.lines: list[str] = []

    # ------------------------------------------------------------ helpers
    def gen(self, audio: np.ndarray, style=None, seed: int | None = None, **kw):
        from talkstyle.animate import Settings, animate

        seed = self.args.seeds[0] if seed is None else seed
        return animate(audio, style, checkpoint=self.args.checkpoint, progress=False, settings=Settings(seed=seed), **kw)

    def probs(self, motions, graded: bool = False) -> np.ndarray:
        from talkstyle.eval.style_probe import family_probs

        return family_probs(self.graded if graded else self.evaluator, motions)

    def feats(self, motions) -> np.ndarray:
        from talkstyle.eval.control import evaluator_features

        return evaluator_features(self.evaluator, motions)

    def act(self, motion, family: str) -> float:
        from talkstyle.eval.style_probe import activation

        return activation(motion, self.channels[family])

    def say(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)

    # ------------------------------------------------------------ 0. the measuring sticks
    def evaluators(self) -> None:
        """Can each evaluator's family probability rank the intensity of clips whose intensity is
        known (held-out data: persons neither evaluator saw)?"""
        from scipy.stats import spearmanr

        from talkstyle.data.store import Dataset
        from talkstyle.vocab.attributes import EMOTION_FAMILIES

        from talkstyle.data.synth.expression import rendered_amplitude

        data = self.args.holdout_data or self.args.ref_data
        recs = Dataset(data).records()
        fams = np.array([r.prompt.attributes.family for r in recs])
        levels = np.array([r.prompt.attributes.level for r in recs])
        amps = np.array([rendered_amplitude(r) for r in recs])
        bands = ((0.0, 0.4), (0.4, 0.7), (0.7, 1.01))
        self.say("## The evaluators on data clips of known intensity", "",
                 f"{len(recs)} clips of `{data}` (persons neither evaluator saw). P(family) of the clip's own family, "
                 "mean by the prompt's intensity level (faint..mild < 0.4, moderate..distinct 0.4-0.7, high..overwhelming "
                 ">= 0.7), and its Spearman correlation over the family's clips with the level and with the rendered "
                 "amplitude (level x the person's expressivity, data.synth.expression.rendered_amplitude).", "",
                 "| family | clips | P by level band | rho(level, P) | rho(amplitude, P) | P graded by level band "
                 "| rho(level, P graded) | rho(amplitude, P graded) |",
                 "|---|---|---|---|---|---|---|---|")
        out = {}
        probs = {g: self.probs([r.motion for r in recs], graded=g) for g in (False, True)}
        for fam in FAMILY_WORDS:
            i, fi = fams == fam, EMOTION_FAMILIES.index(fam)
            row = {}
            for g, key in ((False, "p"), (True, "graded")):
                pf = probs[g][i, fi]
                row[key] = [float(pf[(levels[i] >= a) & (levels[i] < b)].mean()) for a, b in bands]
                row[f"rho_{key}"] = float(spearmanr(levels[i], pf).statistic)
                row[f"rho_amp_{key}"] = float(spearmanr(amps[i], pf).statistic)
            out[fam] = row
            self.say(f"| {fam} | {int(i.sum())} | " + " | ".join(
                f"{' '.join(f'{x:.3f}' for x in row[k])} | {row[f'rho_{k}']:.2f} | {row[f'rho_amp_{k}']:.2f}"
                for k in ("p", "graded")) + " |")
        acc = {k: float(np.mean([EMOTION_FAMILIES[j] == f for j, f in zip(probs[g].argmax(1), fams)]))
               for g, k in ((False, "p"), (True, "graded"))}
        self.results["evaluators"] = {"families": out, "accuracy": acc}
        self.say("", f"family accuracy: {acc['p']:.3f} (one-hot), {acc['graded']:.3f} (graded)", "")

    # ------------------------------------------------------------ 1. intensity
    def intensity(self) -> None:
        from talkstyle.vocab.attributes import EMOTION_FAMILIES
        from talkstyle.eval.control import spearman

        self.say("## Intensity (--intensity 0 .. 1.5)", "",
                 f"{len(TEMPLATES)} prompts x {len(SWEEP_AUDIO)} recordings per family, intensities {LEVELS}. "
                 "rho(mean): Spearman of the intensity with the family's evaluator probability (and signature-channel "
                 "activation) averaged over the sweeps; rho(sweep): the mean of the per-sweep Spearman values. "
                 "P: the evaluator's family probability (one-hot targets, as `talkstyle evaluate`'s); P graded: the "
                 "evaluator trained with graded targets (its probability follows the data clips' rendered emotion amplitude).", "",
                 "| family | P(family) by intensity | rho(mean) P | rho(sweep) P | P graded by intensity | rho(mean) | "
                 "rho(sweep) | channels by intensity | rho(mean) ch | rho(sweep) ch | evaluator-feature distance from "
                 "intensity 0 | rho(mean) | rho(sweep) |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        out = {}
        for fam in FAMILY_WORDS:
            fi = EMOTION_FAMILIES.index(fam)
            P, G, C, F = [], [], [], []
            for k in range(len(TEMPLATES)):
                for rid in SWEEP_AUDIO:
                    ms = [self.gen(self.audio[rid], prompt(fam, k), intensity=lv) for lv in LEVELS]
                    P.append(self.probs(ms)[:, fi])
                    G.append(self.probs(ms, graded=True)[:, fi])
                    C.append([self.act(m, fam) for m in ms])
                    f = self.feats(ms)
                    F.append(np.linalg.norm(f - f[0], axis=1))
            row = {}
            for key, x in (("p", P), ("graded", G), ("ch", C), ("feat", F)):
                x = np.array(x)
                row[key] = x.mean(0).tolist()
                row[f"rho_{key}"] = spearman(LEVELS, x.mean(0))
                row[f"rho_{key}_sweep"] = float(np.nanmean([spearman(LEVELS, y) for y in x]))
            out[fam] = row
            cells = [f"{' '.join(f'{x:.1f}' if key == 'feat' else f'{x:.2f}' for x in row[key])} | "
                     f"{row[f'rho_{key}']:.2f} | {row[f'rho_{key}_sweep']:.2f}" for key in ("p", "graded", "ch", "feat")]
            self.say(f"| {fam} | " + " | ".join(cells) + " |")
        self.results["intensity"] = out
        self.say("", "min rho(mean) over families: " + ", ".join(
            f"{name} {min(r[f'rho_{key}'] for r in out.values()):.2f}" for key, name in
            (("p", "P"), ("graded", "P graded"), ("ch", "channels"), ("feat", "evaluator features"))) + " (target >= 0.9)", "")

    def words(self) -> None:
        from talkstyle.vocab.attributes import EMOTION_FAMILIES
        from talkstyle.vocab.words import INTENSITIES
        from talkstyle.eval.control import spearman

        levels = [INTENSITIES[w] for w in WORDS]
        self.say("## Intensity words (intensity 1)", "", f"words {WORDS} (levels {levels}), one prompt, {SWEEP_AUDIO[0]}.", "",
                 "| family | P(family) by word | rho P | P graded by word | rho | channels by word | rho ch |",
                 "|---|---|---|---|---|---|---|")
        out = {}
        for fam in FAMILY_WORDS:
            ms = [self.gen(self.audio[SWEEP_AUDIO[0]], prompt(fam, 0, w)) for w in WORDS]
            fi = EMOTION_FAMILIES.index(fam)
            row = {"p": self.probs(ms)[:, fi].tolist(), "graded": self.probs(ms, graded=True)[:, fi].tolist(),
                   "ch": [self.act(m, fam) for m in ms]}
            row.update({f"rho_{k}": spearman(levels, row[k]) for k in ("p", "graded", "ch")})
            out[fam] = row
            self.say(f"| {fam} | " + " | ".join(f"{' '.join(f'{x:.2f}' for x in row[k])} | {row[f'rho_{k}']:.2f}"
                                               for k in ("p", "graded", "ch")) + " |")
        self.results["words"] = out
        self.say("")

    # ------------------------------------------------------------ 2. timelines
    def long_audio(self) -> np.ndarray:
        gap = np.zeros(int(0.3 * 16000), np.float32)
        return np.concatenate([x for rid in LONG_PARTS for x in (self.audio[rid], gap)])

    def timeline(self) -> None:
        from talkstyle.eval.control import channel_indices, halfway_time, mix_fraction, peak_velocity_near, velocity

        audio = self.long_audio()
        dur = len(audio) / 16000
        # One change inside a window (12.5 s = frame 312.5 of the window 300-400), one on a window
        # boundary (24.0 s = frame 600).
        times = [12.5, 24.0]
        data_v = np.concatenate([velocity(m) for m in self.data_motions])
        self.say("## Timelines", "", f"{len(LONG_PARTS)} LJ Speech recordings joined ({dur:.0f} s); changes at {times} s "
                 "(inside a window, and on a window boundary), transition 0.8 s. Half-way: where the expression "
                 "(least-squares position between the two single-style generations on both families' signature "
                 "channels, 0.36 s running mean) first reaches 0.5. Peak velocity: largest frame-to-frame change of "
                 "the 52 weights within 1 s of the change (per second, L2), against the two single-style runs over "
                 f"the same span and the data's 99.9th percentile ({np.percentile(data_v, 99.9):.2f}/s).", "",
                 "| styles | change at | half-way at | error | peak velocity | single-style peaks | ",
                 "|---|---|---|---|---|---|")
        out = []
        for fams in TIMELINES:
            pure = [self.gen(audio, prompt(f)) for f in fams]
            y = self.gen(audio, prompt(fams[0]), style_at=[(t, prompt(f)) for t, f in zip(times, fams[1:])])
            for i, t in enumerate(times):
                a, b = pure[i], pure[i + 1]
                idx = channel_indices(sorted(set(self.channels.get(fams[i], []) + self.channels.get(fams[i + 1], []))))
                frac = mix_fraction(y.weights[:, idx], a.weights[:, idx], b.weights[:, idx])
                half = halfway_time(frac, t)
                peak = peak_velocity_near(y, [t])
                peaks = [peak_velocity_near(m, [t]) for m in (a, b)]
                out.append({"styles": [fams[i], fams[i + 1]], "asked": t, "halfway": half, "error": half - t,
                            "peak_velocity": peak, "single_peaks": peaks})
                self.say(f"| {fams[i]} -> {fams[i + 1]} | {t:.1f} s | {half:.2f} s | {half - t:+.2f} s | {peak:.2f} "
                         f"| {peaks[0]:.2f} / {peaks[1]:.2f} |")
        errs = np.abs([o["error"] for o in out])
        self.results["timeline"] = {"changes": out, "data_velocity_p999": float(np.percentile(data_v, 99.9)),
                                    "max_abs_error": float(np.nanmax(errs))}
        self.say("", f"largest |half-way - asked|: {np.nanmax(errs):.2f} s (target <= 0.3 s); peak velocity at a change "
                 f"/ the larger single-style peak: max {max(o['peak_velocity'] / max(o['single_peaks']) for o in out):.2f}", "")

    # ------------------------------------------------------------ 3. blends
    def blend(self) -> None:
        from talkstyle.vocab.attributes import EMOTION_FAMILIES
        from talkstyle.eval.control import between, blend_points

        self.say("## Blends", "", f"Two prompts mixed with weights {MIX} (share of B), {len(SWEEP_AUDIO)} recordings. "
                 "d(A), d(B): Euclidean distance in the evaluator's motion features (eval.control.evaluator_features) "
                 "to the pure-A / pure-B generation of the same audio; P(A), P(B): its family probabilities. "
                 "Chains: each part generated as its own chain, mixed frame by frame (the default); joint vector: "
                 "the model conditioned on the weighted mean style vector.", "",
                 "| A + B | method | d(A) along the mix | d(B) along the mix | d(A,B) | P(A) / P(B) at 50/50 | between |",
                 "|---|---|---|---|---|---|---|")
        out = []
        for fa, fb in BLEND_PAIRS:
            for method in ("chains", "joint vector"):
                for rid in SWEEP_AUDIO:
                    ms = [self.blended(self.audio[rid], [prompt(fa), prompt(fb)], w, method) for w in MIX]
                    pts = blend_points(MIX, self.feats(ms), self.probs(ms), EMOTION_FAMILIES.index(fa),
                                       EMOTION_FAMILIES.index(fb))
                    mid = pts[MIX.index(0.5)]
                    ok = between(pts)
                    out.append({"a": fa, "b": fb, "method": method, "audio": rid, "between": ok,
                                "points": [p.__dict__ for p in pts]})
                    self.say(f"| {fa} + {fb} ({rid}) | {method} | {' '.join(f'{p.dist_a:.2f}' for p in pts)} | "
                             f"{' '.join(f'{p.dist_b:.2f}' for p in pts)} | {pts[-1].dist_a:.2f} | "
                             f"{mid.prob_a:.2f} / {mid.prob_b:.2f} | {'yes' if ok else 'NO'} |")
        # A prompt and a reference, and a reference with a text edit.
        self.say("", "| reference + prompt | d(ref-only) | d(prompt-only) | d(ref-only, prompt-only) | P(ref fam) / P(prompt fam) | between |",
                 "|---|---|---|---|---|---|")
        refout = []
        for fa, fb in BLEND_PAIRS:
            if fa not in self.refs:
                continue
            audio = self.audio[SWEEP_AUDIO[0]]
            ref_only = self.gen(audio, style_ref=self.refs[fa])
            text_only = self.gen(audio, prompt(fb))
            half = self.gen(audio, prompt(fb), style_ref=self.refs[fa], mix=[0.5, 0.5])
            edit = self.gen(audio, style_ref=self.refs[fa], edit=prompt(fb))
            z = self.feats([ref_only, text_only, half, edit, self.refs[fa]])
            p = self.probs([ref_only, text_only, half, edit])
            ia, ib = EMOTION_FAMILIES.index(fa), EMOTION_FAMILIES.index(fb)
            d = lambda i, j: float(np.linalg.norm(z[i] - z[j]))     # noqa: E731
            ok = d(2, 0) < d(0, 1) and d(2, 1) < d(0, 1)
            refout.append({"ref": fa, "prompt": fb, "between": ok, "d_half_ref": d(2, 0), "d_half_text": d(2, 1),
                           "d_ref_text": d(0, 1), "p_half": [float(p[2, ia]), float(p[2, ib])],
                           "edit_p_prompt_family": float(p[3, ib]), "ref_only_p_prompt_family": float(p[0, ib]),
                           "edit_d_to_reference": d(3, 4), "text_d_to_reference": d(1, 4)})
            self.say(f"| ref {fa} + {fb} | {d(2, 0):.2f} | {d(2, 1):.2f} | {d(0, 1):.2f} | {p[2, ia]:.2f} / {p[2, ib]:.2f} "
                     f"| {'yes' if ok else 'NO'} |")
        self.say("", "| reference, edit | P(edit family): ref only -> edited | d(reference clip): prompt only / edited |",
                 "|---|---|---|")
        for r in refout:
            self.say(f"| ref {r['ref']}, edit {r['prompt']} | {r['ref_only_p_prompt_family']:.2f} -> "
                     f"{r['edit_p_prompt_family']:.2f} | {r['text_d_to_reference']:.2f} / {r['edit_d_to_reference']:.2f} |")
        self.results["blend"] = {"prompts": out, "references": refout}
        n_ok = sum(o["between"] for o in out if o["method"] == "chains")
        self.say("", f"50/50 blends between their parts, chains: {n_ok} of "
                 f"{sum(o['method'] == 'chains' for o in out)}; joint vector: "
                 f"{sum(o['between'] for o in out if o['method'] == 'joint vector')} of "
                 f"{sum(o['method'] == 'joint vector' for o in out)}; prompt + reference (chains): "
                 f"{sum(r['between'] for r in refout)} of {len(refout)}", "")

    def blended(self, audio: np.ndarray, prompts: list[str], w: float, method: str):
        if w in (0.0, 1.0):
            return self.gen(audio, prompts[int(w)])
        if method == "chains":
            return self.gen(audio, prompts, mix=[1 - w, w])
        # The alternative measured: one style vector, the weighted mean (how a prompt and a
        # reference are combined without weights).
        from talkstyle.style_control import Style, StylePart

        return self.gen(audio, timeline=_timeline(Style((StylePart(prompts[0], weight=1 - w), StylePart(prompts[1], weight=w)),
                                                        joint=True)))

    # ------------------------------------------------------------ 4. lip sync under each control
    def lipsync(self) -> None:
        from talkstyle.eval.lipsync import phone_gaps, pooled
        from talkstyle.face.rig import FaceRig

        rig = FaceRig.default()
        ids = self.lipsync_ids
        phones = {i: self.cache.phones(self.audio[i], self.text[i])[0] for i in ids}
        conditions = {
            "neutral, single style": dict(style=prompt("neutral")),
            "happy, single style": dict(style=prompt("happy")),
            "happy, intensity 0": dict(style=prompt("happy"), intensity=0.0),
            "happy, intensity 1.5": dict(style=prompt("happy"), intensity=1.5),
            "angry, single style": dict(style=prompt("angry")),
            "angry, intensity 0": dict(style=prompt("angry"), intensity=0.0),
            "angry, intensity 0.5": dict(style=prompt("angry"), intensity=0.5),
            "angry, intensity 1.5": dict(style=prompt("angry"), intensity=1.5),
            "angry, \"overwhelming\"": dict(style=prompt("angry", word="overwhelming")),
            "surprised, single style": dict(style=prompt("surprised")),
            "surprised, intensity 0": dict(style=prompt("surprised"), intensity=0.0),
            "surprised, intensity 1.5": dict(style=prompt("surprised"), intensity=1.5),
            "fearful, single style": dict(style=prompt("fearful")),
            "fearful, intensity 1.5": dict(style=prompt("fearful"), intensity=1.5),
            "sad, single style": dict(style=prompt("sad")),
            "happy + angry 50/50": dict(style=[prompt("happy"), prompt("angry")]),
            "sad + surprised 50/50": dict(style=[prompt("sad"), prompt("surprised")]),
            "timeline happy -> angry -> surprised": "timeline",
        }
        seeds = self.args.seeds
        self.say("## Lip sync under each control", "", f"{len(ids)} real recordings ({', '.join(ids)}), generated with "
                 f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} and pooled over all their phones "
                 "(talkstyle.eval.lipsync.pooled); the timeline changes style at 1/3 and 2/3 of each "
                 "recording. Relative change against the same without the control (below the table). Intensity "
                 "above 1 includes the lip seal from the neutral delivery (style_control.seal_lips).", "",
                 "| condition | " + " | ".join(LIP_KEYS) + " |", "|---|" + "---|" * len(LIP_KEYS))
        # Figures per condition, over all seeds ("all") and per seed (how much a figure moves with
        # the generation's noise alone).
        groups = ["all", *seeds] if len(seeds) > 1 else ["all"]
        out, singles, spliced = {}, {}, {g: [] for g in groups}
        for name, kw in conditions.items():
            gaps = {g: [] for g in groups}
            for seed, i in ((seed, i) for seed in seeds for i in ids):
                if kw == "timeline":
                    d = len(self.audio[i]) / 16000
                    m = self.gen(self.audio[i], prompt("happy"), seed=seed,
                                 style_at=[(d / 3, prompt("angry")), (2 * d / 3, prompt("surprised"))])
                    cuts = [0, round(d / 3 * m.fps), round(2 * d / 3 * m.fps), m.num_frames]
                    w = np.concatenate([singles[f, i, seed].weights[a:b] for f, a, b in
                                        zip(("happy", "angry", "surprised"), cuts[:-1], cuts[1:])])
                    g = phone_gaps(rig.mouth_opening(dataclasses.replace(m, weights=w)), m.fps, phones[i], self.audio[i])
                    for key in {"all", seed} & set(groups):
                        spliced[key].append(g)
                else:
                    m = self.gen(self.audio[i], seed=seed, **kw)
                    if name.endswith("single style"):
                        singles[name.split(",")[0], i, seed] = m
                g = phone_gaps(rig.mouth_opening(m), m.fps, phones[i], self.audio[i])
                for key in {"all", seed} & set(groups):
                    gaps[key].append(g)
            out[name] = {key: {k: pooled(gaps[key])[k] for k in LIP_KEYS} for key in groups}
        # References: a control against the result without it. Intensity: the same prompt at 1;
        # the blend: the mean of its two parts' figures; the timeline: the single-style runs cut
        # at the same times (correlation over a whole recording depends on the mouth's offset,
        # which differs by style, so splicing alone moves it).
        single = {f: out[f"{f}, single style"] for f in ("neutral", "happy", "angry", "surprised", "fearful", "sad")}
        refs = {name: single[name.split(",")[0]] for name in out if name.split(",")[0] in single}
        for name in (n for n in out if n.endswith("50/50")):
            a, b = name.split()[0], name.split()[2]
            refs[name] = {g: {k: (single[a][g][k] + single[b][g][k]) / 2 for k in LIP_KEYS} for g in groups}
        tl = "timeline happy -> angry -> surprised"
        refs[tl] = {g: {k: pooled(spliced[g])[k] for k in LIP_KEYS} for g in groups}
        change = {name: {g: {k: 100 * (out[name][g][k] - refs[name][g][k]) / refs[name][g][k] for k in LIP_KEYS}
                         for g in groups} for name in out}
        for name, row in out.items():
            cells = [f"{row['all'][k]:.3f} ({change[name]['all'][k]:+.1f} %"
                     + ("; by seed " + ", ".join(f"{change[name][g][k]:+.1f}" for g in seeds) if len(seeds) > 1 else "")
                     + ")" for k in LIP_KEYS]
            self.say(f"| {name} | " + " | ".join(cells) + " |")
        self.say("", "| timeline reference: single styles spliced at the same times | "
                 + " | ".join(f"{refs[tl]['all'][k]:.3f}" for k in LIP_KEYS) + " |")
        # Intensity 0 is the neutral delivery (the neutral prompt's own output): its rows compare two
        # styles, not a control against its absence.
        worst = min((change[n]["all"][k], n, k) for n in out for k in LIP_KEYS
                    if not n.endswith(("single style", "intensity 0")))
        self.say("", f"largest loss under a blend, a timeline, an intensity or an intensity word (all seeds): {worst[0]:+.1f} % "
                 f"({worst[2]}, {worst[1]}; target: within 2 %)")
        self.results["lipsync"] = {"figures": out, "change_percent": change}
        self.say("")


def _timeline(style):
    from talkstyle.style_control import Timeline

    return Timeline.single(style)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--eval-data", type=Path, required=True)
    p.add_argument("--ref-data", type=Path, required=True)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--evaluator-steps", type=int, default=1500)
    p.add_argument("--seed", dest="seeds", type=lambda v: [int(x) for x in v.split(",")], default=[0],
                   help="generation seed; several (0,1,2): the lip-sync section pools every seed's phones, "
                        "the other sections use the first")
    p.add_argument("--holdout-data", type=Path, default=None,
                   help="data clips for the evaluators section (default: --ref-data)")
    p.add_argument("--only", default="evaluators,intensity,words,timeline,blend,lipsync")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    bench = Bench(args)
    for section in args.only.split(","):
        t0 = time.perf_counter()
        getattr(bench, section.strip())()
        print(f"[{section}: {time.perf_counter() - t0:.0f} s]", flush=True)
    bench.say(f"Run time: {time.perf_counter() - started:.0f} s.")
    if args.out:
        args.out.write_text("\n".join(bench.lines) + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(bench.results, indent=1, default=float))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        from talkstyle.errors import TalkstyleError

        if isinstance(e, TalkstyleError):
            sys.exit(f"error: {e}")
        raise
