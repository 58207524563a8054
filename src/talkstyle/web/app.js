// talkstyle serve: the live face (microphone -> server StreamAnimator -> frames) and take playback.
// Everything is served by `talkstyle serve` itself: three.js from the local npm package.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

const $ = (id) => document.getElementById(id);
const SAMPLES_PER_FRAME = 640;                    // 16 kHz audio, 25 fps frames
const CURVES = [['jawOpen', '#f0c674'], ['mouthClose', '#81a2be'], ['mouthSmileLeft', '#b5bd68'],
                ['browInnerUp', '#cc6666'], ['eyeBlinkLeft', '#b294bb']];

// What the browser tests read (tests/test_browser.py): counts and per-frame values.
const state = window.talkstyle = {
  ready: false, frames: 0, jaw: [], rms: [], sent: 0, errors: [], latencyMs: [], styles: [], mic: 'off',
  take: null, taps: 0, takeMorphs: [],       // takeMorphs: the shown mesh's morph weights per drawn frame
};

// ------------------------------------------------------------------ the 3D view
const canvas = $('face');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(1);
renderer.setSize(canvas.width, canvas.height, false);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x30333b);
scene.add(new THREE.HemisphereLight(0xffffff, 0x404050, 1.6));
const key = new THREE.DirectionalLight(0xffffff, 2.2);
key.position.set(0.4, 0.5, 1.0);
scene.add(key);
const camera = new THREE.PerspectiveCamera(22, 1, 0.01, 10);
const loader = new GLTFLoader();
let face = null;                                   // what is shown: {gltf, root, mesh, head}

function loadGlb(url) {
  return new Promise((resolve, reject) => loader.load(url, resolve, undefined, reject));
}

function show(gltf, backed = true) {
  if (face) scene.remove(face.root);
  const root = gltf.scene;
  let mesh = null;
  root.traverse((o) => { if (o.isMesh && o.morphTargetDictionary && !mesh) mesh = o; });
  scene.add(root);
  root.updateMatrixWorld(true);
  // Frame the face: look at the centre of the morphing mesh's box from the front (a character's
  // face mesh; the whole scene where no mesh morphs).
  const box = new THREE.Box3().setFromObject(mesh || root), centre = box.getCenter(new THREE.Vector3());
  const size = box.getSize(new THREE.Vector3());
  camera.position.set(centre.x, centre.y, centre.z + 0.62 * Math.max(size.x, size.y) / Math.tan(THREE.MathUtils.degToRad(11)));
  camera.lookAt(centre);
  const head = root.getObjectByName('head') || root;
  if (backed) {
    // Our mask has open eyes and mouth: a dark backing behind it stands for the inside of the head.
    const backing = new THREE.Mesh(new THREE.CircleGeometry(0.36 * size.x, 48), new THREE.MeshBasicMaterial({ color: 0x2a1414 }));
    backing.position.set(centre.x, centre.y, box.min.z + 0.35 * size.z);
    head.attach(backing);                           // turns with the head
  }
  face = { gltf, root, mesh, head };
  return face;
}

function applyFrame(names, frame) {
  if (!face || !face.mesh) return;
  const dict = face.mesh.morphTargetDictionary, infl = face.mesh.morphTargetInfluences;
  for (let i = 0; i < names.length; i++) {
    const k = dict[names[i]];
    if (k !== undefined) infl[k] = frame.w[i];
  }
  const [pitch, yaw, roll] = frame.head;
  face.head.rotation.set(pitch, yaw, roll, 'YXZ');          // Ry(yaw) Rx(pitch) Rz(roll), as FaceMotion
}

