// The 3D viewer of a task: viewer.glb (Draco or meshopt compressed) with its skeleton drawn over
// the mesh, its animation clips, orbit and zoom. three.js comes from /static/vendor (copied from
// the npm package by scripts/build_static.sh) through the page's import map.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { DRACOLoader } from "three/addons/loaders/DRACOLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { MeshoptDecoder } from "three/addons/libs/meshopt_decoder.module.js";

const DRACO_PATH = "/static/vendor/three/examples/jsm/libs/draco/gltf/";
const FOV = 35;
const FRAME_MARGIN = 1.12; // the model fills about 1/1.12 of the view (height or width) when framed
const VIEW_DIR = new THREE.Vector3(0.55, 0.18, 1).normalize(); // three-quarter view from the front (+Z)
const JOINT_RADIUS = 0.011; // of the model's height
const BONE_COLOR = 0x00c2a8;
const JOINT_COLOR = 0xff6a3d;

export class RigViewer {
  /** ``host``: an element with a fixed aspect ratio; the canvas fills it. */
  constructor(host) {
    this.host = host;
    this.timer = new THREE.Timer();
    this.mixer = null;
    this.action = null;
    this.clips = [];
    this.helper = null;
    this.joints = null;
    this.visible = true;

    this.renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.toneMapping = THREE.NeutralToneMapping;
    host.prepend(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(FOV, 1, 0.01, 1000);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x9097a8, 2.2));
    this.sun = new THREE.DirectionalLight(0xffffff, 2.4);
    this.scene.add(this.sun, this.sun.target);

    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;

    this.resize = this.resize.bind(this);
    new ResizeObserver(this.resize).observe(host);
    new IntersectionObserver(([e]) => { this.visible = e.isIntersecting; }).observe(host);
    this.resize();
    this.renderer.setAnimationLoop(() => this.frame());
  }

  resize() {
    const w = Math.max(1, this.host.clientWidth), h = Math.max(1, this.host.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** Load ``url``; resolves to ``{clips: [names], bones: count}``. */
  async load(url) {
    const draco = new DRACOLoader().setDecoderPath(DRACO_PATH);
    const loader = new GLTFLoader().setDRACOLoader(draco).setMeshoptDecoder(MeshoptDecoder);
    const gltf = await loader.loadAsync(url);
    draco.dispose();
    const model = gltf.scene;
    this.scene.add(model);
    this.model = model;

    const box = new THREE.Box3().setFromObject(model);
    const size = box.getSize(new THREE.Vector3());
    const center = box.getCenter(new THREE.Vector3());
    this.height = Math.max(size.x, size.y, size.z) || 1;
    this.frameBox = { size, center };

    // The skeleton over the mesh: bones as lines, joints as dots, both drawn on top.
    this.helper = new THREE.SkeletonHelper(model);
    this.helper.setColors(new THREE.Color(BONE_COLOR), new THREE.Color(BONE_COLOR));
    Object.assign(this.helper.material, { depthTest: false, depthWrite: false, transparent: true, opacity: 0.95 });
    this.helper.renderOrder = 10;
    this.scene.add(this.helper);
    const bones = this.helper.bones;
    if (bones.length) {
      const dot = new THREE.SphereGeometry(this.height * JOINT_RADIUS, 10, 8);
      const mat = new THREE.MeshBasicMaterial({ color: JOINT_COLOR, depthTest: false, depthWrite: false, transparent: true });
      this.joints = new THREE.InstancedMesh(dot, mat, bones.length);
      this.joints.renderOrder = 11;
      this.joints.frustumCulled = false;
      this.scene.add(this.joints);
    }

    const grid = new THREE.GridHelper(this.height * 3, 12, 0xb9bfcf, 0xd6dae4);
    grid.position.set(center.x, box.min.y, center.z);
    grid.material.transparent = true;
    grid.material.opacity = 0.7;
    this.scene.add(grid);

    this.clips = gltf.animations || [];
    if (this.clips.length) this.mixer = new THREE.AnimationMixer(model);
    this.resetView();
    return { clips: this.clips.map((c) => c.name), bones: bones.length };
  }

  /** Play the clip called ``name`` in a loop; ``null``: the bind pose. */
  play(name) {
    if (!this.mixer) return;
    const clip = this.clips.find((c) => c.name === name);
    if (this.action) this.action.stop();
    this.action = null;
    if (clip) {
      this.action = this.mixer.clipAction(clip);
      this.action.reset().play();
    } else {
      this.mixer.stopAllAction();
      this.model.traverse((o) => { if (o.isSkinnedMesh) o.skeleton.pose(); });
    }
    this.paused = false;
  }

  setPaused(paused) { this.paused = paused; }

  showSkeleton(on) {
    if (this.helper) this.helper.visible = on;
    if (this.joints) this.joints.visible = on;
  }

  resetView() {
    if (!this.frameBox) return;
    const { size, center } = this.frameBox;
    // The distance at which the model's height fits the vertical field of view and its width
    // (seen from any side: the diagonal of its footprint) the horizontal one.
    const tanHalf = Math.tan(THREE.MathUtils.degToRad(FOV / 2));
    const across = Math.hypot(size.x, size.z);
    const fit = Math.max(size.y / 2 / tanHalf, across / 2 / (tanHalf * this.camera.aspect)) * FRAME_MARGIN + across / 2;
    this.camera.near = fit / 100;
    this.camera.far = fit * 100;
    this.camera.position.copy(center).addScaledVector(VIEW_DIR, fit);
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(center);
    this.controls.minDistance = fit * 0.15;
    this.controls.maxDistance = fit * 6;
    this.controls.update();
    this.sun.position.copy(center).add(new THREE.Vector3(1, 2, 1.5).multiplyScalar(this.height));
    this.sun.target.position.copy(center);
  }

  frame() {
    this.timer.update();
    const dt = Math.min(this.timer.getDelta(), 0.1); // after a pause (tab hidden), no jump
    if (!this.visible) return;
    if (this.mixer && !this.paused) this.mixer.update(dt);
    if (this.joints && this.joints.visible) {
      const m = new THREE.Matrix4(), p = new THREE.Vector3();
      this.helper.bones.forEach((b, i) => { b.getWorldPosition(p); this.joints.setMatrixAt(i, m.makeTranslation(p.x, p.y, p.z)); });
      this.joints.instanceMatrix.needsUpdate = true;
    }
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }
}
