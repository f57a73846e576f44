/* The main menu: disclosure buttons (aria-expanded) open their list; Escape,
   a click elsewhere or Tab out of a group closes it. On a phone one "Menu"
   button shows the whole list. Without JavaScript every link is shown. */
(function () {
  "use strict";
  var nav = document.querySelector(".nav");
  if (!nav) return;
  var toggle = nav.querySelector(".nav-toggle");
  var buttons = Array.prototype.slice.call(nav.querySelectorAll(".nav-disclosure"));

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function closeAll(except) {
    buttons.forEach(function (b) { if (b !== except) setOpen(b, false); });
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      closeAll(button);
      setOpen(button, open);
    });
    button.parentElement.addEventListener("focusout", function (event) {
      if (!button.parentElement.contains(event.relatedTarget) && event.relatedTarget) setOpen(button, false);
    });
  });
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      setOpen(toggle, open);
      if (!open) closeAll();
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = buttons.filter(function (b) { return b.getAttribute("aria-expanded") === "true"; })[0];
    if (open) {
      setOpen(open, false);
      open.focus();
    } else if (toggle && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(toggle, false);
      toggle.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!nav.contains(event.target)) {
      closeAll();
      if (toggle) setOpen(toggle, false);
    }
  });
})();
