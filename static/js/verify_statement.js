/* Check an Open Flattr statement proof in the browser, against the roots
   published on /transparency/: WebCrypto (SubtleCrypto) only, nothing sent
   anywhere. The same hashing as payouts/transparency.py and
   scripts/verify_statement.py:
     leaf = SHA-256(0x00 || salt || "kind|YYYY-MM|user id|name=value|...")
     node = SHA-256(0x01 || left || right)
     root = SHA-256("open-flattr-chain-v1" || previous root || Merkle root)
   (the salt, an HMAC the platform computed, is in the proof). Kinds:
   supporter (charity, flattrs, taken), creator (fee, flattrs, gross, net)
   and onward (in, out). */
(function () {
  "use strict";
  var FIELDS = {
    supporter: ["charity", "flattrs", "taken"],
    creator: ["fee", "flattrs", "gross", "net"],
    // cents received onward from other creators, cents passed on
    onward: ["in", "out"]
  };
  var CHAIN_PREFIX = "open-flattr-chain-v1";
  var encoder = new TextEncoder();

  function ProofError(key, values) {
    this.key = key;
    this.values = values || {};
  }

  function hexToBytes(value, what) {
    if (typeof value !== "string" || !/^[0-9a-fA-F]{64}$/.test(value)) {
      throw new ProofError("malformed", { detail: what });
    }
    var bytes = new Uint8Array(32);
    for (var i = 0; i < 32; i++) bytes[i] = parseInt(value.substr(i * 2, 2), 16);
    return bytes;
  }

  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  function sha256(parts) {
    return crypto.subtle.digest("SHA-256", concat(parts)).then(function (b) {
      return new Uint8Array(b);
    });
  }

  function isCents(value) {
    return typeof value === "number" && Number.isSafeInteger(value);
  }

  function lineText(kind, period, userId, amounts) {
    var fields = FIELDS[kind];
    var names = amounts && typeof amounts === "object" ? Object.keys(amounts).sort() : null;
    if (!fields || !names || names.join(",") !== fields.join(",")) {
      throw new ProofError("malformed", { detail: "amounts" });
    }
    if (!isCents(userId)) throw new ProofError("malformed", { detail: "user_id" });
    var parts = [kind, period, String(userId)];
    names.forEach(function (name) {
      if (!isCents(amounts[name])) throw new ProofError("malformed", { detail: name });
      parts.push(name + "=" + amounts[name]);
    });
    return parts.join("|");
  }

  function climb(node, path) {
    if (!Array.isArray(path)) throw new ProofError("malformed", { detail: "path" });
    return path.reduce(function (promise, step) {
      return promise.then(function (current) {
        var sibling = hexToBytes(step && step.hash, "path");
        if (step.side === "left") return sha256([[1], sibling, current]);
        if (step.side === "right") return sha256([[1], current, sibling]);
        throw new ProofError("malformed", { detail: "path" });
      });
    }, Promise.resolve(node));
  }

  function equal(a, b) {
    return toHex(a) === toHex(b);
  }

  /* Resolves with {period, lines, root}; rejects with a ProofError. */
  function verify(proof, published) {
    return Promise.resolve().then(function () {
      if (!proof || typeof proof !== "object" || proof.format !== "open-flattr-statement-proof" || proof.version !== 1) {
        throw new ProofError("not_proof");
      }
      if (typeof proof.period !== "string") throw new ProofError("malformed", { detail: "period" });
      var merkleRoot = hexToBytes(proof.merkle_root, "merkle_root");
      var previousRoot = hexToBytes(proof.previous_root, "previous_root");
      var lines = proof.lines;
      if (!Array.isArray(lines) || !lines.length) throw new ProofError("no_lines");
      var checks = lines.map(function (line, i) {
        if (!line || typeof line !== "object") throw new ProofError("malformed", { detail: "lines" });
        var text = lineText(line.kind, proof.period, line.user_id, line.amounts);
        var salt = hexToBytes(line.salt, "salt");
        return sha256([[0], salt, encoder.encode(text)]).then(function (leaf) {
          return climb(leaf, line.path);
        }).then(function (node) {
          if (!equal(node, merkleRoot)) {
            throw new ProofError("line_mismatch", { number: i + 1, kind: line.kind });
          }
        });
      });
      return Promise.all(checks).then(function () {
        return sha256([encoder.encode(CHAIN_PREFIX), previousRoot, merkleRoot]);
      }).then(function (chainedBytes) {
        var chained = toHex(chainedBytes);
        if (chained !== String(proof.root).toLowerCase()) throw new ProofError("chain_mismatch");
        var root = published[proof.period];
        if (!root) throw new ProofError("no_month", { period: proof.period });
        if (chained !== root.toLowerCase()) {
          throw new ProofError("root_differs", { period: proof.period, computed: chained, published: root });
        }
        var previousPeriod = proof.previous_period;
        var previousPublished = previousPeriod ? published[previousPeriod] : null;
        if (previousPublished && toHex(previousRoot) !== previousPublished.toLowerCase()) {
          throw new ProofError("previous_differs", {
            previous: previousPeriod, found: toHex(previousRoot), published: previousPublished
          });
        }
        return {
          period: proof.period,
          lines: lines.map(function (l) { return l.kind; }).join(", "),
          root: chained
        };
      });
    });
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }

  function start() {
    var form = document.getElementById("verify-form");
    var result = document.getElementById("verify-result");
    var messagesNode = document.getElementById("verify-messages");
    if (!form || !result || !messagesNode) return;
    var messages = JSON.parse(messagesNode.textContent);
    var published = {};
    document.querySelectorAll("[data-root-period]").forEach(function (node) {
      published[node.getAttribute("data-root-period")] = node.textContent.trim();
    });

    function say(ok, key, values) {
      result.hidden = false;
      result.className = "verify-result " + (ok ? "ok" : "failed");
      result.setAttribute("data-outcome", ok ? "ok" : key);
      result.textContent = format(messages[key] || key, values || {});
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = form.querySelector("input[type=file]").files[0];
      if (!file) return say(false, "no_file");
      if (!window.crypto || !window.crypto.subtle) return say(false, "no_crypto");
      file.text().then(function (text) {
        var proof;
        try {
          proof = JSON.parse(text);
        } catch (e) {
          throw new ProofError("unreadable");
        }
        return verify(proof, published);
      }).then(function (outcome) {
        say(true, "ok", outcome);
      }, function (error) {
        if (error instanceof ProofError) say(false, error.key, error.values);
        else say(false, "malformed", { detail: String(error && error.message || error) });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
