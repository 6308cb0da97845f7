/* stageline console: the pipeline editor. The text is checked as you type with the API's own
 * validation; the visual editor and the text stay in step; saving reports the API's answer.
 * Needs console.js first. */
(function () {
  "use strict";

  var s = window.stageline;
  var $ = s.$, $all = s.$all, debounce = s.debounce, notice = s.notice;
  var post = s.post, readJson = s.readJson, formBody = s.formBody;
  var setBusy = s.setBusy, showFormError = s.showFormError, focusKey = s.focusKey;

  /* --- the editor -------------------------------------------------------------------- */

  function renderProblems(box, result, textarea) {
    box.textContent = "";
    if (result.ok) {
      var p = document.createElement("p");
      p.className = "valid";
      p.textContent = "Valid: the API accepts this declaration.";
      box.appendChild(p);
    } else {
      var ul = document.createElement("ul");
      ul.className = "problem-list";
      (result.problems || []).forEach(function (problem) {
        var li = document.createElement("li");
        if (problem.path) {
          var code = document.createElement("code");
          code.textContent = problem.path;
          li.appendChild(code);
          li.appendChild(document.createTextNode(": "));
        }
        li.appendChild(document.createTextNode(problem.message));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (result.note) {
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = result.note;
      box.appendChild(note);
    }
    if (textarea) textarea.setAttribute("aria-invalid", result.ok ? "false" : "true");
  }

  function setupEditor() {
    var form = $("form[data-editor]");
    if (!form) return;
    var textarea = $("#editor-text"), problems = $("#problems"), host = $("#visual-host");
    var validating = 0;

    function validate() {
      var body = new URLSearchParams();
      body.set("text", textarea.value);
      body.set("name", form.elements.name.value);
      body.set("base_version", form.elements.base_version.value);
      var mine = ++validating;
      problems.setAttribute("aria-busy", "true");
      post("/console/api/validate", body).then(readJson).then(function (result) {
        if (mine !== validating) return;
        problems.setAttribute("aria-busy", "false");
        renderProblems(problems, result, textarea);
      });
    }
    textarea.addEventListener("input", debounce(validate, 300));

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      setBusy(form, true);
      $(".form-error", form).textContent = "";
      post(form.getAttribute("action"), formBody(form)).then(readJson).then(function (result) {
        setBusy(form, false);
        if (result.ok) { window.location.assign(result.location); return; }
        showFormError(form, result.message || "Refused");
        if (result.problems) renderProblems(problems, result, textarea);
      });
    });

    /* tabs */
    var tabs = $all("[role=tab]");
    function select(tab, focus) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.setAttribute("tabindex", on ? "0" : "-1");
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      });
      if (focus) tab.focus();
    }
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () {
        if (tab.id === "tab-visual") { refreshVisual().then(function () { select(tab, false); }); }
        else { select(tab, false); }
      });
      tab.addEventListener("keydown", function (event) {
        var delta = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!delta) return;
        event.preventDefault();
        tabs[(index + delta + tabs.length) % tabs.length].click();
        tabs[(index + delta + tabs.length) % tabs.length].focus();
      });
    });
    var initial = $("[data-tabs]").getAttribute("data-initial") === "visual" ? $("#tab-visual") : $("#tab-code");
    select(initial, false);

    function refreshVisual() {
      var body = new URLSearchParams();
      body.set("text", textarea.value);
      body.set("name", form.elements.name.value);
      body.set("format", form.elements.format.value);
      body.set("base_version", form.elements.base_version.value);
      return post("/console/api/visual", body).then(readJson).then(function (result) {
        if (result.ok) { host.innerHTML = result.html; }
        else { notice(result.message, "error"); }
      });
    }

    var visualSeq = 0, edits = 0;
    host.addEventListener("input", function () { edits += 1; });
    function visualSubmit(visual, submitter, replace) {
      var body = formBody(visual, submitter);
      if (!submitter) body.set("op", "sync");
      var mine = ++visualSeq, editsAtSend = edits;
      return post(visual.getAttribute("action"), body).then(readJson).then(function (result) {
        if (mine !== visualSeq) return; /* a later change is on its way: it wins */
        if (!result.ok) { notice(result.message || "Refused", "error"); return; }
        textarea.value = result.text;
        renderProblems(problems, result.check, textarea);
        /* Re-render the form (names in labels, new rows) unless typing went on meanwhile. */
        if (replace && edits === editsAtSend) {
          var active = document.activeElement;
          var key = submitter ? focusKey(submitter) : active && host.contains(active) ? focusKey(active) : null;
          host.innerHTML = result.html;
          var again = key && $all("button,input,select,textarea", host).filter(function (b) { return focusKey(b) === key; })[0];
          var target = again && !again.disabled ? again : submitter ? $("input:not([type=hidden]), select", host) : null;
          if (target) target.focus();
        }
      });
    }

    document.addEventListener("submit", function (event) {
      var visual = event.target;
      if (!visual.matches("form[data-visual]")) return;
      event.preventDefault();
      var op = event.submitter ? event.submitter.value : "sync";
      visualSubmit(visual, event.submitter, op !== "sync");
    });
    /* Typing updates the text; a finished change (leaving a field) also re-renders the form. */
    var changed = false;
    var sync = debounce(function () {
      var visual = $("form[data-visual]", host);
      var replace = changed;
      changed = false;
      if (visual) visualSubmit(visual, null, replace);
    }, 300);
    host.addEventListener("input", sync);
    host.addEventListener("change", function () { changed = true; sync(); });
    host.addEventListener("click", function (event) {
      if (!event.target.closest("[data-visual-save]")) return;
      var visual = $("form[data-visual]", host);
      visualSubmit(visual, null, false).then(function () { form.requestSubmit(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupEditor);
  else setupEditor();
})();
