// Keeping the reader's place in a file, for every device they read on.
//
// The reader page says where the reader stopped (data-position, data-progress) and, for a
// signed-in reader, where to save it (data-position-api, with the CSRF token). A reader script
// calls `keeper.update(position, progress)` whenever the place changes; the keeper saves the
// latest place at most every few seconds, soon after a page turn (`{ soon: true }`), and once
// more when the page is hidden or left (fetch with keepalive, so the request outlives the
// page). Nothing is saved for a reader who is not signed in.

const EVERY_MS = 5000;
const SOON_MS = 600;

export class PositionKeeper {
  constructor(root, { onSaved = () => {}, onFailed = () => {} } = {}) {
    this.api = root.dataset.positionApi || "";
    this.csrf = root.dataset.csrf || "";
    this.saved = { position: root.dataset.position || "", progress: Number(root.dataset.progress || 0) };
    this.pending = null;
    this.timer = null;
    this.timerDelay = 0;
    this.inFlight = false;
    this.onSaved = onSaved;
    this.onFailed = onFailed;
    if (this.api) {
      // pagehide covers closing the tab and navigating away; visibilitychange covers a phone
      // switching apps, after which the page may be killed without another event.
      addEventListener("pagehide", () => this.flush({ leaving: true }));
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "hidden") this.flush({ leaving: true });
      });
    }
  }

  /** Where the reader stopped last time ("" when never), and how far through (0..1). */
  get initial() {
    return this.saved;
  }

  update(position, progress, { soon = false } = {}) {
    if (!this.api) return;
    const place = { position: String(position), progress: Math.min(1, Math.max(0, Number(progress) || 0)) };
    if (place.position === this.saved.position && place.progress === this.saved.progress) {
      this.pending = null;
      return;
    }
    this.pending = place;
    const delay = soon ? SOON_MS : EVERY_MS;
    if (this.timer && (!soon || this.timerDelay <= delay)) return;
    clearTimeout(this.timer);
    this.timerDelay = delay;
    this.timer = setTimeout(() => this.flush(), delay);
  }

  async flush({ leaving = false } = {}) {
    clearTimeout(this.timer);
    this.timer = null;
    const place = this.pending;
    if (!place || !this.api || (this.inFlight && !leaving)) return;
    this.pending = null;
    this.inFlight = true;
    try {
      const response = await fetch(this.api, {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf },
        body: JSON.stringify(place),
        credentials: "same-origin",
        keepalive: leaving,
      });
      if (!response.ok) throw new Error(String(response.status));
      this.saved = place;
      this.onSaved(place);
    } catch (error) {
      if (!leaving) {
        this.pending ??= place;
        this.onFailed(error);
        this.timer = setTimeout(() => this.flush(), EVERY_MS * 2);
      }
    } finally {
      this.inFlight = false;
      if (this.pending && !this.timer) this.timer = setTimeout(() => this.flush(), SOON_MS);
    }
  }
}

/** A renewed link that fails within this time is a real failure, not another expiry. */
const RENEW_EVERY_MS = 30_000;

/**
 * How a reader outlives its signed link: `renew()` answers a fresh link when the one in use
 * has expired, else null.
 *
 * A link lasts KITOBXON_LINK_MINUTES, and a lecture paused over lunch or a book left open
 * overnight outlives it; players and pdf.js only say "network error", so the old link is asked
 * (HEAD, never following a redirect to the bucket): 410 means expired, and the file's open API
 * gives a new link after deciding again. Any other answer (403: the loan ended) is the reader's
 * real refusal, and so is a failure less than `every` ms after a renewal (Infinity: renew
 * once). Calls while a renewal is under way share it.
 *
 * The link renewed is the page's (root.dataset.url, with the page's open API), or a caption
 * `track`'s (its src, with its own file's open API); the fresh link replaces it there. A reader
 * calls `shown()` once the file shows again by the fresh link: root.dataset.renewed counts
 * these renewals, for whoever watches the page.
 */
export function renewer(root, { every = RENEW_EVERY_MS, track = null } = {}) {
  const api = track ? track.dataset.openApi : root.dataset.openApi;
  let renewedAt = -Infinity;
  let pending = null;

  async function fetchFresh(url) {
    if (!api || !url) return null;
    try {
      const probe = await fetch(url, { method: "HEAD", redirect: "manual", credentials: "same-origin" });
      if (probe.status !== 410) return null;
      const response = await fetch(api, {
        method: "POST",
        headers: { "X-CSRFToken": root.dataset.csrf || "" },
        credentials: "same-origin",
      });
      if (!response.ok) return null;
      const { url: fresh } = await response.json();
      return fresh || null;
    } catch {
      return null;
    }
  }

  async function renewal() {
    const fresh = await fetchFresh(track ? track.src : root.dataset.url);
    if (fresh) {
      renewedAt = Date.now();
      if (track) track.src = fresh;
      else root.dataset.url = fresh;
    }
    return fresh;
  }

  return {
    renew() {
      if (pending) return pending;
      if (Date.now() - renewedAt < every) return Promise.resolve(null);
      pending = renewal().finally(() => {
        pending = null;
      });
      return pending;
    },
    shown() {
      root.dataset.renewed = String(Number(root.dataset.renewed || 0) + 1);
    },
  };
}

/** The translated strings of the page, and a tiny formatter for "%(name)s" placeholders. */
export function pageStrings() {
  const element = document.getElementById("reader-strings");
  return element ? JSON.parse(element.textContent) : {};
}

export function format(template, values) {
  return String(template).replace(/%\((\w+)\)s|%%/g, (match, name) =>
    name ? String(values[name] ?? "") : "%");
}

/** Typing in a field must not turn pages. */
export function isTyping(event) {
  const target = event.target;
  return Boolean(
    event.altKey || event.ctrlKey || event.metaKey ||
    (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))),
  );
}
