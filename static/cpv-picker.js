// Groupement — CPV picker: as the buyer types a code or words, the matching codes of the
// vocabulary are listed with their place in the hierarchy; choosing one fills the field.
// Without JavaScript the field still takes a code typed by hand.
(function () {
  "use strict";
  var input = document.querySelector("[data-cpv-picker]");
  var box = document.getElementById("cpv-resultats");
  if (!input || !box) { return; }
  var timer = null;
  var last = "";

  function choose(code) {
    input.value = code;
    box.hidden = true;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  }

  function render(hits) {
    box.textContent = "";
    if (!hits.length) {
      var none = document.createElement("p");
      none.textContent = "Aucun code ne correspond.";
      box.appendChild(none);
    }
    hits.forEach(function (hit) {
      var option = document.createElement("button");
      option.type = "button";
      option.setAttribute("role", "option");
      option.className = "cpv-option";
      var code = document.createElement("strong");
      code.textContent = hit.code + " ";
      option.appendChild(code);
      option.appendChild(document.createTextNode(hit.label));
      if (hit.path.length) {
        var path = document.createElement("small");
        path.textContent = hit.path.join(" › ");
        option.appendChild(document.createElement("br"));
        option.appendChild(path);
      }
      option.addEventListener("click", function () { choose(hit.code); });
      box.appendChild(option);
    });
    box.hidden = false;
  }

  input.addEventListener("input", function () {
    var query = input.value.trim();
    if (query === last) { return; }
    last = query;
    clearTimeout(timer);
    if (query.length < 2 || /^\d{8}$/.test(query)) { box.hidden = true; return; }
    timer = setTimeout(function () {
      fetch("/cpv/recherche?q=" + encodeURIComponent(query), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (hits) { if (input.value.trim() === query) { render(hits); } })
        .catch(function () { box.hidden = true; });
    }, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { box.hidden = true; }
  });
})();
