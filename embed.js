/*! petition-widget loader: <script async src=".../embed.js" data-campaign="SLUG"></script> */
(function () {
  "use strict";
  var NS = "petition-widget:";
  // Before the iframe loads, the loader speaks for it: the fallback link and the frame titles.
  var TEXT = {
    en: ["Sign the petition", "Petition", "Petition counter"],
    fr: ["Signez la pétition", "Pétition", "Compteur de la pétition"],
    be: ["Падпішыце петыцыю", "Петыцыя", "Лічыльнік петыцыі"],
    ru: ["Подпишите петицию", "Петиция", "Счётчик петиции"]
  };

  function mount(script) {
    if (script.getAttribute("data-pw-mounted")) return;
    script.setAttribute("data-pw-mounted", "1");
    var data = script.dataset;
    var campaign = data.campaign || "";
    if (!campaign) return;
    var origin = new URL(script.src).origin;
    var mode = data.mode === "counter" ? "counter" : "embed";
    var lang = data.lang || "";
    // Without data-lang the iframe follows the browser's languages; so does this text.
    var text = TEXT[(lang || navigator.language || "").toLowerCase().split(/[-_]/)[0]] || TEXT.en;
    var params = new URLSearchParams();
    if (data.partner && mode === "embed") params.set("partner", data.partner);
    if (lang) params.set("lang", lang);
    var query = params.toString();
    var base = origin + "/c/" + encodeURIComponent(campaign);

    var box = document.createElement("div");
    box.className = "petition-widget";
    var frame = document.createElement("iframe");
    frame.src = base + "/" + mode + (query ? "?" + query : "");
    frame.title = data.title || (mode === "counter" ? text[2] : text[1]);
    frame.loading = "lazy";
    frame.allow = "clipboard-write"; // the "Copy link" button after signing
    frame.style.cssText = "display:block;width:100%;border:0;overflow:hidden;height:" + (mode === "counter" ? "90px" : "640px");
    // Shown until the iframe reports in, and left there if it never does.
    var fallback = document.createElement("a");
    fallback.href = base + (query ? "?" + query : "");
    fallback.textContent = text[0];
    // Tell the iframe who its host is: the browser stamps this page's origin on the message,
    // and the iframe tells a signature only to hosts its campaign trusts.
    frame.addEventListener("load", function () {
      frame.contentWindow.postMessage({ type: NS + "hello" }, origin);
    });
    box.appendChild(frame);
    box.appendChild(fallback);
    script.parentNode.insertBefore(box, script.nextSibling);

    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      var message = event.data;
      if (!message || typeof message.type !== "string" || message.type.indexOf(NS) !== 0) return;
      if (message.type === NS + "height") {
        var height = Number(message.height);
        if (height > 0 && height < 20000) {
          frame.style.height = Math.ceil(height) + "px";
          fallback.hidden = true;
        }
      } else if (message.type === NS + "signed") {
        box.dispatchEvent(new CustomEvent("petition:signed", {
          bubbles: true,
          detail: { campaign: campaign, count: Number(message.count) }
        }));
      }
    });
  }

  if (document.currentScript) {
    mount(document.currentScript);
  } else {
    var scripts = document.querySelectorAll("script[data-campaign]");
    for (var i = 0; i < scripts.length; i++) mount(scripts[i]);
  }
})();
