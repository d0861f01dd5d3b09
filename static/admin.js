/* Every admin page: a form's error summary (or a problem) takes the focus, so that a reader of
   the page, with a screen reader or not, is taken to it rather than left at the top. */
(function () {
  "use strict";
  var problem = document.querySelector("[data-pa-focus]");
  if (problem) problem.focus();

  // Copy buttons for the snippets and addresses (they stay selectable by hand without them).
  var said = document.querySelector("[data-pa-copied]");
  if (!navigator.clipboard || !window.isSecureContext) return;
  var buttons = document.querySelectorAll("[data-pa-copy]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      var button = event.currentTarget;
      var source = document.getElementById(button.getAttribute("data-pa-copy"));
      navigator.clipboard.writeText(source.textContent).then(function () {
        if (said) said.textContent = "Copied: " + button.textContent.replace(/^Copy /, "") + ".";
      });
    });
  }
})();

/* The admin's passkey pages: ask the browser for a passkey (navigator.credentials) with the
   options the server put in #pw-passkey-options, and send its answer in the form's hidden
   `credential` field. Loaded only by those pages; nothing from any other origin. */
(function () {
  "use strict";
  var holder = document.getElementById("pw-passkey-options");
  var form = document.getElementById("pw-passkey-form");
  if (!holder || !form) return;
  var status = document.getElementById("pw-passkey-status");
  var ceremony = holder.getAttribute("data-ceremony");

  function say(text) {
    if (status) status.textContent = text;
  }

  if (!window.PublicKeyCredential || !navigator.credentials) {
    say("This browser cannot use passkeys. Use another browser, or a recovery code.");
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(list) {
    return (list || []).map(function (item) {
      var copy = Object.assign({}, item);
      copy.id = toBytes(item.id);
      return copy;
    });
  }

  function publicKey() {
    var options = JSON.parse(holder.textContent);
    options.challenge = toBytes(options.challenge);
    if (options.user) options.user.id = toBytes(options.user.id);
    if (options.excludeCredentials) options.excludeCredentials = withBytes(options.excludeCredentials);
    if (options.allowCredentials) options.allowCredentials = withBytes(options.allowCredentials);
    return options;
  }

  function answer(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (ceremony === "create") {
      response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults()
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    say("Follow your browser's prompt…");
    var asked = ceremony === "create"
      ? navigator.credentials.create({ publicKey: publicKey() })
      : navigator.credentials.get({ publicKey: publicKey() });
    asked.then(function (credential) {
      form.elements.credential.value = JSON.stringify(answer(credential));
      say("Checking…");
      form.submit();
    }, function (error) {
      say(error && error.name === "NotAllowedError"
        ? "The passkey prompt was closed or timed out. Try again."
        : "The passkey did not work (" + (error && error.name) + "). Try again.");
    });
  });
})();
