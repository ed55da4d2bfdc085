// Groupement — inactivity warning and autosave of form drafts. No framework, no inline
// script (the CSP forbids it), nothing loaded from elsewhere.
(function () {
  "use strict";

  // --- Drafts: forms marked data-autosave keep what was typed in this browser until they are
  // sent, so that an expired session or a closed tab loses nothing. Passwords, anti-forgery
  // tokens and files are never stored. Each person's drafts are their own (the key names the
  // person: another person signing in on the same browser never sees them), and signing out
  // clears them all.
  var SKIPPED = { password: true, hidden: true, file: true, submit: true, button: true };
  var PREFIX = "groupement:brouillon:";

  function draftKey(form) {
    var person = document.body.getAttribute("data-person") || "anonyme";
    return PREFIX + person + ":" + location.pathname + ":" + form.getAttribute("data-autosave");
  }

  function clearDrafts() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key && key.indexOf(PREFIX) === 0) { localStorage.removeItem(key); }
      }
    } catch (e) { /* storage unavailable: nothing kept */ }
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIPPED[el.type];
    });
  }

  function save(form) {
    var draft = {};
    fields(form).forEach(function (el) {
      draft[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    try { localStorage.setItem(draftKey(form), JSON.stringify(draft)); } catch (e) { /* full or private mode */ }
  }

  function restore(form) {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (e) { saved = null; }
    if (!saved) { return; }
    var restored = false;
    fields(form).forEach(function (el) {
      if (!(el.name in saved)) { return; }
      if (el.type === "checkbox") {
        if (el.checked !== saved[el.name]) { el.checked = saved[el.name]; restored = true; }
      } else if (!el.value && saved[el.name]) {
        el.value = saved[el.name];
        restored = true;
      }
    });
    if (restored) {
      var note = document.createElement("p");
      note.className = "notice";
      note.setAttribute("role", "status");
      note.textContent = "Brouillon restauré : votre saisie précédente, non envoyée, a été reprise.";
      form.parentNode.insertBefore(note, form);
    }
  }

  // --- Inactivity: the server ends a session after data-idle-minutes without a request. Five
  // minutes before, a banner offers to stay signed in; after, it says the session is over and
  // that drafts are kept.
  var idleMinutes = parseInt(document.body.getAttribute("data-idle-minutes") || "0", 10);
  var deadline = idleMinutes ? Date.now() + idleMinutes * 60000 : 0;
  var banner = document.getElementById("session-warning");

  function expired() { return deadline && Date.now() >= deadline; }

  function show(text, withButton) {
    banner.textContent = text + " ";
    if (withButton) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Rester connecté";
      button.addEventListener("click", keepAlive);
      banner.appendChild(button);
    }
    banner.hidden = false;
  }

  function keepAlive() {
    fetch("/compte/session", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        deadline = Date.now() + body.idle_seconds * 1000;
        banner.hidden = true;
      })
      .catch(function () { deadline = Date.now(); tick(); });
  }

  function tick() {
    if (!deadline) { return; }
    var left = deadline - Date.now();
    if (left <= 0) {
      show("Votre session a expiré après " + idleMinutes + " minutes d'inactivité. Vos saisies en cours sont conservées dans ce navigateur : reconnectez-vous (dans un autre onglet) puis envoyez-les.", false);
    } else if (left <= 5 * 60000) {
      show("Votre session expire dans " + Math.ceil(left / 60000) + " minute(s) faute d'activité.", true);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-clear-drafts]"), function (form) {
      form.addEventListener("submit", clearDrafts);
    });
    Array.prototype.forEach.call(document.querySelectorAll("form[data-autosave]"), function (form) {
      restore(form);
      form.addEventListener("input", function () { save(form); });
      form.addEventListener("change", function () { save(form); });
      form.addEventListener("submit", function (event) {
        if (expired()) {
          event.preventDefault();
          save(form);
          tick();
          return;
        }
        try { localStorage.removeItem(draftKey(form)); } catch (e) { /* nothing to clear */ }
      });
    });
    if (banner && deadline) {
      setInterval(tick, 30000);
    }

    // --- A file read into a text field (the receipt to check): shown only with script.
    document.querySelectorAll("input[type=file][data-fill]").forEach(function (input) {
      var target = document.getElementById(input.getAttribute("data-fill"));
      var wrapper = input.closest(".file-to-text");
      if (!target || !wrapper || !window.FileReader) { return; }
      wrapper.hidden = false;
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        if (!file || file.size > 256 * 1024) { return; }
        var reader = new FileReader();
        reader.onload = function () { target.value = reader.result; };
        reader.readAsText(file);
      });
    });

    // --- Navigation: on a phone the links fold behind a "Menu" button (the stylesheet folds
    // them only once this script has marked the navigation: without script, they stay shown).
    var toggle = document.querySelector(".menu-toggle");
    var nav = document.getElementById("menu-principal");
    if (toggle && nav) {
      toggle.hidden = false;
      nav.classList.add("collapsible");
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        nav.classList.toggle("open", open);
      });
    }
  });
})();
