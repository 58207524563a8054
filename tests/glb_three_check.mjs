// Load a GLB with three.js's GLTFLoader (as a web viewer would) and print what it sees as JSON.
// Usage: node glb_three_check.mjs NODE_MODULES_DIR FILE.glb SECONDS
import { fail, loadGltf } from './three_gltf.mjs';

const [modules, file, seconds] = process.argv.slice(2);
loadGltf(modules, file).then(({ THREE, gltf }) => {
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
}).catch(fail);
