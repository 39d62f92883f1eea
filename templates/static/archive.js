// The archive's filter form (templates/web/_partials/facets.html). Works without it: this
// only makes the result nicer.
// - Submits only the filled fields (and no sort equal to the default), so a search reads
//   "/?q=portail", not "/?q=portail&from=&to=&sort=pertinence".
// - On a narrow screen the facets start folded behind their « Filtres » button, so the
//   first article comes before 1,400 px of checkboxes (the search box stays in sight);
//   wide screens keep them open.
(function () {
  "use strict";
  var NARROW = "(max-width: 51.99rem)"; // the one-column layout of archive.css

  function defaultSort(form) {
    var q = form.elements.namedItem("q");
    return q && q.value.trim() ? "pertinence" : "date";
  }

  function onSubmit(event) {
    var form = event.target;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      var text = String(value).trim();
      if (text === "") return;
      if (name === "sort" && text === defaultSort(form)) return;
      params.append(name, text);
    });
    event.preventDefault();
    var query = params.toString();
    window.location.assign(form.getAttribute("action") + (query ? "?" + query : ""));
  }

  function init() {
    var form = document.querySelector("form.filters");
    if (form) form.addEventListener("submit", onSubmit);
    var panel = document.getElementById("filtres");
    if (panel && window.matchMedia(NARROW).matches) panel.open = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
