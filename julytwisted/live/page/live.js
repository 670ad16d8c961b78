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
  // The home page says which feed entry its list ends with: the replay
  // brings only what came after, so older commits never land on top.
  var lastId = (section && section.getAttribute("data-since")) || null;
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

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
    "Sep", "Oct", "Nov", "Dec"];

  function element(name, cls, text) {
    var e = document.createElement(name);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function link(text, href) {
    var a = element("a", "", text);
    a.setAttribute("href", href);
    return a;
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // The time as the pages show it: "05 Jul 2026 14:03 UTC".
  function when(instant) {
    var t = element("time", "", instant || "");
    var date = new Date(instant);
    if (instant && !isNaN(date.getTime())) {
      t.setAttribute("datetime", instant);
      t.textContent = two(date.getUTCDate()) + " " + MONTHS[date.getUTCMonth()] +
        " " + date.getUTCFullYear() + " " + two(date.getUTCHours()) + ":" +
        two(date.getUTCMinutes()) + " UTC";
    }
    return t;
  }

  function shown(hash) {
    return Array.prototype.some.call(feed.children, function (item) {
      return item.getAttribute("data-hash") === hash;
    });
  }

  // One entry, as the pages render a commit: its message's first line,
  // then who (their page), where (the project's page), when, and the commit.
  function entry(message) {
    var c = message.commit;
    var project = c.project || {};
    var slug = project.slug || "";
    var li = element("li", "commit");
    li.setAttribute("data-id", message.id);
    li.setAttribute("data-hash", c.hash || "");
    var lines = (c.message || "").trim().split("\n");
    li.appendChild(element("p", "message", lines[0] || "(no message)"));
    var meta = element("p", "meta");
    if (c.username) {
      meta.appendChild(
        link(c.username, "/people/" + encodeURIComponent(c.username)));
    } else {
      meta.appendChild(element("span", "", c.author || "an unnamed author"));
    }
    meta.appendChild(document.createTextNode(" in "));
    meta.appendChild(slug ?
      link(project.name || slug, "/projects/" + encodeURIComponent(slug)) :
      element("span", "", project.name || "?"));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(when(c.timestamp));
    if (c.hash && /^https?:\/\//.test(c.url || "")) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(link(c.hash.slice(0, 8), c.url));
    }
    if (c.hash) {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(link("details", "/commits/" + encodeURIComponent(c.hash)));
    }
    if (c.review === "held") {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(element("strong", "review-held", "held"));
    }
    li.appendChild(meta);
    return li;
  }

  function showCommit(message) {
    var c = message.commit;
    if (c.hash && shown(c.hash)) {
      return; // rendered with the page, or replayed after a reconnect
    }
    feed.insertBefore(entry(message), feed.firstChild);
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
