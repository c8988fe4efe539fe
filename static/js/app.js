/*
 * SkypeMgr's own script, small on purpose: every page works without it.
 *
 * - `data-confirm="Question?"` on a form, on a submit button or on a link asks before going on.
 * - `data-select-all="name"` on a checkbox ticks or unticks every checkbox called `name` in the
 *   same form (give it the `js-only` class: without JavaScript it would do nothing).
 * - `data-copy="id"` on a button copies the value (or the text) of the element with that id,
 *   and says so with its `data-copied-label` (give it the `js-only` class).
 * - When an htmx request fails, say so in the page instead of failing silently.
 * - Polling (`hx-trigger="every …"`) pauses while the tab is hidden: each poll that falls due
 *   is dropped, and the element refreshes once when the tab shows again. (htmx's trigger
 *   filters, `every 5s [!document.hidden]`, would need eval, which the CSP forbids.)
 *
 * htmx itself is configured by <meta name="htmx-config"> in base.html, read when it loads.
 */
(function () {
  "use strict";

  function confirmed(element) {
    var question = element && element.getAttribute("data-confirm");
    return !question || window.confirm(question);
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!confirmed(event.submitter) || !confirmed(form)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest && event.target.closest("a[data-confirm]");
      if (link && !confirmed(link)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box.getAttribute && box.getAttribute("data-select-all");
    if (!name || !box.form) {
      return;
    }
    var boxes = box.form.querySelectorAll(
      'input[type="checkbox"][name="' + window.CSS.escape(name) + '"]'
    );
    boxes.forEach(function (other) {
      other.checked = box.checked;
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    var source = button && document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var text = "value" in source ? source.value : source.textContent;
    function done() {
      var label = button.getAttribute("data-copied-label");
      if (label) {
        button.textContent = label;
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        source.select && source.select();
      });
    } else if (source.select) {
      // Plain HTTP (a development server): select the text and use the old command.
      source.select();
      if (document.execCommand("copy")) {
        done();
      }
    }
  });

  function showError(text) {
    var region = document.getElementById("messages");
    // One notice is enough, even when a polling request keeps failing.
    if (!region || region.querySelector("[data-client-error]")) {
      return;
    }
    var alert = document.createElement("div");
    alert.setAttribute("data-client-error", "");
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", region.getAttribute("data-close-label") || "Close");
    alert.appendChild(close);
    region.appendChild(alert);
  }

  function htmxFailed() {
    var region = document.getElementById("messages");
    showError(
      (region && region.getAttribute("data-htmx-error")) ||
        "Something went wrong. Please reload the page."
    );
  }

  document.addEventListener("htmx:responseError", htmxFailed);
  document.addEventListener("htmx:sendError", htmxFailed);

  var POLLING = /(^|,)\s*every\s/;
  var missedPolls = new Set();

  function attribute(element, name) {
    return element.getAttribute(name) || element.getAttribute("data-" + name);
  }

  function polls(element) {
    return POLLING.test(attribute(element, "hx-trigger") || "");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (document.hidden && element && polls(element)) {
      event.preventDefault();
      missedPolls.add(element);
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) {
      return;
    }
    missedPolls.forEach(function (element) {
      var url = attribute(element, "hx-get");
      if (element.isConnected && url) {
        // As the element's own poll would: its target, swap and select apply.
        window.htmx.ajax("GET", url, { source: element });
      }
    });
    missedPolls.clear();
  });
})();
