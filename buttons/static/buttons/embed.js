// The button iframe (buttons/templates/buttons/embed.html): opens the
// confirm popup and shows the new count. A file, not an inline script, so the
// page can be cached whole while the Content-Security-Policy allows no
// inline script without a per-response nonce.
(function () {
  var a = document.getElementById("flattr");
  // Remember a flattr made from this browser (this frame's storage, which
  // the browser keeps per publisher site) so a reload still shows it.
  var month = new Date().toISOString().slice(0, 7);
  function markDone() {
    a.classList.add("done");
    a.setAttribute("data-flattred", "1");
    try { if (a.dataset.thing) localStorage.setItem("flattred:" + a.dataset.thing, month); } catch (e) {}
  }
  try {
    if (a.dataset.thing && localStorage.getItem("flattred:" + a.dataset.thing) === month) {
      a.classList.add("done");
      a.setAttribute("data-flattred", "1");
    }
  } catch (e) {}
  a.addEventListener("click", function (event) {
    event.preventDefault();
    if (a.getAttribute("aria-disabled")) { return; }
    // Chrome may return null here for a popup it did open (cross-site
    // iframe), so the return value cannot tell a blocked popup: the link's
    // own target=_blank is only the no-JavaScript path.
    window.open(a.dataset.popup, "flattr_confirm", "width=520,height=680");
    watchCount();
  });
  // A publisher page that isolates itself (COOP) cuts the popup off from
  // this frame; then the count comes from count.json for a while instead.
  var watching = 0;
  function watchCount() {
    if (!a.dataset.thing || watching) return;
    var start = Number(document.getElementById("count").textContent), tries = 0;
    watching = setInterval(function () {
      if (++tries > 60 || a.classList.contains("done")) { clearInterval(watching); watching = 0; return; }
      fetch("/things/" + a.dataset.thing + "/count.json", {cache: "no-store"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.count > start) {
            document.getElementById("count").textContent = data.count;
            markDone();
          }
        }).catch(function () {});
    }, 2000);
  }
  window.addEventListener("message", function (event) {
    // Only the platform's own confirm popup may update this button.
    if (event.origin !== window.location.origin) return;
    var data = event.data || {};
    if (data.type !== "flattr:flattred") return;
    if (String(data.thing) !== a.dataset.thing && data.url !== a.dataset.url) return;
    document.getElementById("count").textContent = data.count;
    if (!a.dataset.thing) { a.dataset.thing = String(data.thing); }
    markDone();
  });
})();
