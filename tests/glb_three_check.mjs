// Load a GLB with three.js's GLTFLoader (as a web viewer would) and print what it sees as JSON.
// Usage: node glb_three_check.mjs NODE_MODULES_DIR FILE.glb SECONDS
import fs from 'fs';
import { pathToFileURL } from 'url';

globalThis.navigator ??= { userAgent: 'node' };   // GLTFLoader sniffs the browser
globalThis.self ??= globalThis;
const [modules, file, seconds] = process.argv.slice(2);
const load = (rel) => import(pathToFileURL(`${modules}/${rel}`).href);
const THREE = await load('three/build/three.module.js');
const { GLTFLoader } = await load('three/examples/jsm/loaders/GLTFLoader.js');

const bytes = fs.readFileSync(file);
const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
new GLTFLoader().parse(buffer, '', (gltf) => {
  const meshes = [];
  gltf.scene.traverse((o) => { if (o.isMesh) meshes.push(o); });
  const mesh = meshes[0];
  const clip = gltf.animations[0];
  const mixer = new THREE.AnimationMixer(gltf.scene);
  mixer.clipAction(clip).play();
  mixer.setTime(Number(seconds));
  console.log(JSON.stringify({
    meshes: meshes.length,
    vertices: mesh.geometry.attributes.position.count,
    morphTargets: mesh.geometry.morphAttributes.position.length,
    morphTargetDictionary: mesh.morphTargetDictionary,
    tracks: clip.tracks.map((t) => ({ name: t.name, times: t.times.length, values: t.values.length })),
    duration: clip.duration,
    influences: Array.from(mesh.morphTargetInfluences),
    headQuaternion: gltf.scene.getObjectByName('head').quaternion.toArray(),
  }));
}, (err) => { console.error(String(err)); process.exit(1); });
