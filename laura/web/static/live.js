/* Laura live events: one WebSocket per signed-in page (the session cookie authenticates it), each event
   re-dispatched on <body> as the DOM event `laura:<event type>` whose `detail` is the event's data, so a
   page reacts with htmx alone: hx-trigger="laura:transfer.received from:body".

   - Reconnects with exponential backoff (1 s doubling to 30 s, with jitter) and asks for what it missed
     with ?since=<last event id>; a close with 4401 (session ended) or 4403 (refused) stops it.
   - `laura:event` carries every frame whole ({type, data, id, occurredAt}) for a page that wants them all.
   - <template data-live-toast="transfer.received">Received {amount|money}</template> anywhere on the page
     shows that text as a toast in #toasts when the event arrives: {name} is the data's field as text,
     {name|money} the field as money in the page's language. Text only: nothing is parsed as HTML. */
(function () {
  "use strict";
  var STOP = { 4401: true, 4403: true };
  var MAX_DELAY = 30000;
  var TOAST_SECONDS = 8;
  var lastId = null;
  var delay = 1000;
  var socket = null;

  function url() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/ws" + (lastId === null ? "" : "?since=" + lastId);
  }

  function money(value) {
    var lang = document.documentElement.lang || "pt-BR";
    var amount = Number(value);
    if (!isFinite(amount)) return String(value);
    return new Intl.NumberFormat(lang, { style: "currency", currency: "BRL" }).format(amount);
  }

  function fill(text, data) {
    return text.replace(/\{(\w+)(\|money)?\}/g, function (_all, name, asMoney) {
      var value = data && data[name];
      if (value === undefined || value === null) return "";
      return asMoney ? money(value) : String(value);
    });
  }

  function toast(type, data) {
    var region = document.getElementById("toasts");
    var template = document.querySelector('template[data-live-toast="' + type + '"]');
    if (!region || !template) return;
    var item = document.createElement("p");
    item.className = "toast";
    item.textContent = fill(template.content.textContent.trim(), data);
    region.appendChild(item);
    setTimeout(function () { item.remove(); }, TOAST_SECONDS * 1000);
  }

  function dispatch(frame) {
    if (typeof frame.id === "number") lastId = frame.id;
    var body = document.body;
    body.dispatchEvent(new CustomEvent("laura:event", { detail: frame, bubbles: true }));
    body.dispatchEvent(new CustomEvent("laura:" + frame.type, { detail: frame.data || {}, bubbles: true }));
    toast(frame.type, frame.data || {});
  }

  function connect() {
    socket = new WebSocket(url());
    socket.onopen = function () {
      delay = 1000;
      document.body.dataset.live = "open";
    };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (_e) { return; }
      if (frame && typeof frame.type === "string" && frame.type !== "pong") dispatch(frame);
    };
    socket.onclose = function (closed) {
      document.body.dataset.live = "closed";
      if (STOP[closed.code]) return;
      var wait = delay / 2 + Math.random() * delay / 2;
      delay = Math.min(delay * 2, MAX_DELAY);
      setTimeout(connect, wait);
    };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
  window.addEventListener("pagehide", function () {
    if (socket) { socket.onclose = null; socket.close(); }
  });
  window.addEventListener("pageshow", function (shown) {
    if (shown.persisted) connect();  // back from the page cache: the socket was closed on the way out
  });
})();
