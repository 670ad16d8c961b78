// The service browser: each form POSTs one JSON-RPC 2.0 call with fetch()
// and shows the raw request and the raw response.  Everything is written as
// text (textContent), never as HTML.
"use strict";

(function () {
  const browser = document.querySelector(".rpc-browser[data-endpoint]");
  if (!browser) {
    return;
  }
  const endpoint = new URL(browser.dataset.endpoint, document.baseURI).href;
  let counter = 0;

  function buildRequest(form) {
    const request = { jsonrpc: "2.0", method: form.dataset.method };
    const raw = form.elements.params.value.trim();
    if (raw) {
      request.params = JSON.parse(raw);
    }
    if (!form.elements.notification.checked) {
      counter += 1;
      request.id = counter;
    }
    return request;
  }

  async function call(form) {
    const section = form.closest("section");
    const requestView = section.querySelector(".request");
    const responseView = section.querySelector(".response");
    section.querySelector(".exchange").hidden = false;
    responseView.dataset.state = "pending";
    let body;
    try {
      body = JSON.stringify(buildRequest(form));
    } catch (error) {
      requestView.textContent = "";
      responseView.textContent = "The params are not JSON: " + error.message;
      responseView.dataset.state = "error";
      return;
    }
    const headers = { "Content-Type": "application/json" };
    const authorization = document.getElementById("authorization").value.trim();
    if (authorization) {
      headers.Authorization = authorization;
    }
    requestView.textContent = "POST " + endpoint + "\n\n" + body;
    responseView.textContent = "…";
    try {
      const response = await fetch(endpoint, {
        method: "POST", headers: headers, body: body, credentials: "same-origin",
      });
      const text = await response.text();
      responseView.textContent =
        "HTTP " + response.status + " " + response.statusText + "\n\n" + text;
      responseView.dataset.state = "done";
    } catch (error) {
      responseView.textContent = "The request failed: " + error.message;
      responseView.dataset.state = "error";
    }
  }

  for (const form of document.querySelectorAll("form.call")) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      call(form);
    });
  }
})();
