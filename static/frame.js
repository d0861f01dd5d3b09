// Inside the iframe: report our height to the embedding page, and sign without a page load.
// Only the height and {campaign, count} are ever posted to the parent: never signer data.
// After a signature, nothing at all (no event, no message, no change of height) reaches a host
// page the campaign does not trust: a hostile site that frames the widget and knows its
// visitors must not learn which of them signed.
(function () {
  "use strict";
  var NS = "petition-widget:";
  var framed = window.parent !== window;
  var main = document.querySelector("[data-pw-campaign]");
  var campaign = main ? main.getAttribute("data-pw-campaign") : "";
  // The campaign's explicit origins and its registered partners' (from the server), and our
  // own pages (the demo page).
  var trusted = ((main && main.getAttribute("data-pw-trusted")) || "").split(" ");
  trusted.push(window.location.origin);
  // The thank-you page (after a form post without fetch) is the signed state from the start.
  var signed = !!(main && main.hasAttribute("data-pw-signed"));
  // The host's origin, from the loader's "hello": the browser sets event.origin, which a page
  // cannot forge. Unknown until then (an old cached loader, or no loader at all).
  var host = "";

  function hostTrusted() {
    return host !== "" && trusted.indexOf(host) !== -1;
  }

  function post(message) {
    if (!framed) return;
    if (signed) {
      if (hostTrusted()) window.parent.postMessage(message, host);
      return;
    }
    // Before a signature only the form's height goes out, which any host may know.
    window.parent.postMessage(message, host || "*");
  }

  function reportHeight() {
    post({ type: NS + "height", height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
  }

  if (framed) {
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || host) return;
      var message = event.data;
      if (!message || message.type !== NS + "hello" || typeof event.origin !== "string") return;
      host = event.origin;
      reportHeight();
    });
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.documentElement);
    window.addEventListener("load", reportHeight);
    reportHeight();
  }

  // "Copy link" after signing. The link stays visible in its field, to copy by hand where the
  // clipboard is not available (an old browser, or a page that embeds us without
  // allow="clipboard-write").
  var shareUrl = document.querySelector("[data-pw-share-url]");
  var copy = document.querySelector("[data-pw-copy]");
  if (shareUrl && copy && navigator.clipboard && window.isSecureContext) {
    var copyStatus = document.querySelector("[data-pw-copy-status]");
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(shareUrl.value).then(function () {
        copyStatus.textContent = copyStatus.getAttribute("data-copied");
      }, function () {
        shareUrl.focus();
        shareUrl.select();
      });
    });
  }
  if (shareUrl) shareUrl.addEventListener("focus", function () { shareUrl.select(); });

  // The browser's own share sheet (phones, mostly), where it has one and may use it here.
  var native = document.querySelector("[data-pw-native-share]");
  if (native && shareUrl && navigator.share) {
    native.hidden = false;
    native.addEventListener("click", function () {
      navigator.share({ title: native.getAttribute("data-title"),
        text: native.getAttribute("data-text"), url: shareUrl.value }).catch(function () {});
    });
  }

  // The campaign video: a button in place of the link, and the player only once it is clicked.
  var play = document.querySelector("[data-pw-video-play]");
  if (play) {
    document.querySelector("[data-pw-video-link]").hidden = true;
    play.hidden = false;
    play.addEventListener("click", function () {
      var player = document.createElement("iframe");
      var caption = play.closest("figure").querySelector("figcaption");
      player.src = play.getAttribute("data-src");
      player.title = caption ? caption.textContent : play.textContent;
      player.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
      // Our pages send no Referer, and some players (YouTube's) refuse to play without
      // one: send our origin only, never a path.
      player.referrerPolicy = "strict-origin";
      var holder = play.parentNode;
      holder.textContent = "";
      holder.appendChild(player);
      player.focus();
    });
  }

  var form = document.querySelector("[data-pw-form]");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  // Sandboxed without our origin, the form could only post by reloading the frame, which the
  // host sees (see _petition.html).
  function signElsewhere() {
    if (main) main.classList.add("pw-sign-elsewhere");
  }
  if (framed && window.origin === "null") {
    signElsewhere();
    return;
  }
  // The part of this frame the reader sees: the thank-you goes there, since focusing it where
  // it is would scroll the host page, an event it sees at the moment its visitor signs.
  var seen = null;
  if (framed && window.IntersectionObserver) {
    var steps = [];
    for (var s = 0; s <= 50; s++) steps.push(s / 50);
    new IntersectionObserver(function (entries) {
      seen = entries[entries.length - 1].intersectionRect;
    }, { threshold: steps }).observe(document.documentElement);
  }
  var summary = form.querySelector("[data-pw-summary]");
  var summaryList = form.querySelector("[data-pw-summary-list]");
  var button = form.querySelector("button[type=submit]");

  function showErrors(errors) {
    var fields = form.querySelectorAll("[data-pw-error]");
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i].getAttribute("data-pw-error");
      var input = form.querySelector("[name=" + name + "]");
      var message = errors[name] || "";
      fields[i].textContent = message;
      fields[i].hidden = !message;
      if (input) {
        if (message) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
        input.parentNode.classList.toggle("pw-invalid", !!message);
      }
    }
    summaryList.textContent = "";
    Object.keys(errors).forEach(function (name) {
      var item = document.createElement("li");
      if (name === "form" || !form.querySelector("#pw-" + name)) {
        item.textContent = errors[name];
      } else {
        var link = document.createElement("a");
        link.href = "#pw-" + name;
        link.textContent = errors[name];
        item.appendChild(link);
      }
      summaryList.appendChild(item);
    });
    summary.hidden = false;
    summary.focus();
  }

  function showCount(data) {
    var text = document.querySelectorAll("[data-pw-count-text]");
    for (var i = 0; i < text.length; i++) text[i].textContent = data.count_text;
    var goal = document.querySelectorAll("[data-pw-goal-text]");
    for (var k = 0; k < goal.length; k++) goal[k].textContent = data.goal_text || "";
    var bars = document.querySelectorAll("[data-pw-progress]");
    for (var j = 0; j < bars.length; j++) bars[j].value = data.goal_text ? Math.min(data.count, bars[j].max) : 0;
  }

  // The code that withdraws this signature: for the reader's eyes only, never posted out.
  function showWithdrawCode(code) {
    var box = document.querySelector("[data-pw-withdraw]");
    if (!box || !code) return;
    box.querySelector("[data-pw-withdraw-code]").textContent = code;
    box.hidden = false;
  }

  // Follow a link in the error summary to its field, keeping focus in step.
  summary.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#pw-']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (target) { event.preventDefault(); target.focus(); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(false);
  });

  // An expired form is sent again once, at once, with the fresh token the answer carries.
  function send(retried) {
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, errors: { form: response.statusText || "Error" } }; });
    }).then(function (data) {
      button.disabled = false;
      if (data.token) form.querySelector("[data-pw-token]").value = data.token;
      if (!data.ok && data.retry && !retried) { send(true); return; }
      if (!data.ok) { showErrors(data.errors || {}); return; }
      signed = true; // from here on, only a trusted host hears anything
      showCount(data);
      showWithdrawCode(data.withdraw_code);
      var thanks = document.querySelector("[data-pw-thanks]");
      var quiet = framed && !hostTrusted(); // its iframe keeps its height: nothing may move
      var bottom = document.documentElement.scrollHeight;
      form.hidden = true;
      thanks.hidden = false;
      if (quiet && seen && seen.height) {
        var top = thanks.getBoundingClientRect().top;
        var room = bottom - thanks.offsetHeight - top;
        thanks.style.paddingTop = Math.max(0, Math.min(seen.top + 12 - top, room)) + "px";
      }
      thanks.focus({ preventScroll: quiet });
      post({ type: NS + "signed", campaign: campaign, count: data.count });
    }).catch(function () {
      button.disabled = false;
      // The network failed: post the form the ordinary way, but never in a frame.
      if (framed) signElsewhere();
      else form.submit();
    });
  }
})();
