/* Open Flattr button: turns each a.flattr-button into the platform's button
 * iframe. No framework, no cookies, no tracking. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll("script[src*='button.js']");
    script = all[all.length - 1];
  }
  var origin = new URL(script.src, location.href).origin;
  var SIZES = { "default": [74, 66], compact: [112, 24] };

  function parseRel(rel) {
    // Classic: rel="flattr;uid:USERNAME;category:CAT;tags:a,b;language:en;"
    // (or the same in rev=, as the original load.js read it).
    var out = {};
    if (!rel || !/^\s*flattr\s*(;|$)/i.test(rel)) return out;
    rel.split(";").forEach(function (part) {
      var i = part.indexOf(":");
      if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    });
    return out;
  }

  function build(link) {
    if (link.getAttribute("data-flattr-ready")) return;
    link.setAttribute("data-flattr-ready", "1");
    var d = link.dataset;
    var rel = parseRel(link.getAttribute("rel"));
    var rev = parseRel(link.getAttribute("rev"));
    for (var k in rev) { if (!(k in rel)) rel[k] = rev[k]; }
    var style = (d.flattrStyle || d.flattrButton || rel.button) === "compact" ? "compact" : "default";
    var src;
    if (d.flattrThing) {
      src = origin + "/embed/" + encodeURIComponent(d.flattrThing) + "/?style=" + style;
    } else {
      var p = new URLSearchParams();
      var owner = d.flattrOwner || d.flattrUid || rel.uid;
      if (owner) p.set("owner", owner);
      p.set("url", d.flattrUrl || rel.url || link.href);
      p.set("title", d.flattrTitle || rel.title || link.getAttribute("title") || document.title);
      var text = (link.textContent || "").replace(/\s+/g, " ").trim().slice(0, 1000);
      // Only the button's label ("Flattr", "Flattr this!") describes nothing.
      if (/^flattr( this| me| us| it)?[\s!.…]*$/i.test(text)) text = "";
      [["description", d.flattrDescription || rel.description || text],
       ["category", d.flattrCategory || rel.category],
       ["tags", d.flattrTags || rel.tags],
       ["language", d.flattrLanguage || rel.language || link.getAttribute("lang")],
       ["hidden", d.flattrHidden || rel.hidden]]
        .forEach(function (kv) { if (kv[1]) p.set(kv[0], kv[1]); });
      p.set("style", style);
      src = origin + "/embed/auto/?" + p.toString();
    }
    var frame = document.createElement("iframe");
    frame.src = src;
    frame.title = link.getAttribute("title") || (link.textContent || "").trim().slice(0, 80) || "Flattr";
    frame.width = SIZES[style][0];
    frame.height = SIZES[style][1];
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("loading", "lazy");
    frame.className = "flattr-button-frame";
    frame.style.border = "0";
    frame.style.overflow = "hidden";
    frame.style.verticalAlign = "middle";
    link.parentNode.replaceChild(frame, link);
  }

  function scan() {
    var links = document.querySelectorAll(
      "a.flattr-button, a.FlattrButton, a[rel^='flattr'], a[rev^='flattr']");
    for (var i = 0; i < links.length; i++) build(links[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
})();
