/*! petition-widget loader: replaces each <a data-campaign="SLUG" href="https://SERVICE/c/SLUG">
   with the petition (without this script it stays a link); <script data-campaign> works too. */
(function () {
  "use strict";
  var NS = "petition-widget:";
  var TEXT = {
    en: ["Sign the petition", "Petition", "Petition counter"],
    fr: ["Signez la pétition", "Pétition", "Compteur de la pétition"],
    be: ["Падпішыце петыцыю", "Петыцыя", "Лічыльнік петыцыі"],
    ru: ["Подпишите петицию", "Петиция", "Счётчик петиции"]
  };

  // The service is where the link points (or the script came from): serve this from anywhere.
  function mount(el, link) {
    var data = el.dataset;
    var campaign = data.campaign || "";
    if (!campaign || el.getAttribute("data-pw-mounted")) return;
    var origin;
    try { origin = new URL(link ? el.href : el.src).origin; } catch (e) { return; }
    el.setAttribute("data-pw-mounted", "1");
    // oEmbed HTML shown as it is: the petition replaces its quote and card.
    var quote = link && data.oembed && el.closest("blockquote");
    if (quote) {
      var card = quote.nextElementSibling;
      if (card && card.tagName === "IFRAME") card.parentNode.removeChild(card);
      quote.parentNode.replaceChild(el, quote);
    }
    var mode = data.mode === "counter" ? "counter" : "embed";
    var lang = data.lang || "";
    var text = TEXT[(lang || navigator.language || "").toLowerCase().split(/[-_]/)[0]] || TEXT.en;
    var params = new URLSearchParams();
    if (data.partner && mode === "embed") params.set("partner", data.partner);
    if (lang) params.set("lang", lang);
    if (data.theme) params.set("theme", data.theme);
    var query = params.toString();
    var base = origin + "/c/" + encodeURIComponent(campaign);

    var box = document.createElement("div");
    box.className = "petition-widget";
    var fallback = link ? el : document.createElement("a");
    if (!link) {
      fallback.href = base + (query ? "?" + query : "");
      fallback.textContent = text[0];
    }
    el.parentNode.insertBefore(box, link ? el : el.nextSibling);
    box.appendChild(fallback);

    function start() {
      var frame = document.createElement("iframe");
      frame.src = base + "/" + mode + (query ? "?" + query : "");
      frame.title = data.title || (mode === "counter" ? text[2] : text[1]);
      frame.loading = "lazy";
      frame.allow = "clipboard-write; web-share"; // after signing
      frame.style.cssText = "display:block;width:100%;border:0;overflow:hidden;height:" + (mode === "counter" ? "90px" : "640px");
      // The browser stamps our origin on this: the iframe tells only trusted hosts of a signature.
      frame.addEventListener("load", function () {
        frame.contentWindow.postMessage({ type: NS + "hello" }, origin);
      });
      box.insertBefore(frame, fallback);
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

    // data-load="click": nothing is asked of the service until the reader clicks.
    if (link && data.load === "click") {
      el.addEventListener("click", function once(event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
        event.preventDefault();
        el.removeEventListener("click", once);
        start();
      });
    } else {
      start();
    }
  }

  function mountAll() {
    var links = document.querySelectorAll("a[data-campaign][href]");
    for (var i = 0; i < links.length; i++) mount(links[i], true);
  }

  var script = document.currentScript;
  if (script && script.getAttribute("data-campaign")) {
    mount(script, false);
  } else if (!script) {
    var scripts = document.querySelectorAll("script[data-campaign]");
    for (var j = 0; j < scripts.length; j++) mount(scripts[j], false);
  }
  mountAll();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
})();
