/* stageline console: apply the chosen colour scheme before the page paints (no flash). */
(function () {
  try {
    var chosen = window.localStorage.getItem("stageline-theme");
    if (chosen === "dark" || chosen === "light") {
      document.documentElement.setAttribute("data-theme", chosen);
    }
  } catch (e) {
    /* storage may be unavailable (private mode); the system preference applies */
  }
})();