// ------------------------------------------------------------------ the live stream
let ws = null, info = null, names = [], pending = null, sentLog = [];
let audioCtx = null, micStream = null, micNode = null;

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function connect() {
  ws = new WebSocket(`ws://${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => setStatus('connected');
  ws.onclose = () => { state.ready = false; setStatus('disconnected: reload the page', true); };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'ready') {
      names = msg.names; state.ready = true;
      setStatus(`connected · ${msg.fps} fps · model latency ${(1000 * msg.latency).toFixed(0)} ms`);
    } else if (msg.type === 'frames') {
      for (const f of msg.frames) onFrame(f, msg);
    } else if (msg.type === 'style') {
      state.styles.push(msg.style);
      $('style').textContent = `style: ${msg.style}`;
    } else if (msg.type === 'error') {
      state.errors.push(msg.message);
      $('style').textContent = `error: ${msg.message}`;
    }
  };
}

function onFrame(f, msg) {
  state.frames += 1;
  const k = names.indexOf('jawOpen');
  state.jaw[f.i] = f.w[k];
  // Chunk -> frame: from sending the chunk that completed this frame (the server says which) to now.
  const sent = sentLog.find((e) => e[0] >= msg.samples);
  if (sent) state.latencyMs.push(performance.now() - sent[1]);
  pending = f;                                      // drawn at the next animation frame
  if (state.frames % 10 === 0) {
    const lat = state.latencyMs.slice(-50).sort((a, b) => a - b);
    $('stats').textContent = `${state.frames} frames · chunk→frame median ${lat.length ? lat[lat.length >> 1].toFixed(0) : '?'} ms` +
      ` · server ${msg.ms} ms/chunk`;
  }
}

function sendAudio(chunk) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  // RMS per frame of the audio sent (the tests compare the jaw with it).
  for (let i = 0; i < chunk.length; i++) {
    const b = Math.floor((state.sent + i) / SAMPLES_PER_FRAME);
    state.rms[b] = (state.rms[b] || 0) + chunk[i] * chunk[i] / SAMPLES_PER_FRAME;
  }
  state.sent += chunk.length;
  sentLog.push([state.sent, performance.now()]);
  if (sentLog.length > 2000) sentLog = sentLog.slice(-1000);
  ws.send(chunk.buffer);
}

async function startMic() {
  audioCtx = new AudioContext({ sampleRate: 16000 });
  await audioCtx.audioWorklet.addModule('/web/mic-worklet.js');
  micStream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false,
    noiseSuppression: false, autoGainControl: false } });
  const source = audioCtx.createMediaStreamSource(micStream);
  micNode = new AudioWorkletNode(audioCtx, 'talkstyle-mic');
  micNode.port.onmessage = (ev) => sendAudio(ev.data);
  const mute = audioCtx.createGain();
  mute.gain.value = 0;                              // keep the graph pulling without echoing the voice
  source.connect(micNode).connect(mute).connect(audioCtx.destination);
  await audioCtx.resume();
  if (face.gltf !== live.gltf) { show(live.gltf); take = null; $('audio').pause(); }
  state.mic = 'on';
  $('mic').textContent = 'Stop microphone';
  $('mic').classList.add('on');
}

function stopMic() {
  micStream?.getTracks().forEach((t) => t.stop());
  audioCtx?.close();
  audioCtx = micStream = micNode = null;
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'flush' }));
  state.mic = 'off';
  $('mic').textContent = 'Start microphone';
  $('mic').classList.remove('on');
}

$('mic').onclick = () => (state.mic === 'on' ? stopMic() : startMic().catch((e) => {
  state.errors.push(String(e)); setStatus(`microphone: ${e.message || e}`, true);
}));

function styleMessage() {
  const kind = document.querySelector('input[name=kind]:checked').value;
  if (kind === 'prompt') return { type: 'style', prompt: $('prompt').value };
  if (kind === 'ref') return { type: 'style', ref: $('ref').value };
  return { type: 'style' };
}
$('apply').onclick = () => ws && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(styleMessage()));
window.talkstyleSetStyle = (msg) => ws.send(JSON.stringify({ type: 'style', ...msg }));   // for tests and the console

// ------------------------------------------------------------------ playback of an animate take
let take = null;                                    // {mixer, action, clip, curves: {name: Float32Array}, times}

function morphMesh(gltf) {
  let mesh = null;
  gltf.scene.traverse((o) => { if (o.isMesh && o.morphTargetDictionary && !mesh) mesh = o; });
  return mesh;
}

// A take plays on our face (face.glb) or on a character that `talkstyle retarget` wrote into the
// take's folder; the curves beneath always come from the take's face.glb, where every channel is
// named as ARKit names it.
async function loadTake(value) {
  const [name, avatar] = value.split('\n');
  const meta = info.takes.find((t) => t.name === name);
  const base = `/takes/${encodeURIComponent(name)}/`;
  const ours = await loadGlb(`${base}face.glb`);
  const track = ours.animations[0].tracks.find((t) => t.name.endsWith('.morphTargetInfluences'));
  const dict = morphMesh(ours).morphTargetDictionary, n = Object.keys(dict).length;
  const curves = {};
  for (const [c] of CURVES) curves[c] = Float32Array.from({ length: track.times.length }, (_, t) => track.values[t * n + dict[c]]);
  const shown = avatar ? await loadGlb(base + encodeURIComponent(avatar)) : ours;
  show(shown, !avatar);
  const clip = shown.animations.find((a) => a.name === 'talkstyle') || shown.animations[0];
  if (!clip) throw new Error(`${avatar} has no animation: write it with talkstyle retarget`);
  const mixer = new THREE.AnimationMixer(shown.scene);
  mixer.clipAction(clip).play();
  take = { name, mixer, clip, curves, times: track.times };
  const audio = $('audio');
  const src = meta.files.includes('motion.npz') ? `${base}audio.wav`
    : meta.files.includes('preview.mp4') ? `${base}preview.mp4` : null;
  if (src) audio.src = src; else audio.removeAttribute('src');          // no audio: played on the clock
  mixer.setTime(0);
  state.takeMorphs = [];
  state.take = { name, avatar: avatar || null, frames: track.times.length, duration: clip.duration };
  $('takeinfo').textContent = `${name}${avatar ? ` on ${avatar}` : ''}: ${clip.duration.toFixed(1)} s, ` +
    `${track.times.length} frames` + (src ? '' : ' (no audio: write motion.npz or preview.mp4)');
  drawCurves(0);
}

$('take').onchange = () => loadTake($('take').value);
$('play').onclick = async () => {
  if (!take) await loadTake($('take').value);
  const audio = $('audio');
  if (audio.hasAttribute('src')) { audio.currentTime = 0; audio.play(); } else take.start = performance.now();
};

function drawCurves(now) {
  const c = $('curves'), g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  g.font = '11px sans-serif';
  if (take) {
    const { curves, times } = take, dur = times[times.length - 1] || 1;
    CURVES.forEach(([name, colour], j) => {
      g.strokeStyle = colour; g.beginPath();
      curves[name].forEach((v, t) => {
        const x = (times[t] / dur) * c.width, y = c.height - 8 - v * (c.height - 24);
        t ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.stroke();
      g.fillStyle = colour; g.fillText(name, 8 + 100 * j, 12);
    });
    g.strokeStyle = '#fff'; g.beginPath();
    g.moveTo((now / dur) * c.width, 16); g.lineTo((now / dur) * c.width, c.height); g.stroke();
  } else if (state.jaw.length) {                   // live: the last 8 s of jawOpen
    const from = Math.max(0, state.jaw.length - 200);
    g.strokeStyle = CURVES[0][1]; g.beginPath();
    for (let i = from; i < state.jaw.length; i++) {
      const x = ((i - from) / 200) * c.width, y = c.height - 8 - (state.jaw[i] || 0) * (c.height - 24);
      i === from ? g.moveTo(x, y) : g.lineTo(x, y);
    }
    g.stroke();
    g.fillStyle = CURVES[0][1]; g.fillText('jawOpen (live, last 8 s)', 8, 12);
  }
}

// ------------------------------------------------------------------ start
const live = { gltf: null };

async function main() {
  info = await (await fetch('/api/info')).json();
  live.gltf = await loadGlb('/face.glb');
  show(live.gltf);
  $('ref').replaceChildren(...info.references.map((r) => new Option(r, r)));
  $('take').replaceChildren(...info.takes.flatMap((t) => [new Option(t.name, t.name),
    ...t.avatars.map((a) => new Option(`${t.name} on ${a}`, `${t.name}\n${a}`))]));
  if (!info.takes.length) $('takeinfo').textContent = 'no takes: start with --takes FOLDER';
  connect();
  renderer.setAnimationLoop(() => {
    if (take && face && face.gltf !== live.gltf) {
      const audio = $('audio');
      const t = audio.hasAttribute('src') ? audio.currentTime : take.start ? (performance.now() - take.start) / 1000 : 0;
      take.mixer.setTime(Math.min(t, take.clip.duration));
      if (face.mesh) state.takeMorphs.push(Array.from(face.mesh.morphTargetInfluences));
      if (state.takeMorphs.length > 1000) state.takeMorphs.shift();
      drawCurves(t);
    } else {
      if (pending) { applyFrame(names, pending); pending = null; }
      drawCurves(0);
    }
    renderer.render(scene, camera);
    state.taps += 1;
  });
  state.loaded = true;
}

main().catch((e) => { state.errors.push(String(e)); setStatus(`error: ${e.message || e}`, true); });
