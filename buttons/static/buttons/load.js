/* Open Flattr: the classic FlattrLoader (load.js 0.5 and 0.6), so a page
 * that carried the original snippet works with only the host swapped.
 *
 * Query string of this script: mode=auto|manual|direct, uid, button,
 * language, category, popout, https, html5-key-prefix.
 * API: FlattrLoader.setup(), FlattrLoader.render(params, target, method),
 * FlattrLoader.addLoadEvent(fn). No dependencies, no cookies, no tracking.
 * A definition it cannot use becomes a button that says why; it never
 * throws into the page. */
(function (w, d) {
  "use strict";
  var KEYS = ["uid", "owner", "url", "title", "description", "category", "tags",
              "language", "button", "hidden", "popout", "thing"];
  var SIZES = { "default": [74, 66], compact: [112, 24] };
  var LABEL = /^flattr( this| me| us| it)?[\s!.…]*$/i;

  function findScript() {
    if (d.currentScript && /\/load\.js/.test(d.currentScript.src)) return d.currentScript;
    var all = d.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/js\/0\.[56]\/load\.js/.test(all[i].src || "")) return all[i];
    }
    return null;
  }

  function parseQuery(search) {
    var out = {};
    (search || "").replace(/^\?/, "").split(/[&;]/).forEach(function (pair) {
      if (!pair) return;
      var i = pair.indexOf("=");
      var k = i < 0 ? pair : pair.slice(0, i), v = i < 0 ? "" : pair.slice(i + 1);
      try {
        out[decodeURIComponent(k.replace(/\+/g, " "))] = decodeURIComponent(v.replace(/\+/g, " "));
      } catch (e) { /* a malformed pair is skipped */ }
    });
    return out;
  }

  var script = findScript();
  var src = script ? script.src : "";
  var here;
  try { here = new URL(src || "/", w.location.href); } catch (e) { here = new URL(w.location.href); }
  var options = parseQuery(here.search);
  var base = here.origin;
  // https=1 asks for https buttons; never downgrade, and only upgrade where
  // the page itself is https (otherwise it would be mixed content anyway).
  if (options.https === "1" && here.protocol === "http:" && w.location.protocol === "https:") {
    base = "https://" + here.host;
  }
  var prefix = options["html5-key-prefix"] || "data-flattr";
  if (prefix.indexOf("data-") !== 0) prefix = "data-flattr";
  var mode = options.mode === "auto" || options.mode === "direct" ? options.mode : "manual";

  function parseRel(value) {
    // rel="flattr;uid:mario;category:text;tags:a,b;button:compact;"
    var out = {};
    if (!value || !/^\s*flattr\s*(;|$)/i.test(value)) return null;
    value.split(";").forEach(function (part) {
      var i = part.indexOf(":");
      if (i > 0) out[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim();
    });
    return out;
  }

  function merge(target, source) {
    for (var k in source) {
      if (Object.prototype.hasOwnProperty.call(source, k) && source[k] !== "" && source[k] != null) {
        target[k] = String(source[k]);
      }
    }
    return target;
  }

  function defaults() {
    var out = {};
    ["uid", "button", "language", "category", "popout"].forEach(function (k) {
      if (options[k]) out[k] = options[k];
    });
    return out;
  }

  function paramsOf(link) {
    var p = defaults();
    merge(p, parseRel(link.getAttribute("rel")) || {});
    merge(p, parseRel(link.getAttribute("rev")) || {});
    var attrs = link.attributes, data = {};
    for (var i = 0; i < attrs.length; i++) {
      var name = attrs[i].name.toLowerCase();
      if (name.indexOf(prefix + "-") === 0) data[name.slice(prefix.length + 1)] = attrs[i].value;
    }
    merge(p, data);
    var href = link.getAttribute("href");
    if (!p.url && href && href !== "#") p.url = link.href;
    if (!p.title && link.getAttribute("title")) p.title = link.getAttribute("title");
    if (!p.language && link.getAttribute("lang")) p.language = link.getAttribute("lang");
    var text = (link.textContent || "").replace(/\s+/g, " ").trim();
    // The link's text describes the thing, unless it is only the button's
    // label ("Flattr", "Flattr this!"): no description then.
    if (!p.description && text && !LABEL.test(text)) p.description = text.slice(0, 1000);
    return p;
  }

  function buttonUrl(params) {
    var q = [];
    KEYS.forEach(function (k) {
      var v = k === "uid" ? (params.uid || params.owner) : params[k];
      if (k !== "owner" && v != null && v !== "") {
        q.push(encodeURIComponent(k) + "=" + encodeURIComponent(String(v).slice(0, 2000)));
      }
    });
    var unknown = [];
    for (var k in params) {
      if (Object.prototype.hasOwnProperty.call(params, k) && KEYS.indexOf(k) < 0) unknown.push(k);
    }
    if (unknown.length) q.push("unknown=" + encodeURIComponent(unknown.join(",").slice(0, 200)));
    return base + "/button/view/?" + q.join("&");
  }

  function makeFrame(params) {
    var style = params.button === "compact" ? "compact" : "default";
    var frame = d.createElement("iframe");
    frame.src = buttonUrl(params);
    frame.title = params.title ? "Flattr: " + params.title : "Flattr";
    frame.width = SIZES[style][0];
    frame.height = SIZES[style][1];
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("frameborder", "0");
    frame.className = "FlattrButton flattr-button-frame";
    frame.style.border = "0";
    frame.style.overflow = "hidden";
    frame.style.verticalAlign = "middle";
    return frame;
  }

  function makeDirect(params) {
    // mode=direct: a plain link to the confirm page, no iframe.
    var a = d.createElement("a");
    a.href = buttonUrl(params).replace("/button/view/", "/button/popout/");
    a.target = "_blank";
    a.rel = "noopener";
    a.className = "FlattrButton flattr-direct";
    a.textContent = "Flattr";
    return a;
  }

  function render(params, target, method) {
    try {
      if (typeof target === "string") target = d.getElementById(target);
      if (!target || !target.parentNode && method !== "append") return null;
      var node = mode === "direct" ? makeDirect(params || {}) : makeFrame(params || {});
      if (method === "before") {
        target.parentNode.insertBefore(node, target);
      } else if (method === "replace") {
        target.parentNode.replaceChild(node, target);
      } else {
        target.appendChild(node);
      }
      return node;
    } catch (e) {
      if (w.console && w.console.warn) w.console.warn("Flattr: could not render a button", e);
      return null;
    }
  }

  function setup() {
    var links = d.querySelectorAll("a.FlattrButton, a.flattr-button-classic");
    for (var i = 0; i < links.length; i++) {
      var link = links[i];
      if (link.getAttribute("data-flattr-loaded")) continue;
      link.setAttribute("data-flattr-loaded", "1");
      render(paramsOf(link), link, "replace");
    }
  }

  function addLoadEvent(fn) {
    if (typeof fn !== "function") return;
    if (d.readyState === "complete") {
      w.setTimeout(fn, 0);
    } else {
      w.addEventListener("load", fn);
    }
  }

  var api = {
    version: "0.6-open",
    options: options,
    setup: setup,
    render: render,
    addLoadEvent: addLoadEvent,
    parseRel: parseRel
  };
  // Loaded twice (two plugins on one page): keep the first, rescan.
  if (w.FlattrLoader && w.FlattrLoader.version === api.version) {
    if (mode === "auto") w.FlattrLoader.addLoadEvent(w.FlattrLoader.setup);
    return;
  }
  w.FlattrLoader = api;
  if (mode === "auto" || mode === "direct") {
    if (d.readyState === "loading") {
      d.addEventListener("DOMContentLoaded", setup);
    } else {
      setup();
    }
    // Buttons added by other scripts during page load.
    addLoadEvent(setup);
  }
})(window, document);
