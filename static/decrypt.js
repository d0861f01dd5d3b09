/* Opens a sealed export in the operator's browser (templates/admin/decrypt.html): the same
   work as `petition-widget decrypt`, with libsodium: rows sealed in a window (widget/sealing.py:
   "pwb1", the window's public key, a nonce, crypto_box_easy with the shared key) and sealed
   boxes (crypto_box_seal_open), with one private key or several. Reads local files only; sends
   nothing (the page's CSP forbids it); keeps nothing. */
(function () {
  "use strict";
  var form = document.getElementById("pa-decrypt");
  if (!form) return;
  var HEADER = "sealed,country,opt_in,partner,partner_opt_in,signed_at";
  var PERSONAL = ["first_name", "last_name", "email", "postal_code"];
  var MARK = [0x70, 0x77, 0x62, 0x31]; // "pwb1": a row sealed in a window
  var errorBox = document.getElementById("pa-decrypt-error");
  var result = document.getElementById("pa-decrypt-result");

  function fail(message) {
    result.hidden = true;
    errorBox.textContent = message;
    errorBox.hidden = false;
    errorBox.focus();
  }

  // A cell as a spreadsheet may open it safely (as the server's exports do), then quoted.
  function cell(value) {
    var text = String(value == null ? "" : value);
    if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // The sealed export's own cells: base64, codes, yes/no and times, quoted only if needed.
  function cells(line) {
    var out = [], value = "", quoted = false;
    for (var i = 0; i < line.length; i++) {
      var c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { value += '"'; i++; }
        else if (c === '"') quoted = false;
        else value += c;
      } else if (c === '"') quoted = true;
      else if (c === ",") { out.push(value); value = ""; }
      else value += c;
    }
    out.push(value);
    return out;
  }

  function opener(sodium, keyText) {
    var key;
    try {
      key = sodium.from_base64(keyText.trim(), sodium.base64_variants.ORIGINAL);
    } catch (e) { key = null; }
    if (!key || key.length !== 32) throw new Error("That is not a private key file (32 bytes in base64, from petition-widget keys generate).");
    var publicKey = sodium.crypto_scalarmult_base(key);
    var shared = {}; // per window's public key: a window's rows come together
    return function (box) {
      var windowed = box.length > 4 + 32 + 24 && MARK.every(function (b, i) { return box[i] === b; });
      if (windowed) {
        var ephemeral = box.subarray(4, 36);
        var id = sodium.to_hex(ephemeral);
        if (!shared[id]) shared[id] = sodium.crypto_box_beforenm(ephemeral, key);
        try {
          return sodium.crypto_box_open_easy_afternm(box.subarray(60), box.subarray(36, 60), shared[id]);
        } catch (e) { /* one sealed box in 2^32 starts with the mark: try it as one */ }
      }
      return sodium.crypto_box_seal_open(box, publicKey, key);
    };
  }

  // Several keys: rows sealed before the server was given a new public key open only with
  // the private key of that time, so each row is opened by whichever key it was sealed to.
  function open(sodium, exportText, keyTexts) {
    var openers = keyTexts.map(function (text) { return opener(sodium, text); });
    function unseal(box) {
      for (var k = 0; k < openers.length; k++) {
        try { return openers[k](box); } catch (e) { /* sealed to another of the keys */ }
      }
      throw new Error("no key opens it");
    }
    var lines = exportText.replace(/^\ufeff/, "").split(/\r?\n/).filter(function (l) { return l; });
    if (lines[0] !== HEADER) throw new Error("That is not a sealed export: its first line is not the export's header.");
    var rows = [PERSONAL.concat(HEADER.split(",").slice(1))];
    var missed = 0;
    for (var i = 1; i < lines.length; i++) {
      var row = cells(lines[i]);
      var opened;
      try {
        var box = sodium.from_base64(row[0], sodium.base64_variants.ORIGINAL);
        opened = JSON.parse(sodium.to_string(unseal(box)));
      } catch (e) {
        missed++; // counted to the end, so that the message can say how many each way
        continue;
      }
      rows.push(PERSONAL.map(function (name) { return opened[name] || ""; }).concat(row.slice(1)));
    }
    if (missed) throw new Error(unopened(rows.length - 1, lines.length - 1, keyTexts.length));
    return rows;
  }

  // Some rows open and others do not: the keys are right, one is missing (the server was given
  // a new public key, and the rows of the other time open only with that time's private key).
  function unopened(opened, all, keys) {
    var these = keys > 1 ? "These private keys open " : "This private key opens ";
    if (opened) return these + opened + " of the " + all + " signature(s) here; the rest (" + (all - opened) + ") were sealed to another public key (the server was given a new one): choose that private key too. Nothing was opened.";
    return keys > 1
      ? "None of these private keys opens the export (wrong keys?). Nothing was opened."
      : "This private key does not open the export (wrong key?). If the server was ever given a new public key, choose the private key of each time together. Nothing was opened.";
  }

  function show(rows, name) {
    var csv = "\ufeff" + rows.map(function (r) { return r.map(cell).join(","); }).join("\r\n") + "\r\n";
    var save = document.getElementById("pa-decrypt-save");
    if (save.href) URL.revokeObjectURL(save.href);
    save.href = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    save.download = name.replace(/\.csv$/i, "") + "-opened.csv";
    var body = document.getElementById("pa-decrypt-rows");
    body.textContent = "";
    rows.slice(1, 11).forEach(function (r) {
      var tr = document.createElement("tr");
      [r[0], r[1], r[2], r[4], r[8]].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById("pa-decrypt-status").textContent =
      "Opened " + (rows.length - 1) + " signature(s), in this browser only.";
    errorBox.hidden = true;
    result.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var exportFile = document.getElementById("f-export").files[0];
    var keyFiles = Array.prototype.slice.call(document.getElementById("f-key").files);
    if (!exportFile || !keyFiles.length) return fail("Choose the sealed export and the private key file.");
    if (!window.sodium) return fail("libsodium did not load: reload the page.");
    var reads = keyFiles.map(function (file) { return file.text(); });
    Promise.all([window.sodium.ready, exportFile.text()].concat(reads)).then(function (found) {
      show(open(window.sodium, found[1], found.slice(2)), exportFile.name);
    }).catch(function (error) { fail(error.message); });
  });
})();
