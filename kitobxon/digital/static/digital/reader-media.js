// Audio and video: the browser's own player, started where the reader stopped.
//
// The bytes come through a signed link served with byte ranges, so the player fetches only
// what it plays and seeking anywhere is one range request. The position is the playback time
// in seconds, saved every few seconds while playing and at once on pause or after a seek.
// When the signed link expires during a long session, the player takes a fresh one and carries
// on from the same second (playing again if it was playing); a caption track turned on after
// its link expired takes a fresh one too.

import { PositionKeeper, pageStrings, renewer } from "./reader-position.js";

const root = document.getElementById("reader");
const media = document.getElementById("reader-media");
const status = document.getElementById("reader-status");
const strings = pageStrings();
const keeper = new PositionKeeper(root, {
  onSaved: (place) => {
    root.dataset.saved = place.position;
  },
  onFailed: () => {
    status.textContent = strings.not_saved;
  },
});

const place = () => {
  const seconds = Math.floor(media.currentTime * 10) / 10;
  const duration = Number.isFinite(media.duration) && media.duration > 0 ? media.duration : 0;
  return [seconds.toFixed(1), duration ? Math.min(1, media.currentTime / duration) : 0];
};

function restore() {
  const seconds = Number.parseFloat(keeper.initial.position);
  // Near the end means finished: start again from the beginning.
  if (seconds > 0 && (!Number.isFinite(media.duration) || seconds < media.duration - 2)) {
    media.currentTime = seconds;
  }
  root.dataset.state = "ready";
}

if (media.readyState >= HTMLMediaElement.HAVE_METADATA) restore();
else media.addEventListener("loadedmetadata", restore, { once: true });

media.addEventListener("timeupdate", () => {
  if (!media.seeking) keeper.update(...place());
});
media.addEventListener("pause", () => keeper.update(...place(), { soon: true }));
media.addEventListener("seeked", () => keeper.update(...place(), { soon: true }));
media.addEventListener("ended", () => keeper.update(place()[0], 1, { soon: true }));
let playing = false;
media.addEventListener("play", () => {
  playing = true;
});
media.addEventListener("pause", () => {
  playing = false;
});

// A fresh link that fails at once is a real failure (the renewer's 30 seconds).
const renewal = renewer(root);
media.addEventListener("error", async () => {
  const at = media.currentTime;
  const resume = playing;
  const fresh = await renewal.renew();
  if (!fresh) {
    status.textContent = strings.failed;
    root.dataset.state = "failed";
    return;
  }
  media.addEventListener(
    "loadedmetadata",
    () => {
      media.currentTime = at;
      if (resume) media.play().catch(() => {});
      renewal.shown();
    },
    { once: true },
  );
  media.src = fresh;
});

// The browser fetches a caption track only when it is turned on, which may be hours after the
// page was opened; a track whose link expired takes a fresh one (its own file's open API), once.
for (const track of media.querySelectorAll("track[data-open-api]")) {
  const trackRenewal = renewer(root, { track, every: Infinity });
  track.addEventListener("error", () => trackRenewal.renew());
  if (track.readyState === HTMLTrackElement.ERROR) trackRenewal.renew();
}
