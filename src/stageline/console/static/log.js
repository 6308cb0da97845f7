/* stageline console: an action's log, streamed over server-sent events as text (never markup),
 * searchable, failure lines marked; the test report summary is fetched once the log ends.
 * Needs console.js first. */
(function () {
  "use strict";

  var s = window.stageline;
  var $ = s.$, $all = s.$all, debounce = s.debounce, notice = s.notice;
  var FRAGMENT_HEADERS = s.FRAGMENT_HEADERS;

  /* --- the log view ------------------------------------------------------------------ */

  var FAILURE = /\b(error|errors|failed|failure|fatal|exception|traceback|panic)\b|exit (code|status) [1-9]/i;
  var HARMLESS = /\b0 (failed|errors?|failures)\b/i;
  var ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]/g;

  function setupLog() {
    var list = $("ol[data-log]");
    if (!list) return;
    var state = $("#log-state"), search = $("#log-search"), only = $("#log-only-matches");
    var follow = $("#log-follow"), count = $("#log-count"), next = $("#log-next-failure");
    var finished = false;
    var source = new EventSource(list.getAttribute("data-log"));

    function mark(li, needle) {
      var text = li.getAttribute("data-text");
      li.textContent = "";
      if (!needle) { li.textContent = text; return true; }
      var lower = text.toLowerCase(), at = 0, found = false;
      for (;;) {
        var i = lower.indexOf(needle, at);
        if (i < 0) break;
        found = true;
        li.appendChild(document.createTextNode(text.slice(at, i)));
        var m = document.createElement("mark");
        m.textContent = text.slice(i, i + needle.length);
        li.appendChild(m);
        at = i + needle.length;
      }
      li.appendChild(document.createTextNode(text.slice(at)));
      return found;
    }

    function filter() {
      var needle = search.value.trim().toLowerCase();
      var hits = 0;
      $all("li", list).forEach(function (li) {
        var hit = mark(li, needle);
        if (needle && hit) hits += 1;
        li.hidden = Boolean(needle && only.checked && !hit);
      });
      count.textContent = needle ? hits + " matching line" + (hits === 1 ? "" : "s") : "";
    }

    function append(line) {
      var li = document.createElement("li");
      var text = String(line.text).replace(ANSI, "");
      li.value = line.number;
      li.setAttribute("data-text", text);
      if (FAILURE.test(text) && !HARMLESS.test(text)) li.className = "fail";
      var needle = search.value.trim().toLowerCase();
      var hit = mark(li, needle);
      li.hidden = Boolean(needle && only.checked && !hit);
      list.appendChild(li);
      if (follow.checked) list.scrollTop = list.scrollHeight;
    }

    source.addEventListener("open", function () {
      if (!finished) state.textContent = "Streaming: new lines appear as they are written.";
      list.setAttribute("data-live", "open");
    });
    source.onmessage = function (event) {
      append(JSON.parse(event.data));
      list.setAttribute("data-lines", String($all("li", list).length));
    };
    source.addEventListener("end", function () {
      finished = true;
      source.close();
      state.textContent = "Complete: the action has finished writing.";
      list.setAttribute("data-live", "complete");
      var report = $("#report");
      if (report) {
        fetch(report.getAttribute("data-report"), { headers: FRAGMENT_HEADERS, credentials: "same-origin" })
          .then(function (response) { return response.text(); })
          .then(function (html) { report.innerHTML = html; });
      }
    });
    source.addEventListener("error", function (event) {
      if (finished) return;
      if (event.data) {
        try { state.textContent = JSON.parse(event.data).message + " (waiting again)"; } catch (e) { /* keep */ }
      } else {
        state.textContent = "Reconnecting…";
      }
    });
    search.addEventListener("input", debounce(filter, 150));
    only.addEventListener("change", filter);
    next.addEventListener("click", function () {
      var failures = $all("li.fail", list).filter(function (li) { return !li.hidden; });
      if (!failures.length) { notice("No failure lines", "info"); return; }
      var current = list.querySelector("li.current");
      var index = current ? failures.indexOf(current) + 1 : 0;
      if (current) current.classList.remove("current");
      var target = failures[index % failures.length];
      target.classList.add("current");
      target.setAttribute("tabindex", "-1");
      target.focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupLog);
  else setupLog();
})();
