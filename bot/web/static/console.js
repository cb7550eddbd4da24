// Shipwatch web console: live pages and counting clocks. Served from /web/static/, no
// dependencies, no build step.
//
// - Opens /web/events (server-sent events). When a "change" event names a topic that the
//   page's <main data-topics="..."> follows, the page is fetched again and <main>'s content
//   swapped in; the element that had the focus (by id, else by name) gets it back. While
//   the reader is typing in a field of <main>, the refresh waits until they leave it.
// - When the session ends ("ended"), the page is reloaded, which leads to sign-in.
// - <html data-live="ready"> while the stream is open.
// - Every <time data-countdown datetime="ISO-8601"> shows the time left until then,
//   counted down each second (h:mm:ss; "-" before it once passed, and class "overdue").
(function () {
  "use strict";

  var main = document.querySelector("main[data-topics]");

  function followed() {
    var current = document.querySelector("main[data-topics]");
    var words = current ? current.getAttribute("data-topics").split(/\s+/) : [];
    return words.filter(function (w) { return w; });
  }

  function typing() {
    var active = document.activeElement;
    return !!(active && main && main.contains(active) &&
      (active.tagName === "TEXTAREA" ||
       (active.tagName === "INPUT" && active.type !== "submit" && active.type !== "button" &&
        active.type !== "checkbox" && active.type !== "radio") ||
       active.isContentEditable));
  }

  var pending = false;
  var busy = false;
  var leaving = false;
  document.addEventListener("submit", function () { leaving = true; }, true);
  window.addEventListener("beforeunload", function () { leaving = true; });

  function refresh() {
    if (busy) { pending = true; return; }
    if (typing()) {
      pending = true;
      document.activeElement.addEventListener("blur", function () {
        if (pending) { pending = false; refresh(); }
      }, { once: true });
      return;
    }
    busy = true;
    pending = false;
    var active = document.activeElement;
    var key = active && main.contains(active) ?
      { id: active.id, name: active.getAttribute("name") } : null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { window.location.reload(); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var next = fresh.querySelector("main[data-topics]");
        if (!next) { return; }
        main.innerHTML = next.innerHTML;
        main.setAttribute("data-topics", next.getAttribute("data-topics"));
        if (fresh.title) { document.title = fresh.title; }
        restoreFocus(key);
        tick();
        document.dispatchEvent(new CustomEvent("shipwatch:refreshed"));
      })
      .catch(function () { /* the next change tries again */ })
      .then(function () {
        busy = false;
        if (pending) { refresh(); }
      });
  }

  function restoreFocus(key) {
    if (!key) { return; }
    var target = null;
    if (key.id) { target = document.getElementById(key.id); }
    if (!target && key.name) {
      target = main.querySelector("[name=\"" + CSS.escape(key.name) + "\"]");
    }
    if (target && main.contains(target)) { target.focus({ preventScroll: true }); }
  }

  function listen() {
    if (!main || !window.EventSource) { return; }
    var source = new EventSource("/web/events");
    // The server sends "ready" once it will pass on every change: tests wait for this.
    source.addEventListener("ready", function () {
      document.documentElement.setAttribute("data-live", "ready");
    });
    source.addEventListener("error", function () {
      document.documentElement.removeAttribute("data-live");
    });
    source.addEventListener("change", function (event) {
      var changed = String(event.data).split(/\s+/);
      var wanted = followed();
      if (changed.some(function (topic) { return wanted.indexOf(topic) >= 0; })) {
        refresh();
      }
    });
    source.addEventListener("ended", function () {
      source.close();
      // Signed out here (a form on its way) or elsewhere: only the latter reloads.
      if (!leaving) { window.location.reload(); }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var clocks = document.querySelectorAll("time[data-countdown]");
    var now = Date.now();
    for (var i = 0; i < clocks.length; i++) {
      var clock = clocks[i];
      var until = Date.parse(clock.getAttribute("datetime"));
      if (isNaN(until)) { continue; }
      var left = Math.round((until - now) / 1000);
      var past = left < 0;
      var s = Math.abs(left);
      var h = Math.floor(s / 3600);
      var text = h + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
      clock.textContent = (past ? "-" : "") + text;
      clock.classList.toggle("overdue", past);
    }
  }

  listen();
  tick();
  window.setInterval(tick, 1000);
})();
