/* Edition composer (/desk/editions/N), on top of forms that work without it:
   - autosave: the title and edito, the greeting and every item's texts are saved as the
     delegate types (debounced), through the very form routes asked for JSON; a status line
     says « Enregistrement… », « Enregistré » or why it failed, and the edito's preview is
     redrawn from the server's answer (same Markdown renderer and sanitiser as the mail);
   - « Monter », « Descendre », « Retirer » and drag and drop without a page reload;
   - a warning before leaving while a change is not saved yet;
   - the send followed live (counts, state, time left) from a small JSON status.
   One request at a time for the whole edition (each answer carries the edition's new
   version, which the next save of the edito sends). No inline script: the CSP is
   script-src 'self'. Texts from the server go in with textContent, except the edito
   preview, which is the server's sanitised HTML (nh3, as in the mail). */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  var DELAY = 800;  // ms of quiet typing before a save
  var root = document.querySelector(".composer[data-move-base]");
  var csrf = root ? root.getAttribute("data-csrf") : null;
  var version = root ? root.getAttribute("data-version") : null;
  var stateBox = document.querySelector('[data-role="save-state"]');
  var queue = Promise.resolve();
  var dirty = [];        // forms with changes not saved yet
  var timers = new Map();
  var generation = new Map();  // form → edits counter, to tell a save from newer typing
  var busy = 0;
  // The title and edito as last stored: sent with each save of them, so that another
  // delegate's change elsewhere in the edition (which moves its version) is no conflict.
  var titleField = document.getElementById("title");
  var editoField = document.getElementById("edito");
  var base = titleField && editoField ? { title: titleField.defaultValue, edito: editoField.defaultValue } : null;

  // --- the status line ---------------------------------------------------------------

  function show(state, text) {
    if (!stateBox) { return; }
    stateBox.hidden = false;
    stateBox.setAttribute("data-state", state);
    stateBox.textContent = text;
  }

  function isDirty(form) { return dirty.indexOf(form) !== -1; }
  function markDirty(form) { if (!isDirty(form)) { dirty.push(form); } }
  function markClean(form) { dirty = dirty.filter(function (f) { return f !== form; }); }

  // --- talking to the server ----------------------------------------------------------

  function post(form, extra) {
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { body.append(key, String(value)); });
    if (body.has("version") && version !== null) { body.set("version", version); }
    if (body.has("edito") && base) {
      body.set("base", "1");
      body.set("base_title", base.title);
      body.set("base_edito", base.edito);
    }
    Object.keys(extra || {}).forEach(function (key) { body.set(key, extra[key]); });
    return fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      if (response.status === 401) {
        throw new Error("votre session a expiré : reconnectez-vous dans un autre onglet, puis recommencez (votre texte est toujours là)");
      }
      if (response.status === 403) {
        throw new Error("action refusée : rechargez la page (copiez d’abord votre texte)");
      }
      return response.json().catch(function () {
        throw new Error("réponse illisible du serveur (" + response.status + ")");
      }).then(function (data) {
        if (!response.ok) { throw new Error(data.detail || ("erreur " + response.status)); }
        if (data.version !== undefined) {
          version = String(data.version);
          document.querySelectorAll("input.edition-version").forEach(function (input) {
            input.value = version;
          });
        }
        return data;
      });
    });
  }

  // Every request goes through the one queue: they never race each other.
  function enqueue(task) {
    busy += 1;
    var run = queue.then(task);
    queue = run.then(function () { busy -= 1; }, function () { busy -= 1; });
    return run;
  }

  // --- autosave -----------------------------------------------------------------------

  function save(form) {
    window.clearTimeout(timers.get(form));
    timers.delete(form);
    var started = generation.get(form) || 0;
    show("saving", "Enregistrement…");
    return enqueue(function () { return post(form); }).then(function (data) {
      if ((generation.get(form) || 0) === started) { markClean(form); }
      if (data.edito_html !== undefined) { drawPreview(data.edito_html); }
      if (data.edito !== undefined && base) { base = { title: data.title, edito: data.edito }; }
      if (data.greeting !== undefined) { drawGreeting(data.greeting); }
      if (!dirty.length) { show("saved", "Enregistré"); }
      return data;
    }, function (error) {
      show("error", "Non enregistré : " + error.message);
      throw error;
    });
  }

  function flush() {
    return Promise.all(dirty.slice().map(save));
  }

  function drawPreview(html) {
    var box = document.querySelector('[data-role="edito-preview"]');
    if (box) { box.innerHTML = html; }  // sanitised by the server, as in the mail
  }

  function drawGreeting(text) {
    var line = document.querySelector('[data-role="greeting-preview"]');
    if (!line) { return; }
    line.textContent = text;
    line.hidden = !text;
  }

  // An item's « Enregistrer l'article » is for pages without this script: here its texts
  // save themselves, and twenty such buttons would only be noise.
  document.querySelectorAll("form.item-form[data-autosave] button[type=submit]").forEach(
    function (button) { button.closest("p").hidden = true; }
  );

  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    function changed(now) {
      generation.set(form, (generation.get(form) || 0) + 1);
      markDirty(form);
      show("pending", "Modifications non enregistrées…");
      window.clearTimeout(timers.get(form));
      if (now) {
        save(form).catch(function () { return null; });
      } else {
        timers.set(form, window.setTimeout(function () {
          save(form).catch(function () { return null; });
        }, DELAY));
      }
    }
    form.addEventListener("input", function (event) {
      changed(event.target.type === "checkbox");
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      markDirty(form);
      save(form).catch(function () { return null; });
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty.length || busy) {
      flush().catch(function () { return null; });
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Any other form of the page (search, add, approve, send…) leaves it: save first.
  document.querySelectorAll("form:not([data-autosave]):not([data-move]):not([data-remove])")
    .forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!dirty.length && !busy) { return; }
        event.preventDefault();
        flush().then(function () { return queue; }).then(function () {
          form.submit();
        }, function () { return null; });
      });
    });

  if (!root) { followSend(); return; }

  // --- moving and removing items without a reload ----------------------------------------

  function itemsOf(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-item");
    });
  }

  function refresh(list) {
    var items = itemsOf(list);
    items.forEach(function (item, index) {
      var up = item.querySelector('form[data-move="up"]');
      var down = item.querySelector('form[data-move="down"]');
      if (up) { up.hidden = index === 0; }
      if (down) { down.hidden = index === items.length - 1; }
    });
    var empty = list.querySelector(".composer-empty");
    if (!items.length && !empty) {
      empty = document.createElement("li");
      empty.className = "composer-empty hint";
      empty.textContent = "Aucun article : la rubrique n’apparaîtra pas dans la lettre.";
      list.appendChild(empty);
    }
    if (empty) { empty.hidden = items.length > 0; }
    var section = list.closest("section");
    var count = section && section.querySelector('[data-role="section-count"]');
    if (count) { count.textContent = String(items.length); }
    var total = document.querySelectorAll(".composer [data-item]").length;
    var all = document.querySelector('[data-role="item-count"]');
    if (all) { all.textContent = total + " article" + (total > 1 ? "s" : ""); }
  }

  function moveForm(form) {
    var item = form.closest("[data-item]");
    var list = item.parentElement;
    var up = form.getAttribute("data-move") === "up";
    show("saving", "Enregistrement…");
    enqueue(function () { return post(form); }).then(function () {
      var items = itemsOf(list);
      var index = items.indexOf(item);
      if (up && index > 0) { list.insertBefore(item, items[index - 1]); }
      if (!up && index < items.length - 1) { list.insertBefore(items[index + 1], item); }
      refresh(list);
      var again = form.hidden ? item.querySelector("form[data-move]:not([hidden]) button") : form.querySelector("button");
      if (again) { again.focus(); }
      if (!dirty.length) { show("saved", "Ordre enregistré"); }
    }, function (error) { show("error", "Ordre non modifié : " + error.message); });
  }

  function removeForm(form) {
    var item = form.closest("[data-item]");
    var list = item.parentElement;
    var itemForm = item.querySelector("form[data-autosave]");
    show("saving", "Enregistrement…");
    enqueue(function () { return post(form); }).then(function () {
      if (itemForm) { markClean(itemForm); window.clearTimeout(timers.get(itemForm)); }
      var next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      refresh(list);
      var focus = next && next.hasAttribute("data-item") ? next.querySelector("button") : document.getElementById("rubriques");
      if (focus) { if (!focus.hasAttribute("tabindex") && focus.tagName === "H2") { focus.setAttribute("tabindex", "-1"); } focus.focus(); }
      if (!dirty.length) { show("saved", "Article retiré de l’édition"); }
    }, function (error) { show("error", "Article non retiré : " + error.message); });
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-move")) { event.preventDefault(); moveForm(form); }
    else if (form.hasAttribute("data-remove")) { event.preventDefault(); removeForm(form); }
  });

  // --- drag and drop (on top of the buttons) ---------------------------------------------

  var base = root.getAttribute("data-move-base");
  var dragged = null;
  var from = null;

  function dropTarget(list, y) {
    var after = null;
    itemsOf(list).some(function (el) {
      if (el === dragged) { return false; }
      var box = el.getBoundingClientRect();
      if (y < box.top + box.height / 2) { after = el; return true; }
      return false;
    });
    return after;
  }

  function saveDrop(item, list, origin) {
    var body = new URLSearchParams();
    body.set("theme", list.getAttribute("data-theme"));
    body.set("position", String(itemsOf(list).indexOf(item)));
    show("saving", "Enregistrement…");
    enqueue(function () {
      return fetch(base + "/" + item.getAttribute("data-item") + "/deplacer", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: body
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (data) {
        version = String(data.version);
        document.querySelectorAll("input.edition-version").forEach(function (input) {
          input.value = version;
        });
      });
    }).then(function () {
      refresh(list);
      if (origin && origin !== list) { refresh(origin); }
      if (!dirty.length) { show("saved", "Ordre enregistré"); }
    }, function () {
      // refused: the stored order is the truth; reload once the typed texts are saved
      flush().then(function () { window.location.reload(); }, function () {
        show("error", "Ordre non modifié : rechargez la page.");
      });
    });
  }

  root.querySelectorAll("[data-item]").forEach(function (item) {
    item.setAttribute("draggable", "true");
    item.classList.add("draggable");
    item.addEventListener("dragstart", function (event) {
      var tag = event.target.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA") { event.preventDefault(); return; }
      dragged = item;
      from = item.parentElement;
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
      saveDrop(dragged, list, from);
    });
  });

  followSend();

  // --- the send, live --------------------------------------------------------------------

  function followSend() {
    var box = document.querySelector(".send-progress[data-progress-url]");
    if (!box) { return; }
    var url = box.getAttribute("data-progress-url");
    var shownStatus = box.getAttribute("data-status");
    var editable = box.getAttribute("data-editable") === "oui";
    var number = new Intl.NumberFormat("fr-FR");

    function duration(seconds) {
      if (seconds < 60) { return "moins d’une minute"; }
      var minutes = Math.round(seconds / 60);
      if (minutes < 60) { return "environ " + minutes + " min"; }
      return "environ " + Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0");
    }

    function draw(data) {
      var badge = document.querySelector('[data-role="status-badge"]');
      if (badge) {
        badge.textContent = data.status_label;
        badge.className = "edition-status edition-status-" + data.status;
      }
      Object.keys(data).forEach(function (key) {
        var cell = box.querySelector('[data-count="' + key + '"]');
        if (cell && typeof data[key] === "number") { cell.textContent = number.format(data[key]); }
      });
      var bar = box.querySelector('[data-role="send-bar"]');
      if (bar) {
        bar.max = Math.max(1, data.total);
        bar.value = data.sent + data.failed + data.skipped;
        bar.textContent = bar.value + " / " + data.total;
        bar.setAttribute("aria-label", "Messages traités sur " + data.total);
      }
      var state = box.querySelector('[data-role="send-state"]');
      if (state) {
        var text;
        if (data.status === "sent") {
          text = "Envoi terminé : " + number.format(data.sent) + " envoyé" + (data.sent > 1 ? "s" : "") +
            ", " + number.format(data.failed) + " en échec, " + number.format(data.skipped) +
            " sans article pour eux, sur " + number.format(data.total) + ".";
        } else if (data.status === "sending") {
          text = "Envoi en cours : " + number.format(data.sent + data.failed + data.skipped) + " sur " +
            number.format(data.total) + (data.seconds_left ? " — reste " + duration(data.seconds_left) : "") + ".";
        } else {
          text = "État : " + data.status_label + ".";
        }
        state.textContent = text;
      }
    }

    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          var changed = data.status !== shownStatus;
          // a draft or approved page whose send started: its edit buttons must go
          if (changed && editable && (data.status === "sending" || data.status === "sent")) {
            window.location.reload();
            return;
          }
          shownStatus = data.status;
          draw(data);
          if (data.status === "sending") { window.setTimeout(tick, 1000); }
          else if (data.status === "approved") { window.setTimeout(tick, 15000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    tick();
  }
}());
