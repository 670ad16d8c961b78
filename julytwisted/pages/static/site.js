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
})();
