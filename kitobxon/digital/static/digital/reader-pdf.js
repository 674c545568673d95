// The PDF reader: pdf.js shows one page at a time, at the width of the screen.
//
// The document's own scripts never run (no scripting manager, isEvalSupported off, no XFA);
// its links inside the document work, through the outline too. Search asks the library's API,
// which searches the text extracted on upload, so a 900-page book is searched without
// downloading it. Keys: ←/→ and PgUp/PgDn turn pages, Home/End go to the first/last, + and −
// zoom. The page number is the reading position, saved for the reader's other devices.
// pdf.js streams the document and asks for byte ranges of the parts it has not got yet (a cut
// stream, a jump far ahead); when the signed link has expired by then, the page cannot be
// drawn, so the document is reopened by a fresh link at the same page and zoom.

import * as pdfjsLib from "../vendor/pdfjs/build/pdf.min.mjs";
import { PositionKeeper, format, isTyping, pageStrings, renewer } from "./reader-position.js";

// pdf.js's viewer components find the library through this global.
globalThis.pdfjsLib = pdfjsLib;
const { EventBus, PDFLinkService, PDFViewer, ScrollMode } = await import("../vendor/pdfjs/web/pdf_viewer.mjs");

const vendor = (path) => new URL(`../vendor/pdfjs/${path}`, import.meta.url).href;
pdfjsLib.GlobalWorkerOptions.workerSrc = vendor("build/pdf.worker.min.mjs");

const root = document.getElementById("reader");
const strings = pageStrings();
const status = document.getElementById("reader-status");
const container = document.getElementById("pdf-container");
const pageInput = document.getElementById("pdf-page");
const pageCount = document.getElementById("pdf-count");
const outlineBox = document.getElementById("pdf-outline");
const searchForm = document.getElementById("pdf-search");
const hitList = document.getElementById("pdf-hits");
const searchStatus = document.getElementById("pdf-search-status");

const say = (text) => {
  status.textContent = text;
};

// Labels of pdf.js's own elements come from the page (translated on the server), so pdf.js
// gets a quiet localisation object instead of its built-in English one.
const quietL10n = {
  getLanguage: () => document.documentElement.lang || "en",
  getDirection: () => document.documentElement.dir || "ltr",
  get: async (ids, _args, fallback) => (Array.isArray(ids) ? ids.map(() => "") : fallback ?? ""),
  translate: async () => {},
  translateOnce: async () => {},
  destroy: async () => {},
  pause: () => {},
  resume: () => {},
};

const eventBus = new EventBus();
const linkService = new PDFLinkService({ eventBus });
const viewer = new PDFViewer({
  container,
  viewer: document.getElementById("pdf-viewer"),
  eventBus,
  linkService,
  l10n: quietL10n,
  annotationMode: pdfjsLib.AnnotationMode.ENABLE,
  textLayerMode: 1,
  removePageBorders: true,
});
linkService.setViewer(viewer);

const keeper = new PositionKeeper(root, {
  onSaved: (place) => {
    root.dataset.saved = place.position;
  },
  onFailed: () => say(strings.not_saved),
});

const openDocument = (url) =>
  pdfjsLib.getDocument({
    url,
    isEvalSupported: false,
    enableXfa: false,
    cMapUrl: vendor("cmaps/"),
    cMapPacked: true,
    standardFontDataUrl: vendor("standard_fonts/"),
    wasmUrl: vendor("wasm/"),
    iccUrl: vendor("iccs/"),
  }).promise;

// A fresh link whose pages fail at once is a real failure (the renewer's 30 seconds).
const renewal = renewer(root);

/** The document by a fresh link if the page's has expired, else null. */
async function reopened() {
  const fresh = await renewal.renew();
  return fresh ? openDocument(fresh) : null;
}

let pdf;
try {
  pdf = await openDocument(root.dataset.url);
} catch (error) {
  pdf = await reopened().catch(() => null);
  if (!pdf) {
    say(strings.failed);
    root.dataset.state = "failed";
    throw error;
  }
}

const pages = pdf.numPages;
pageInput.max = String(pages);
pageCount.textContent = format(strings.of_pages, { count: pages });
viewer.setDocument(pdf);
linkService.setDocument(pdf, null);

function showPage(number) {
  pageInput.value = String(number);
  root.dataset.page = String(number);
}

// Where a document reopened by a fresh link is to show (see renew below).
let reopening = null;

eventBus.on("pagesinit", () => {
  const place = reopening ?? { page: Number.parseInt(keeper.initial.position, 10), scale: "page-width" };
  viewer.scrollMode = ScrollMode.PAGE;
  viewer.currentScaleValue = place.scale;
  for (const div of viewer.viewer.querySelectorAll(".page[data-page-number]")) {
    div.setAttribute("aria-label", format(strings.hit_page, { page: div.dataset.pageNumber }));
  }
  if (place.page >= 1 && place.page <= pages) viewer.currentPageNumber = place.page;
  showPage(viewer.currentPageNumber);
  if (reopening) {
    reopening = null;
    renewal.shown();
  }
  root.dataset.state = "ready";
});

