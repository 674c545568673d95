// The EPUB reader: foliate-js lays the book out in pages that fit the screen.
//
// The book's pages are blob: frames that inherit the reader page's Content-Security-Policy, so
// none of the book's scripts can run (foliate-js's own advice). Contents, search (foliate's,
// over the whole book), a position slider, text size and night mode; ←/→ and PgUp/PgDn turn
// pages, in the book's frame as well as on the page. The position is an EPUB CFI, saved for the
// reader's other devices; text size and night mode are this device's settings.
// foliate-js fetches the whole book once, when it opens, so only an expired link at opening
// matters (a page restored hours after it was served): the book is then opened by a fresh one.

import "../vendor/foliate-js/view.js";
import { PositionKeeper, format, isTyping, pageStrings, renewer } from "./reader-position.js";

const MAX_HITS = 200;
const SIZES = [80, 90, 100, 110, 125, 150, 175, 200];

const root = document.getElementById("reader");
const strings = pageStrings();
const status = document.getElementById("reader-status");
const stage = document.getElementById("epub-book");
const locationLabel = document.getElementById("epub-location");
const slider = document.getElementById("epub-progress");
const tocBox = document.getElementById("epub-toc");
const searchForm = document.getElementById("epub-search");
const hitList = document.getElementById("epub-hits");
const searchStatus = document.getElementById("epub-search-status");
const nightButton = document.getElementById("epub-night");

const say = (text) => {
  status.textContent = text;
};

// This device's settings; storage may be refused (private browsing), then they last a visit.
const stored = (key) => {
  try {
    return localStorage.getItem(`kitobxon.reader.${key}`);
  } catch {
    return null;
  }
};
const store = (key, value) => {
  try {
    localStorage.setItem(`kitobxon.reader.${key}`, value);
  } catch {
    // nothing to do: the setting still applies to this page
  }
};

const settings = {
  size: SIZES.includes(Number(stored("size"))) ? Number(stored("size")) : 100,
  night: stored("night") === "1",
};

function bookStyle() {
  const [paper, ink, link] = settings.night ? ["#121212", "#e8e6e3", "#8ab4f8"] : ["#ffffff", "#1b1f24", "#0b5d4b"];
  return `
    html { color-scheme: ${settings.night ? "dark" : "light"}; font-size: ${settings.size}% !important; }
    html, body { background: ${paper} !important; color: ${ink} !important; }
    a:link, a:visited { color: ${link} !important; }
    p, li, blockquote, dd { line-height: 1.55; }
    img, svg, video { max-width: 100%; height: auto; }
    pre { white-space: pre-wrap !important; }
  `;
}

const view = document.createElement("foliate-view");
stage.append(view);

function applySettings() {
  view.renderer?.setStyles?.(bookStyle());
  root.classList.toggle("night", settings.night);
  nightButton.setAttribute("aria-pressed", String(settings.night));
  root.dataset.size = String(settings.size);
  store("size", String(settings.size));
  store("night", settings.night ? "1" : "0");
}

const keeper = new PositionKeeper(root, {
  onSaved: (place) => {
    root.dataset.saved = place.position;
  },
  onFailed: () => say(strings.not_saved),
});

// --- Keys: on the page and inside the book's own frames ------------------------------------------

const KEYS = {
  ArrowLeft: () => view.goLeft(),
  ArrowRight: () => view.goRight(),
  PageUp: () => view.prev(),
  PageDown: () => view.next(),
};

function onKey(event) {
  const action = KEYS[event.key];
  if (!action || isTyping(event)) return;
  event.preventDefault();
  action();
}

document.addEventListener("keydown", onKey);
view.addEventListener("load", ({ detail: { doc } }) => doc.addEventListener("keydown", onKey));

// --- Opening the book at the reader's place ---------------------------------------------------

try {
  await view.open(root.dataset.url);
} catch (error) {
  const renewal = renewer(root);
  const fresh = await renewal.renew();
  try {
    if (!fresh) throw error;
    await view.open(fresh);
    renewal.shown();
  } catch {
    say(strings.failed);
    root.dataset.state = "failed";
    throw error;
  }
}

view.renderer.setAttribute("flow", "paginated");
view.renderer.setAttribute("max-inline-size", "720px");
applySettings();

view.addEventListener("relocate", ({ detail }) => {
  const fraction = Number(detail.fraction) || 0;
  const percent = format(strings.progress, { percent: Math.round(fraction * 100) });
  locationLabel.textContent = detail.tocItem?.label ? `${detail.tocItem.label} · ${percent}` : percent;
  slider.value = String(fraction);
  slider.setAttribute("aria-valuetext", percent);
  root.dataset.section = String(detail.section?.current ?? "");
  if (detail.cfi) keeper.update(detail.cfi, fraction, { soon: true });
});

const last = keeper.initial.position;
try {
  await view.init({ lastLocation: last || null, showTextStart: !last });
} catch {
  await view.goToTextStart();
}
root.dataset.state = "ready";

// --- Toolbar --------------------------------------------------------------------------------------

document.getElementById("epub-prev").addEventListener("click", () => view.goLeft());
document.getElementById("epub-next").addEventListener("click", () => view.goRight());
slider.addEventListener("change", () => view.goToFraction(Number(slider.value)));

function resize(step) {
  const at = SIZES.indexOf(settings.size);
  settings.size = SIZES[Math.min(SIZES.length - 1, Math.max(0, at + step))];
  applySettings();
}
document.getElementById("epub-smaller").addEventListener("click", () => resize(-1));
document.getElementById("epub-larger").addEventListener("click", () => resize(1));
nightButton.addEventListener("click", () => {
  settings.night = !settings.night;
  applySettings();
});

// --- Contents ---------------------------------------------------------------------------------------

function tocList(items) {
  const list = document.createElement("ul");
  for (const item of items) {
    const entry = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link-button";
    button.textContent = item.label?.trim() || "…";
    button.addEventListener("click", () => view.goTo(item.href));
    entry.append(button);
    if (item.subitems?.length) entry.append(tocList(item.subitems));
    list.append(entry);
  }
  return list;
}

if (view.book.toc?.length) tocBox.replaceChildren(tocList(view.book.toc));
else tocBox.textContent = strings.no_toc;

// --- Search inside the book --------------------------------------------------------------------------

let searching = 0;

const tell = (text) => {
  searchStatus.textContent = text;
};

searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = new FormData(searchForm).get("q").trim();
  const run = ++searching;
  hitList.replaceChildren();
  view.clearSearch();
  if (!query) return;
  tell(strings.searching);
  let count = 0;
  for await (const result of view.search({ query })) {
    if (run !== searching) return; // a newer search started
    if (result === "done") break;
    for (const hit of result.subitems ?? []) {
      if (count >= MAX_HITS) break;
      count += 1;
      const entry = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "reader-hit";
      const label = document.createElement("strong");
      label.textContent = result.label || "";
      const text = document.createElement("span");
      text.className = "snippet";
      const mark = document.createElement("mark");
      mark.textContent = hit.excerpt?.match ?? "";
      text.append(hit.excerpt?.pre ?? "", mark, hit.excerpt?.post ?? "");
      button.append(label, " ", text);
      button.addEventListener("click", () => view.goTo(hit.cfi));
      entry.append(button);
      hitList.append(entry);
    }
  }
  tell(count ? format(strings.hits, { count }) : strings.no_hits);
});
