/* The weekly inbox (/desk/tri): keyboard, actions without reload, undo, bulk.
   No framework, no inline script (the CSP is script-src 'self'). Every text received from
   the server is inserted with textContent, never as HTML.
   Shortcuts (documented on the page and in docs/desk.md): j/k move, r keep, x discard,
   a back to new, s star, e edit, c tick for bulk, u undo, Escape closes the edit form. */
(function () {
  "use strict";

  var root = document.querySelector("[data-desk-inbox]");
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!root || !meta) { return; }
  var csrf = meta.getAttribute("content");
  var statusBox = document.getElementById("desk-status");
  var toolbar = document.querySelector('[data-role="toolbar"]');
  var items = Array.prototype.slice.call(root.querySelectorAll(".desk-item"));
  var current = -1;
  var undoStack = [];
  var queues = {};      // article id → promise chain: one request at a time per article
  var editBase = {};    // article id → {version, values} when its form was opened

  var STATE_LABELS = { "new": "À trier", "kept": "Retenu", "discarded": "Écarté" };
  var ACTION_DONE = {
    keep: "retenu", discard: "écarté", reset: "remis à trier", star: "ajouté aux favoris",
    unstar: "retiré des favoris", edit: "modifié", themes: "thèmes modifiés"
  };

  function say(text) {
    // Emptied first so that the same message twice is announced twice.
    statusBox.textContent = "";
    window.setTimeout(function () { statusBox.textContent = text; }, 30);
  }

  function byId(id) { return document.getElementById("article-" + id); }
  function role(el, name) { return el.querySelector('[data-role="' + name + '"]'); }
  function titleOf(el) { return role(el, "title").textContent; }

  // --- talking to the server ---------------------------------------------------------

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 401) {
        throw new Error("Votre session a expiré : rechargez la page pour vous reconnecter.");
      }
      if (response.status === 403) {
        throw new Error("Action refusée : rechargez la page et recommencez.");
      }
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () {
        throw new Error("Réponse illisible du serveur (" + response.status + ").");
      });
    });
  }

  function queued(id, task) {
    var next = (queues[id] || Promise.resolve()).then(task, task);
    queues[id] = next.catch(function () { return null; });
    return next;
  }

  function act(id, body) {
    return queued(id, function () {
      return post("/desk/api/articles/" + id, body).then(function (answer) {
        if (answer.data && answer.data.item) { render(answer.data.item); }
        return answer;
      });
    });
  }

  // --- drawing an item from the JSON answer ------------------------------------------

  function setHidden(el, hidden) { if (el) { el.hidden = hidden; } }

  // A decision on a story applies to the story: the other cards of the same story on the
  // page (« chaque article » view) show it at once, as they would after a reload.
  function followStory(el, item) {
    var story = el.dataset.story;
    if (!story) { return; }
    root.querySelectorAll('.desk-item[data-story="' + story + '"]').forEach(function (other) {
      if (other === el) { return; }
      other.dataset.state = item.state;
      other.dataset.starred = item.starred ? "true" : "false";
      other.classList.remove("state-new", "state-kept", "state-discarded");
      other.classList.add("state-" + item.state);
      other.classList.toggle("is-starred", item.starred);
      role(other, "state").textContent = STATE_LABELS[item.state] || item.state;
      setHidden(role(other, "star"), !item.starred);
    });
  }

  function render(item) {
    var el = byId(item.id);
    if (!el) { return; }
    el.dataset.version = String(item.version);
    el.dataset.state = item.state;
    el.dataset.starred = item.starred ? "true" : "false";
    el.dataset.titleEdited = item.title_edited ? "true" : "false";
    el.dataset.summaryAuto = item.summary_auto ? "true" : "false";
    el.dataset.labels = JSON.stringify(item.labels || {});
    el.classList.remove("state-new", "state-kept", "state-discarded");
    el.classList.add("state-" + item.state);
    el.classList.toggle("is-starred", item.starred);
    role(el, "state").textContent = STATE_LABELS[item.state] || item.state;
    setHidden(role(el, "star"), !item.starred);
    followStory(el, item);
    setHidden(role(el, "title-edited"), !item.title_edited);
    role(el, "title").textContent = item.title || "Article sans titre";
    role(el, "summary").textContent = item.summary;
    role(el, "summary-auto").textContent = item.summary_auto ? " automatique" : "";
    role(el, "comment").textContent = item.comment;
    setHidden(role(el, "comment-line"), !item.comment);
    var score = role(el, "score");
    if (score && item.score_label) { score.textContent = "Valeur " + item.score_label; }
    var rows = role(el, "components");
    if (rows) {
      while (rows.firstChild) { rows.removeChild(rows.firstChild); }
      item.components.forEach(function (c) {
        var tr = document.createElement("tr");
        var th = document.createElement("th");
        th.scope = "row";
        th.textContent = c.label;
        var points = document.createElement("td");
        points.textContent = String(c.points).replace(".", ",") + " / " + String(c.max).replace(".", ",");
        var why = document.createElement("td");
        why.textContent = c.why;
        tr.appendChild(th); tr.appendChild(points); tr.appendChild(why);
        rows.appendChild(tr);
      });
    }
    var themes = {};
    item.themes.forEach(function (t) { themes[t.theme] = t; });
    el.querySelectorAll("input[data-theme]").forEach(function (box) {
      box.checked = Boolean(themes[box.dataset.theme]);
    });
    el.querySelectorAll('[data-role="theme-note"]').forEach(function (note) {
      var t = themes[note.dataset.theme];
      // Certainty in words (« sûr », « à vérifier »…), never a percentage.
      note.textContent = !t ? "" : t.origin === "editor" ? "(" + t.certainty + ")"
        : "(" + t.origin_label + ", " + t.certainty + ")";
    });
    el.querySelector('[data-action="keep"]').setAttribute("aria-pressed", String(item.state === "kept"));
    el.querySelector('[data-action="discard"]').setAttribute("aria-pressed", String(item.state === "discarded"));
    el.querySelector('[data-action="star"]').setAttribute("aria-pressed", String(item.starred));
  }

  // --- actions -----------------------------------------------------------------------

  function failed(error) { say(error.message || String(error)); }

  function refused(answer) {
    say(answer.data && answer.data.detail ? answer.data.detail : "Action refusée.");
  }

  function decide(el, action, remember) {
    var id = el.dataset.id;
    var before = el.dataset.state;
    var title = titleOf(el);
    return act(id, { action: action }).then(function (answer) {
      if (answer.status !== 200) { refused(answer); return; }
      if (remember && before !== answer.data.item.state) {
        undoStack.push({
          el: el,
          label: "« " + title + " » de nouveau " + (STATE_LABELS[before] || before).toLowerCase(),
          run: function () { return decide(el, { "new": "reset", kept: "keep", discarded: "discard" }[before], false); }
        });
      }
      say("« " + title + " » " + ACTION_DONE[action] + ".");
    }, failed);
  }

  function toggleStar(el, remember) {
    var id = el.dataset.id;
    var action = el.dataset.starred === "true" ? "unstar" : "star";
    var title = titleOf(el);
    return act(id, { action: action }).then(function (answer) {
      if (answer.status !== 200) { refused(answer); return; }
      if (remember) {
        undoStack.push({ el: el, label: "favori de « " + title + " »", run: function () { return toggleStar(el, false); } });
      }
      say("« " + title + " » " + ACTION_DONE[action] + ".");
    }, failed);
  }

  function changeTheme(el, box) {
    var id = el.dataset.id;
    var theme = box.dataset.theme;
    var labels = JSON.parse(el.dataset.labels || "{}");
    var previous = Object.prototype.hasOwnProperty.call(labels, theme) ? labels[theme] : null;
    var body = { action: "themes", add: [], remove: [], clear: [] };
    (box.checked ? body.add : body.remove).push(theme);
    var label = el.querySelector('label[for="' + box.id + '"]').firstChild.textContent.trim();
    return act(id, body).then(function (answer) {
      if (answer.status !== 200) { refused(answer); if (answer.data.item) { render(answer.data.item); } return; }
      undoStack.push({
        el: el,
        label: "thème « " + label + " »",
        run: function () {
          var back = { action: "themes", add: [], remove: [], clear: [] };
          if (previous === null) { back.clear.push(theme); }
          else { (previous ? back.add : back.remove).push(theme); }
          return act(id, back).then(function (a) { if (a.status !== 200) { refused(a); } }, failed);
        }
      });
      say("Thème « " + label + " » " + (box.checked ? "ajouté" : "retiré") + " : « " + titleOf(el) + " ».");
    }, failed);
  }

  // --- the edit form -----------------------------------------------------------------

  function formOf(el) { return el.querySelector("form.desk-edit"); }

  function shownValues(el) {
    return {
      title: titleOf(el),
      summary: role(el, "summary").textContent,
      comment: role(el, "comment").textContent
    };
  }

  function openEdit(el) {
    var form = formOf(el);
    var values = shownValues(el);
    editBase[el.dataset.id] = { version: Number(el.dataset.version), values: values };
    form.elements.title.value = values.title;
    form.elements.summary.value = values.summary;
    form.elements.comment.value = values.comment;
    setHidden(role(form, "conflict"), true);
    form.hidden = false;
    el.querySelector('[data-action="edit"]').setAttribute("aria-expanded", "true");
    form.elements.title.focus();
  }

  function closeEdit(el) {
    var form = formOf(el);
    form.hidden = true;
    delete editBase[el.dataset.id];
    el.querySelector('[data-action="edit"]').setAttribute("aria-expanded", "false");
    el.focus();
  }

  function saveEdit(el) {
    var id = el.dataset.id;
    var form = formOf(el);
    var base = editBase[id];
    if (!base) { return; }
    var fields = {};
    var previous = {};
    ["title", "summary", "comment"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value !== base.values[name]) {
        fields[name] = value;
        // What puts the field back: an empty text means « original title » / « automatic
        // summary » / « no comment » to the server.
        if (name === "title") { previous[name] = el.dataset.titleEdited === "true" ? base.values.title : ""; }
        else if (name === "summary") { previous[name] = el.dataset.summaryAuto === "true" ? "" : base.values.summary; }
        else { previous[name] = base.values.comment; }
      }
    });
    if (Object.keys(fields).length === 0) { closeEdit(el); say("Rien à enregistrer."); return; }
    var title = titleOf(el);
    act(id, { action: "edit", fields: fields, version: base.version }).then(function (answer) {
      if (answer.status === 409) {
        showConflict(el, answer.data);
        return;
      }
      if (answer.status !== 200) { refused(answer); return; }
      undoStack.push({
        el: el,
        label: "modification de « " + title + " »",
        run: function () {
          return act(id, { action: "edit", fields: previous, version: Number(el.dataset.version) })
            .then(function (a) { if (a.status !== 200) { refused(a); } }, failed);
        }
      });
      closeEdit(el);
      say("« " + titleOf(el) + " » enregistré.");
    }, failed);
  }

  var FIELD_NAMES = { title: "Titre", summary: "Résumé", comment: "Commentaire" };

  function showConflict(el, data) {
    var box = role(formOf(el), "conflict");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    var intro = document.createElement("p");
    intro.textContent = "Un autre délégué a modifié cet article pendant que vous écriviez. Version enregistrée :";
    box.appendChild(intro);
    var list = document.createElement("dl");
    Object.keys(data.conflicts || {}).forEach(function (name) {
      var dt = document.createElement("dt");
      dt.textContent = FIELD_NAMES[name] || name;
      var dd = document.createElement("dd");
      dd.textContent = data.conflicts[name] || "(vide)";
      list.appendChild(dt); list.appendChild(dd);
      editBase[el.dataset.id].values[name] = data.conflicts[name];
    });
    box.appendChild(list);
    var end = document.createElement("p");
    end.textContent = "Votre texte est conservé dans le formulaire : « Enregistrer » remplacera la version enregistrée.";
    box.appendChild(end);
    editBase[el.dataset.id].version = data.version;
    box.hidden = false;
    say("Conflit : l'article a été modifié entre-temps. Relisez avant d'enregistrer.");
  }

  // --- selection and bulk ------------------------------------------------------------

  function selected() {
    return items.filter(function (el) { return el.querySelector(".desk-select").checked; });
  }

  function countSelected() {
    var n = selected().length;
    role(toolbar, "selected-count").textContent =
      n === 0 ? "Aucun article coché." : n + (n > 1 ? " articles cochés." : " article coché.");
  }

  function bulk(action) {
    var chosen = selected();
    if (chosen.length === 0) { say("Cochez d'abord des articles (touche c)."); return; }
    var before = {};
    chosen.forEach(function (el) { before[el.dataset.id] = el.dataset.state; });
    var ids = chosen.map(function (el) { return Number(el.dataset.id); });
    post("/desk/api/bulk", { action: action, ids: ids }).then(function (answer) {
      if (answer.status !== 200) { refused(answer); return; }
      answer.data.items.forEach(render);
      undoStack.push({
        label: "action groupée sur " + ids.length + " articles",
        run: function () {
          var groups = { "new": [], kept: [], discarded: [] };
          Object.keys(before).forEach(function (id) { groups[before[id]].push(Number(id)); });
          var verbs = { "new": "reset", kept: "keep", discarded: "discard" };
          return Promise.all(Object.keys(groups).filter(function (s) { return groups[s].length; })
            .map(function (s) {
              return post("/desk/api/bulk", { action: verbs[s], ids: groups[s] }).then(function (a) {
                if (a.status === 200) { a.data.items.forEach(render); } else { refused(a); }
              });
            }));
        }
      });
      say(ids.length + " article" + (ids.length > 1 ? "s " : " ") + ACTION_DONE[action] + (ids.length > 1 ? "s." : "."));
    }, failed);
  }

  function undo() {
    var last = undoStack.pop();
    if (!last) { say("Rien à annuler."); return; }
    if (last.el) { focusItem(items.indexOf(last.el)); }  // back to the article it changes
    Promise.resolve(last.run()).then(function () { say("Annulé : " + last.label + "."); }, failed);
  }

  // --- moving around -----------------------------------------------------------------

  function focusItem(index) {
    if (items.length === 0) { return; }
    index = Math.max(0, Math.min(items.length - 1, index));
    if (current >= 0 && items[current]) { items[current].classList.remove("is-current"); }
    current = index;
    var el = items[current];
    el.classList.add("is-current");
    el.focus();
    el.scrollIntoView({ block: "nearest" });
  }

  function currentItem() {
    if (current < 0) { focusItem(0); }
    return items[current];
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select" || target.isContentEditable) { return true; }
    if (tag !== "input") { return false; }
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) === -1;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var el = event.target.closest ? event.target.closest(".desk-item") : null;
    if (event.key === "Escape" && el && !formOf(el).hidden) {
      event.preventDefault();
      closeEdit(el);
      return;
    }
    if (typing(event.target)) { return; }
    var handled = true;
    switch (event.key) {
      case "j": focusItem(current + 1); break;
      case "k": focusItem(current - 1); break;
      case "r": decide(currentItem(), "keep", true); focusItem(current + 1); break;
      case "x": decide(currentItem(), "discard", true); focusItem(current + 1); break;
      case "a": decide(currentItem(), "reset", true); break;
      case "s": toggleStar(currentItem(), true); break;
      case "e": openEdit(currentItem()); break;
      case "c": (function (box) { box.checked = !box.checked; countSelected(); }(currentItem().querySelector(".desk-select"))); break;
      case "u": undo(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  root.addEventListener("focusin", function (event) {
    var el = event.target.closest(".desk-item");
    var index = items.indexOf(el);
    if (index >= 0 && index !== current) {
      if (current >= 0 && items[current]) { items[current].classList.remove("is-current"); }
      current = index;
      el.classList.add("is-current");
    }
  });

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var el = button.closest(".desk-item");
    var action = button.dataset.action;
    if (action === "keep" || action === "discard" || action === "reset") { decide(el, action, true); }
    else if (action === "star") { toggleStar(el, true); }
    else if (action === "edit") { if (formOf(el).hidden) { openEdit(el); } else { closeEdit(el); } }
    else if (action === "cancel") { closeEdit(el); }
    else if (action === "take-out") { takeOut(el, button); }
  });

  // A story correction changes which cards the page lists: the page reloads, and says
  // what was done once reloaded (a message set just before a reload would be lost).
  var NOTICE = "veille-desk-notice";
  // The card it concerns gets the focus again, so the result is in view.
  function reloadSaying(text, id) {
    try {
      window.sessionStorage.setItem(NOTICE, JSON.stringify({ text: text, id: String(id) }));
    } catch (e) { /* private mode */ }
    window.location.reload();
  }
  try {
    var notice = JSON.parse(window.sessionStorage.getItem(NOTICE) || "null");
    window.sessionStorage.removeItem(NOTICE);
    if (notice) {
      if (byId(notice.id)) { focusItem(items.indexOf(byId(notice.id))); }
      say(notice.text);
    }
  } catch (e) { /* private mode, or not ours: nothing to say */ }

  // The button of a card takes that article out; the one beside another source's link
  // takes that other article out.
  function takeOut(el, button) {
    var id = button.dataset.article || el.dataset.id;
    var name = button.dataset.name || titleOf(el);
    post("/desk/api/articles/" + id + "/story", { action: "take_out" }).then(function (answer) {
      if (answer.status !== 200) { say(answer.data.detail || "Action impossible."); return; }
      reloadSaying("« " + name + " » est sorti de son sujet : il est maintenant listé seul.", id);
    }, failed);
  }

  // The ticked cards become one story, the first ticked one's.
  function joinSelected() {
    var chosen = selected();
    if (chosen.length < 2) { say("Cochez au moins deux sujets à réunir (touche c)."); return; }
    var first = chosen[0];
    var chain = Promise.resolve(true);
    chosen.slice(1).forEach(function (other) {
      chain = chain.then(function (ok) {
        if (!ok) { return false; }
        return post("/desk/api/articles/" + first.dataset.id + "/story",
          { action: "join", other: Number(other.dataset.id) }).then(function (answer) {
          if (answer.status !== 200) { say(answer.data.detail || "Action impossible."); return false; }
          return true;
        });
      });
    });
    chain.then(function (ok) {
      if (ok) {
        reloadSaying(chosen.length + " sujets réunis en un seul : « " + titleOf(first) + " ».",
          first.dataset.id);
      }
    }, failed);
  }

  root.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches("input[data-theme]")) { changeTheme(box.closest(".desk-item"), box); }
    else if (box.matches(".desk-select")) { countSelected(); }
  });

  root.addEventListener("submit", function (event) {
    var form = event.target.closest("form.desk-edit");
    if (!form) { return; }
    event.preventDefault();
    saveEdit(form.closest(".desk-item"));
  });

  toolbar.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.hasAttribute("data-undo")) { undo(); return; }
    var what = button.dataset.bulk;
    if (what === "join") { joinSelected(); return; }
    if (what === "select-all" || what === "select-none") {
      items.forEach(function (el) { el.querySelector(".desk-select").checked = what === "select-all"; });
      countSelected();
    } else if (what) {
      bulk(what);
    }
  });

  // The page works for reading without JavaScript; the controls appear with it.
  root.querySelectorAll("input[disabled]").forEach(function (box) { box.disabled = false; });
  root.querySelectorAll(".desk-actions").forEach(function (bar) { bar.hidden = false; });
  root.querySelectorAll(".desk-take-out").forEach(function (button) { button.hidden = false; });
  toolbar.hidden = false;
  document.documentElement.classList.add("desk-ready");
}());
