// Shared by the three.js checks: load three.js from NODE_MODULES_DIR and parse a GLB file with its
// GLTFLoader under Node, as a web viewer would. Resolves to { THREE, gltf }.
import fs from 'fs';
import { pathToFileURL } from 'url';

globalThis.navigator ??= { userAgent: 'node' };   // GLTFLoader sniffs the browser
globalThis.self ??= globalThis;

export async function loadGltf(modules, file) {
  const load = (rel) => import(pathToFileURL(`${modules}/${rel}`).href);
  const THREE = await load('three/build/three.module.js');
  const { GLTFLoader } = await load('three/examples/jsm/loaders/GLTFLoader.js');
  const bytes = fs.readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const gltf = await new Promise((resolve, reject) => new GLTFLoader().parse(buffer, '', resolve, reject));
  return { THREE, gltf };
}

export function fail(err) { console.error(String(err)); process.exit(1); }
