// The upload form at /upload/: sends the chosen files with the API token
// typed in (kept in this tab's sessionStorage only) through XMLHttpRequest,
// to show progress, and shows the answer as text, never as HTML.
"use strict";
(function () {
  const form = document.getElementById("upload");
  const token = document.getElementById("token");
  const progress = document.getElementById("progress");
  const result = document.getElementById("result");
  if (!form || !token || !progress || !result) {
    return;
  }
  token.value = sessionStorage.getItem("julython-token") || "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("julython-token", token.value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Authorization", "Bearer " + token.value);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        progress.value = e.loaded / e.total;
      }
    });
    xhr.addEventListener("loadend", () => {
      result.textContent = "HTTP " + xhr.status + "\n\n" + xhr.responseText;
      result.dataset.state = "done";
    });
    result.dataset.state = "sending";
    result.textContent = "";
    xhr.send(new FormData(form));
  });
})();
