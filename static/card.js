/* The petition card that oEmbed hands to a CMS (WordPress shows it in a sandboxed iframe that
   may run scripts but not navigate its parent). WordPress's embed protocol: the iframe's URL
   carries #?secret=…; the card posts its height, and asks the host page to open a link, with
   that secret. Nothing about any reader is in these messages. Without a secret (a CMS that
   does not sandbox), the links simply open in the top window. */
(function () {
  "use strict";
  var found = /[#&?]secret=([A-Za-z0-9]+)/.exec(location.hash);
  if (!found || window.parent === window) return;
  var secret = found[1];
  function post(message, value) {
    window.parent.postMessage({ message: message, value: value, secret: secret }, "*");
  }
  function height() {
    post("height", Math.ceil(document.documentElement.getBoundingClientRect().height));
  }
  window.addEventListener("load", height);
  window.addEventListener("resize", height);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link) return;
    event.preventDefault();
    post("link", link.href);
  });
})();
