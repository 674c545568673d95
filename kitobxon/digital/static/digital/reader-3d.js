// A 3D model in <model-viewer>: turn it, zoom it, and on a phone that can, place it in the room.
//
// model-viewer shows its "ar-button" slot only where augmented reality is available (WebXR,
// Android's Scene Viewer, iOS Quick Look), so the button needs no check here.

import { pageStrings } from "./reader-position.js";

const root = document.getElementById("reader");
const model = document.getElementById("reader-model");
const status = document.getElementById("reader-status");
const strings = pageStrings();

const ready = () => {
  root.dataset.state = "ready";
  status.textContent = strings.loaded;
};
model.addEventListener("load", ready);
if (model.loaded) ready();
model.addEventListener("error", () => {
  root.dataset.state = "failed";
  status.textContent = strings.failed;
});
