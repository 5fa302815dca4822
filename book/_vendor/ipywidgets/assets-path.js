// Loaded before embed-amd.js (see nb_ipywidgets_js in _config.yml). The embedder looks for its
// Font Awesome files beside the AMD module name it was defined under, which is relative to the page
// (notebooks/@jupyter-widgets/...), not beside embed-amd.js; this global tells it to look here instead.
window.__jupyter_widgets_assets_path__ = new URL(".", document.currentScript.src).href;
