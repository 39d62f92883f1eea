/* Edition composer: drag and drop of items, on top of the « Monter / Descendre » buttons
   that work without it. A drop posts the item's new section and position (the session's
   CSRF token in a header) and gets back the edition's version, so the title form stays
   current; any refusal reloads the page, which then shows the stored order. */
(function () {
  "use strict";
  var root = document.querySelector(".composer[data-move-base]");
  if (!root || !window.fetch) { return; }
  var base = root.getAttribute("data-move-base");
  var csrf = root.getAttribute("data-csrf");
  var dragged = null;

  function items(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-item");
    });
  }

  function dropTarget(list, y) {
    var after = null;
    items(list).some(function (el) {
      if (el === dragged) { return false; }
      var box = el.getBoundingClientRect();
      if (y < box.top + box.height / 2) { after = el; return true; }
      return false;
    });
    return after;
  }

  function save(item, list) {
    var body = new URLSearchParams();
    body.set("theme", list.getAttribute("data-theme"));
    body.set("position", String(items(list).indexOf(item)));
    fetch(base + "/" + item.getAttribute("data-item") + "/deplacer", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      document.querySelectorAll("input.edition-version").forEach(function (input) {
        input.value = String(data.version);
      });
    }).catch(function () { window.location.reload(); });
  }

  root.querySelectorAll("[data-item]").forEach(function (item) {
    item.setAttribute("draggable", "true");
    item.classList.add("draggable");
    item.addEventListener("dragstart", function (event) {
      var tag = event.target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA") { event.preventDefault(); return; }
      dragged = item;
      item.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.getAttribute("data-item"));
    });
    item.addEventListener("dragend", function () {
      item.classList.remove("dragging");
      dragged = null;
    });
  });

  root.querySelectorAll("ol[data-theme]").forEach(function (list) {
    list.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      var after = dropTarget(list, event.clientY);
      var empty = list.querySelector(".composer-empty");
      if (empty) { empty.hidden = true; }
      if (after) { list.insertBefore(dragged, after); } else { list.appendChild(dragged); }
    });
    list.addEventListener("drop", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      save(dragged, list);
    });
  });
}());
