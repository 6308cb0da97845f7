/* stageline console: the little script the server-rendered pages need.
 *
 * - live regions ([data-stream]): server-sent events carry freshly rendered HTML,
 *   swapped in place (keeping keyboard focus); no polling, no reloads;
 * - dialogs ([data-dialog] links) load their form from the server into <dialog>;
 * - forms marked [data-ajax] post in the background and report back;
 * The log view (log.js) and the editor (editor.js) are scripts of their own.
 *
 * Everything inserted from data is set with textContent; markup only ever comes
 * from the server's autoescaped templates.
 */
(function () {
  "use strict";

  var JSON_HEADERS = { Accept: "application/json" };
  var FRAGMENT_HEADERS = { "X-Console-Fragment": "1" };

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function formBody(form, submitter) {
    return new URLSearchParams(new FormData(form, submitter || undefined));
  }

  function post(url, body, headers) {
    return fetch(url, {
      method: "POST",
      body: body,
      headers: headers || JSON_HEADERS,
      credentials: "same-origin",
    });
  }

  function readJson(response) {
    return response.json().catch(function () {
      return { ok: false, message: "the server answered " + response.status + " " + response.statusText };
    });
  }

  /* --- notices ---------------------------------------------------------------------- */

  var noticeTimer = null;
  function notice(message, kind) {
    var box = $("#notice");
    if (!box) return;
    box.textContent = message;
    box.className = "notice shown " + (kind || "info");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { box.className = "notice"; }, 6000);
  }

  /* --- theme ------------------------------------------------------------------------- */

  function currentTheme() {
    var chosen = document.documentElement.getAttribute("data-theme");
    if (chosen) return chosen;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function setupTheme() {
    var button = $("#theme-toggle");
    if (!button) return;
    function show() {
      var dark = currentTheme() === "dark";
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      button.textContent = dark ? "Dark mode: on" : "Dark mode: off";
    }
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { window.localStorage.setItem("stageline-theme", next); } catch (e) { /* not kept */ }
      show();
    });
    if (window.matchMedia) {
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", show);
    }
    show();
  }

  /* --- keeping focus across swaps ---------------------------------------------------- */

  function focusKey(el) {
    if (!el || !el.tagName) return null;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) && el.getAttribute("name") && el.type !== "hidden") {
      return "field\u0001" + el.getAttribute("name");
    }
    var holder = el.closest("[data-action],[data-stage],[data-transition],[data-pipeline],[data-visual-stage],[data-visual-action]");
    var where = holder ? [holder.getAttribute("data-action"), holder.getAttribute("data-stage"),
      holder.getAttribute("data-transition"), holder.getAttribute("data-pipeline"),
      holder.getAttribute("data-visual-stage"), holder.getAttribute("data-visual-action")].join("|") : "";
    return [where, el.tagName, el.getAttribute("href") || "", el.getAttribute("name") || "",
      el.getAttribute("value") || "", (el.textContent || "").trim()].join("\u0001");
  }

  function swap(container, html) {
    var active = document.activeElement;
    var key = active && container.contains(active) ? focusKey(active) : null;
    container.innerHTML = html;
    if (key) {
      var match = $all("a,button,input,select,textarea,[tabindex]", container).filter(function (el) {
        return focusKey(el) === key;
      })[0];
      if (match) match.focus({ preventScroll: true });
    }
    tick();
  }

  /* --- live regions ------------------------------------------------------------------ */

  var streams = new Map();

  function connect(container) {
    var url = container.getAttribute("data-stream");
    var old = streams.get(container);
    if (old) old.close();
    var source = new EventSource(url);
    streams.set(container, source);
    source.addEventListener("state", function (event) {
      swap(container, event.data);
      container.setAttribute("data-updated", String(Date.now()));
    });
    source.addEventListener("gone", function (event) {
      source.close();
      notice(event.data || "This no longer exists.", "error");
    });
    source.addEventListener("open", function () { container.setAttribute("data-live", "open"); });
    source.addEventListener("error", function () { container.setAttribute("data-live", "reconnecting"); });
  }

  function setupStreams() {
    $all("[data-stream]").forEach(connect);
  }

  /* --- ticking durations ------------------------------------------------------------- */

  function formatDuration(ms) {
    ms = Math.max(0, Math.floor(ms));
    if (ms < 1000) return ms + " ms";
    var s = Math.floor(ms / 1000);
    if (s < 10) return (ms / 1000).toFixed(1) + " s";
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    s = s % 60;
    if (m < 60) return s ? m + " min " + s + " s" : m + " min";
    var h = Math.floor(m / 60);
    m = m % 60;
    return m ? h + " h " + m + " min" : h + " h";
  }

  function tick() {
    var now = Date.now();
    $all("[data-since]").forEach(function (el) {
      var since = Number(el.getAttribute("data-since"));
      if (since) el.textContent = formatDuration(now - since);
    });
  }

  /* --- dialogs ----------------------------------------------------------------------- */

  var opener = null, openerKey = null;

  function openDialog(url, from) {
    var dialog = $("#dialog"), body = $("#dialog-body");
    if (!dialog || !body || typeof dialog.showModal !== "function") {
      window.location.href = url;
      return;
    }
    fetch(url, { headers: FRAGMENT_HEADERS, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        body.innerHTML = html;
        opener = from || null;
        openerKey = from ? focusKey(from) : null;
        if (!dialog.open) dialog.showModal();
        var first = $("textarea, input:not([type=hidden]):not([type=radio]), input[type=radio]:checked, button[type=submit], button", body);
        if (first) first.focus();
      })
      .catch(function () { window.location.href = url; });
  }

  function closeDialog() {
    var dialog = $("#dialog");
    if (dialog && dialog.open) dialog.close();
  }

  function setupDialogs() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-dialog]");
      if (link) {
        event.preventDefault();
        openDialog(link.getAttribute("href"), link);
        return;
      }
      if (event.target.closest("[data-close]")) {
        event.preventDefault();
        closeDialog();
      }
    });
    var dialog = $("#dialog");
    if (dialog) {
      dialog.addEventListener("close", function () {
        $("#dialog-body").innerHTML = "";
        /* Back to the button that opened it, or to its successor if a live update replaced it. */
        var back = opener && document.contains(opener) ? opener : openerKey && $all("a,button").filter(function (el) {
          return focusKey(el) === openerKey;
        })[0];
        if (back) back.focus();
        opener = null;
        openerKey = null;
      });
    }
  }

  /* --- background forms -------------------------------------------------------------- */

  function setBusy(form, busy) {
    $all("button", form).forEach(function (b) {
      if (busy) { b.setAttribute("data-was-disabled", b.disabled ? "1" : ""); b.disabled = true; }
      else { b.disabled = b.getAttribute("data-was-disabled") === "1"; }
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function showFormError(form, message) {
    var slot = $(".form-error", form);
    if (slot) { slot.textContent = message; }
    else { notice(message, "error"); }
  }

  function setupAjaxForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches("form[data-ajax]")) return;
      event.preventDefault();
      var body = formBody(form, event.submitter);
      setBusy(form, true);
      post(form.getAttribute("action"), body)
        .then(readJson)
        .then(function (result) {
          setBusy(form, false);
          if (result.ok) {
            if (form.closest("dialog")) closeDialog();
            notice(result.message || "Done", "ok");
          } else {
            showFormError(form, result.message || "Refused");
          }
        })
        .catch(function (error) {
          setBusy(form, false);
          showFormError(form, "The request failed: " + error);
        });
    });
  }

  /* --- the pipelines list: search and sort without reloading ------------------------- */

  function setupFilter() {
    var form = $("form[data-filter]");
    if (!form) return;
    var target = $(form.getAttribute("data-filter"));
    function apply() {
      var query = new URLSearchParams(new FormData(form)).toString();
      fetch(form.getAttribute("action") + "?" + query, { headers: FRAGMENT_HEADERS, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          swap(target, html);
          history.replaceState(null, "", "?" + query);
          target.setAttribute("data-stream", "/console/events?" + query);
          connect(target);
        });
    }
    var later = debounce(apply, 250);
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  }

  /* What the page scripts (log.js, editor.js) use. */
  window.stageline = {
    $: $, $all: $all, debounce: debounce, formBody: formBody, post: post, readJson: readJson,
    notice: notice, focusKey: focusKey, setBusy: setBusy, showFormError: showFormError,
    FRAGMENT_HEADERS: FRAGMENT_HEADERS,
  };

  function start() {
    setupTheme();
    setupDialogs();
    setupAjaxForms();
    setupStreams();
    setupFilter();
    tick();
    setInterval(tick, 1000);
    document.documentElement.setAttribute("data-console-ready", "1");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
