// Load a retargeted avatar with three.js's GLTFLoader, play its "talkstyle" clip and print, as JSON,
// every mesh's morph influences and the named bone's world rotation at rest and at SECONDS.
// Usage: node avatar_three_check.mjs NODE_MODULES_DIR FILE.glb SECONDS BONE_NAME
import { fail, loadGltf } from './three_gltf.mjs';

const [modules, file, seconds, bone] = process.argv.slice(2);
loadGltf(modules, file).then(({ THREE, gltf }) => {
  // three.js sanitises node names (':' and '.' are path separators in its track syntax).
  const node = gltf.scene.getObjectByName(THREE.PropertyBinding.sanitizeNodeName(bone));
  const world = () => { gltf.scene.updateMatrixWorld(true); return node.getWorldQuaternion(new THREE.Quaternion()).toArray(); };
  const rest = world();
  const clip = THREE.AnimationClip.findByName(gltf.animations, 'talkstyle');
  const mixer = new THREE.AnimationMixer(gltf.scene);
  mixer.clipAction(clip).play();
  mixer.setTime(Number(seconds));
  const meshes = {};
  gltf.scene.traverse((o) => {
    if (o.isMesh && o.morphTargetDictionary) {
      meshes[o.name] = { dictionary: o.morphTargetDictionary, influences: Array.from(o.morphTargetInfluences) };
    }
  });
  console.log(JSON.stringify({ meshes, rest, posed: world(), duration: clip.duration,
                               tracks: clip.tracks.map((t) => t.name) }));
}).catch(fail);
