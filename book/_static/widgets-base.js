// Two adjustments that let the widget renderer (@jupyter-widgets/html-manager) work offline beside
// MathJax 3. This file runs after require.js and before the renderer.

// 1. The renderer finds its icon fonts next to each module's URL, which require.js derives from
//    its base URL: by default the page's own folder. Point it at _static (this script's folder),
//    where conf.py copies the renderer and its fonts.
require.config({ baseUrl: new URL(".", document.currentScript.src).href });

// 2. Widgets typeset their text with MathJax 2's call, MathJax.Hub.Queue(["Typeset", MathJax.Hub, el]),
//    and throw on MathJax 3, which has no Hub. Give every object that becomes window.MathJax (MathJax
//    replaces it while it starts) a Hub whose Queue typesets the element with MathJax 3.
(function () {
  const hub = {
    Queue(...calls) {
      for (const call of calls) {
        const element = Array.isArray(call) && call[0] === "Typeset" ? call[2] : null;
        const mathjax = window.MathJax;
        if (element && mathjax && mathjax.startup && mathjax.startup.promise) {
          mathjax.startup.promise.then(() => mathjax.typesetPromise([element]));
        }
      }
    },
  };
  let current = window.MathJax;
  const withHub = (value) => {
    if (value && typeof value === "object" && !("Hub" in value)) {
      Object.defineProperty(value, "Hub", { value: hub, enumerable: false, configurable: true });
    }
    return value;
  };
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: () => current,
    set: (value) => { current = withHub(value); },
  });
  withHub(current);
})();
