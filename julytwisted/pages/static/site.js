// julytwisted: small enhancements; every page works without this file.
(function () {
  "use strict";
  // Countdowns tick.
  var clocks = document.querySelectorAll("time.countdown-clock");
  var loaded = Date.now();
  function tick() {
    clocks.forEach(function (clock) {
      var now = Date.parse(clock.getAttribute("data-now")) + (Date.now() - loaded);
      var left = Date.parse(clock.getAttribute("datetime")) - now;
      if (isNaN(left)) { return; }
      if (left < 0) { left = 0; }
      var s = Math.floor(left / 1000);
      var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24;
      var m = Math.floor(s / 60) % 60;
      clock.textContent = d + " days, " + h + " hours, " + m + " minutes";
    });
  }
  if (clocks.length) { tick(); setInterval(tick, 30000); }

  // A live list whose section names elements in data-refresh (a private
  // board's facts and ranking): when the live feed's script adds a commit
  // to it, read this page again and put those elements in place, as the
  // server renders them.  Commits that come together are read once.
  var live = document.querySelector("section#live-feed[data-refresh]");
  var list = live && live.querySelector("ol.commits");
  if (list && window.MutationObserver && window.fetch && window.DOMParser) {
    var ids = live.getAttribute("data-refresh").split(" ");
    var timer = null, reading = false, again = false;
    var swap = function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      ids.forEach(function (id) {
        var now = document.getElementById(id), next = fresh.getElementById(id);
        if (now && next) { now.replaceWith(document.adoptNode(next)); }
      });
    };
    var read = function () {
      timer = null;
      if (reading) { again = true; return; }
      reading = true;
      fetch(window.location.href, {
        credentials: "same-origin", headers: {"Accept": "text/html"}
      }).then(function (answer) {
        // Off the board now, or signed out: the page keeps what it shows.
        return answer.ok ? answer.text().then(swap) : null;
      }).catch(function () { return null; }).then(function () {
        reading = false;
        if (again) { again = false; soon(); }
      });
    };
    // A short, spread wait: a push's commits land together, and a board's
    // watchers do not all ask in the same instant.
    var soon = function () {
      if (timer === null) { timer = setTimeout(read, 200 + Math.random() * 600); }
    };
    new MutationObserver(soon).observe(list, {childList: true});
  }
})();
