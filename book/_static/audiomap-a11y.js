// Accessible names that the theme's and the widgets' markup leave out (book/_ext/audiomap_pages.py).
// Checked with axe-core in a real browser by tests/browser/test_book_pages.py.
(function () {
  "use strict";
  function fix(root) {
    // The theme's search button says "Search" to screen readers but shows "Search Ctrl+K":
    // its accessible name must contain its visible text (WCAG 2.5.3).
    root.querySelectorAll("button[aria-label='Search']").forEach(function (b) {
      b.removeAttribute("aria-label");
      if (!b.textContent.trim()) { b.setAttribute("aria-label", "Search"); }
    });
    // Any other button whose name leaves out its visible text (the theme's colour-mode switch).
    root.querySelectorAll("button[aria-label]").forEach(function (b) {
      var text = b.textContent.replace(/\s+/g, " ").trim();
      var label = b.getAttribute("aria-label");
      if (text && label.toLowerCase().indexOf(text.toLowerCase()) < 0) { b.setAttribute("aria-label", text + " (" + label + ")"); }
    });
    // myst-nb's "Show code cell source" toggles are named "Toggle hidden content": their visible
    // text (which says what is shown or hidden) is the better name, so the label goes.
    root.querySelectorAll("summary[aria-label='Toggle hidden content']").forEach(function (s) {
      if (s.textContent.trim()) { s.removeAttribute("aria-label"); }
    });
    // docutils writes the bibliography as role="list" whose entries are not list items.
    root.querySelectorAll("[role='list'].citation-list").forEach(function (el) { el.removeAttribute("role"); });
    // A widget slider's handle takes the slider's description as its name.
    root.querySelectorAll(".widget-slider, .jupyter-widget-slider").forEach(function (w) {
      var label = w.querySelector("label, .widget-label");
      var name = label ? label.textContent.trim() : "";
      w.querySelectorAll("[role='slider']").forEach(function (h) {
        if (!h.getAttribute("aria-label") && !h.getAttribute("aria-labelledby")) {
          h.setAttribute("aria-label", name || "slider");
        }
      });
    });
    // A figure shown inside a widget's output has no alt text of its own.
    root.querySelectorAll(".widget-output img:not([alt]), .jupyter-widgets img:not([alt])").forEach(function (img) {
      img.setAttribute("alt", "Figure for the value selected above");
    });
  }
  function start() {
    fix(document);
    new MutationObserver(function () { fix(document); }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
