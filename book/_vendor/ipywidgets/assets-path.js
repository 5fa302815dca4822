// Ours (MIT): the glue between the vendored embedder and this book. Loaded before require.js and
// embed-amd.js (see nb_ipywidgets_js in _config.yml).
(function () {
  // 1. Each module of the embedder finds its Font Awesome files beside the URL that RequireJS gives
  // its module name, which is relative to the page (notebooks/@jupyter-widgets/...), not beside
  // embed-amd.js. RequireJS reads a global `require` object as its configuration: these paths put
  // every module name in this folder.
  var here = new URL(".", document.currentScript.src).href;
  var names = ["base", "base7", "controls", "controls7", "html-manager", "html-manager/dist/libembed-amd"];
  var paths = {};
  names.forEach(function (name) {
    paths["@jupyter-widgets/" + name] = here + name.split("/").pop();
  });
  window.__jupyter_widgets_assets_path__ = here;
  if (typeof window.require === "function" && window.require.config) {
    window.require.config({ paths: paths });
  } else {
    window.require = { paths: paths };
  }
  // 2. The widgets typeset their labels with MathJax 2's MathJax.Hub.Queue whenever a MathJax is on
  // the page; the book's is MathJax 3, which has typesetPromise instead. The embedder renders after
  // DOMContentLoaded, and MathJax (deferred) has loaded by then.
  window.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (job) {
          var current = window.MathJax;
          if (current && current.typesetPromise && job && job[2]) {
            current.typesetPromise([job[2]]).catch(function (error) { console.warn("MathJax:", error); });
          }
        },
      };
    }
  });
})();
