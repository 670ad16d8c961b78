# -*- test-case-name: tests.upload.test_browser_upload -*-
"""
The page at C{GET /upload/}: a form that sends files to C{POST /upload/}.

A bare form for any kind of file: it sends the API token typed into it as
C{Authorization: Bearer}, kept in the tab's C{sessionStorage} only, through
C{XMLHttpRequest} so that it can show progress.  (The web site's own forms
upload with the session: L{julytwisted._html.upload_form}.)  No
user text is ever put into the page as HTML: results are shown as text.
"""

from __future__ import annotations

FORM_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Upload - Julython</title>
<style>
body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
label { display: block; margin: .6rem 0; }
progress { width: 100%; }
pre { background: #f4f4f4; padding: .5rem; white-space: pre-wrap; }
</style></head>
<body><main>
<h1>Upload</h1>
<form id="upload" method="post" action="/upload/" enctype="multipart/form-data">
<label>API token (from julython.createToken)
 <input type="password" id="token" autocomplete="off" required></label>
<label>Kind
 <select name="kind">
  <option value="file">file</option>
  <option value="avatar">avatar</option>
  <option value="screenshot">screenshot</option>
 </select></label>
<label>Project (for a screenshot: the project's slug)
 <input type="text" name="project"></label>
<label>Files <input type="file" name="file" multiple required></label>
<button type="submit">Upload</button>
</form>
<progress id="progress" max="1" value="0"></progress>
<pre id="result" data-state="idle"></pre>
</main>
<script>
"use strict";
const form = document.getElementById("upload");
const token = document.getElementById("token");
const progress = document.getElementById("progress");
const result = document.getElementById("result");
token.value = sessionStorage.getItem("julython-token") || "";
form.addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("julython-token", token.value);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("Authorization", "Bearer " + token.value);
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) { progress.value = e.loaded / e.total; }
  });
  xhr.addEventListener("loadend", () => {
    result.textContent = "HTTP " + xhr.status + "\\n\\n" + xhr.responseText;
    result.dataset.state = "done";
  });
  result.dataset.state = "sending";
  result.textContent = "";
  xhr.send(new FormData(form));
});
</script>
</body></html>
"""

__all__ = ["FORM_PAGE"]
