// The live feed page: connects to /live, shows each commit as it arrives,
// and reconnects with exponential backoff, asking for what it missed (since).
// Every piece of user text goes in through textContent, never as HTML.
"use strict";
(function () {
  // On /live/ the page's own list; on the home page, the latest commits'
  // panel, whose section names its channel and whose items carry their hash.
  var section = document.getElementById("live-feed");
  var feed = document.getElementById("feed") ||
    (section && section.querySelector("ol.commits"));
  if (!feed) {
    return;
  }
  var state = document.getElementById("state");
  var params = new URLSearchParams(window.location.search);
  var channels = params.get("channels") ||
    (section && section.getAttribute("data-channel")) || "global";
  var lastId = null;
  var delay = 500;
  var MAX_DELAY = 30000;
  var KEEP = 200;

  function setState(name) {
    if (state) {
      state.textContent = name;
      state.setAttribute("data-state", name);
    }
    if (section) {
      section.setAttribute("data-state", name);
    }
  }

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function shown(hash) {
    return Array.prototype.some.call(feed.children, function (item) {
      return item.getAttribute("data-hash") === hash;
    });
  }

  function showCommit(message) {
    var c = message.commit;
    if (c.hash && shown(c.hash)) {
      return; // rendered with the page, or replayed after a reconnect
    }
    var li = document.createElement("li");
    li.className = "commit";
    li.setAttribute("data-id", message.id);
    li.setAttribute("data-hash", c.hash || "");
    li.appendChild(span("who", c.username || "someone"));
    li.appendChild(document.createTextNode(" on "));
    li.appendChild(span("project", (c.project && c.project.name) || "?"));
    li.appendChild(document.createTextNode(": "));
    li.appendChild(span("message", c.message || ""));
    li.appendChild(span("points", " +" + c.points));
    feed.insertBefore(li, feed.firstChild);
    while (feed.childNodes.length > KEEP) {
      feed.removeChild(feed.lastChild);
    }
  }

  function handle(message) {
    if (message.id) {
      lastId = message.id;
    }
    if (message.type === "commit") {
      showCommit(message);
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var query = "channels=" + encodeURIComponent(channels);
    if (lastId) {
      query += "&since=" + encodeURIComponent(lastId);
    }
    var ws = new WebSocket(scheme + window.location.host + "/live?" + query);
    setState("connecting");
    ws.onopen = function () {
      setState("open");
      delay = 500;
    };
    ws.onmessage = function (event) {
      var decoded = JSON.parse(event.data);
      var messages = Array.isArray(decoded) ? decoded : [decoded];
      messages.forEach(handle);
    };
    ws.onclose = function () {
      setState("closed");
      var wait = delay * (0.5 + Math.random() / 2);
      delay = Math.min(delay * 2, MAX_DELAY);
      window.setTimeout(connect, wait);
    };
  }

  connect();
})();