eventBus.on("pagechanging", ({ pageNumber }) => {
  showPage(pageNumber);
  keeper.update(String(pageNumber), pageNumber / pages, { soon: true });
});

// Which pages are drawn (pdf.js draws the next one ahead), for anyone waiting on a page.
const drawn = new Set();
eventBus.on("pagerendered", ({ pageNumber, error }) => {
  if (error) {
    renew();
    return;
  }
  drawn.add(pageNumber);
  root.dataset.rendered = [...drawn].join(" ");
});

// One reopening at a time: pages failing while it runs wait for its document.
let renewing = false;
async function renew() {
  if (renewing) return;
  renewing = true;
  const fresh = await reopened().catch(() => null);
  if (!fresh) {
    renewing = false;
    say(strings.failed);
    return;
  }
  // The place is taken now: the reader may have turned pages while the link was renewed.
  reopening = { page: viewer.currentPageNumber, scale: viewer.currentScaleValue };
  const old = pdf;
  pdf = fresh;
  drawn.clear();
  viewer.setDocument(pdf);
  linkService.setDocument(pdf, null);
  old.destroy();
  renewing = false;
}

// --- Turning pages and zooming ----------------------------------------------------------------

const go = (number) => {
  const page = Math.min(pages, Math.max(1, Number.parseInt(number, 10) || 1));
  viewer.currentPageNumber = page;
  showPage(page);
};

document.getElementById("pdf-prev").addEventListener("click", () => viewer.previousPage());
document.getElementById("pdf-next").addEventListener("click", () => viewer.nextPage());
pageInput.addEventListener("change", () => go(pageInput.value));
pageInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    go(pageInput.value);
  }
});
document.getElementById("pdf-zoom-in").addEventListener("click", () => viewer.increaseScale());
document.getElementById("pdf-zoom-out").addEventListener("click", () => viewer.decreaseScale());
document.getElementById("pdf-zoom-fit").addEventListener("click", () => {
  viewer.currentScaleValue = "page-width";
});

// A phone turned sideways keeps the page at the width of the screen.
addEventListener("resize", () => {
  if (["page-width", "page-fit", "auto"].includes(viewer.currentScaleValue)) {
    viewer.currentScaleValue = viewer.currentScaleValue;
  }
});

const KEYS = {
  ArrowRight: () => viewer.nextPage(),
  PageDown: () => viewer.nextPage(),
  ArrowLeft: () => viewer.previousPage(),
  PageUp: () => viewer.previousPage(),
  Home: () => go(1),
  End: () => go(pages),
  "+": () => viewer.increaseScale(),
  "=": () => viewer.increaseScale(),
  "-": () => viewer.decreaseScale(),
};

document.addEventListener("keydown", (event) => {
  const action = KEYS[event.key];
  if (!action || isTyping(event)) return;
  event.preventDefault();
  action();
});

// --- Contents: the document's outline -----------------------------------------------------------

function outlineList(items) {
  const list = document.createElement("ul");
  for (const item of items) {
    const entry = document.createElement("li");
    if (item.dest) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = item.title;
      button.addEventListener("click", () => linkService.goToDestination(item.dest));
      entry.append(button);
    } else {
      entry.textContent = item.title;
    }
    if (item.items?.length) entry.append(outlineList(item.items));
    list.append(entry);
  }
  return list;
}

const outline = await pdf.getOutline();
if (outline?.length) {
  outlineBox.replaceChildren(outlineList(outline));
} else {
  outlineBox.textContent = strings.no_outline;
}

// --- Search inside the document -----------------------------------------------------------------

// A snippet is escaped HTML from the server with the words found in <mark>; only text and
// <mark> are copied over, so nothing else in it could ever become markup.
function snippetNodes(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const nodes = [];
  for (const node of template.content.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      nodes.push(mark);
    } else {
      nodes.push(document.createTextNode(node.textContent));
    }
  }
  return nodes;
}

const tell = (text) => {
  searchStatus.textContent = text;
};

searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = new FormData(searchForm).get("q").trim();
  if (!query) return;
  hitList.replaceChildren();
  tell(strings.searching);
  const url = `${root.dataset.searchApi}?${new URLSearchParams({ q: query, limit: "50" })}`;
  let hits;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) {
      tell(body.detail || strings.failed);
      return;
    }
    hits = body;
  } catch {
    tell(strings.failed);
    return;
  }
  if (!hits.length) {
    tell(root.dataset.hasText === "true" ? strings.no_hits : strings.no_text);
    return;
  }
  tell(format(strings.hits, { count: hits.length }));
  for (const hit of hits) {
    const entry = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "reader-hit";
    button.dataset.page = String(hit.page);
    const label = document.createElement("strong");
    label.textContent = format(strings.hit_page, { page: hit.page });
    const text = document.createElement("span");
    text.className = "snippet";
    text.append(...snippetNodes(hit.snippet));
    button.append(label, " ", text);
    button.addEventListener("click", () => go(hit.page));
    entry.append(button);
    hitList.append(entry);
  }
});
