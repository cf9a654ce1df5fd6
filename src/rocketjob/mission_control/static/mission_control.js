// Mission Control's only script. It enhances pages that work without it:
// - live parts ([data-live] with an id) refresh every couple of seconds from the page's
//   fragment URL (body[data-live-url]), paused while the tab is hidden;
// - forms with data-confirm ask in a dialog, then post with confirmed=yes (without this
//   script the server asks on a page of its own); no refresh lands while it is open;
// - "/" focuses the search box.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const body = document.body;
  const liveUrl = body.dataset.liveUrl;
  const status = document.getElementById("live-status");
  const dialog = document.getElementById("confirm-dialog");
  let timer = null;
  let inFlight = false;
  // From the confirmation's opening until its form is posted: the form must stay in place.
  let confirming = false;

  function setStatus(text, stale) {
    if (!status) return;
    status.hidden = false;
    status.textContent = text;
    status.classList.toggle("stale", stale);
  }

  function editing(region) {
    const active = document.activeElement;
    return active !== null && region.contains(active) && active.matches("input, textarea, select");
  }

  function swap(fresh) {
    const current = document.getElementById(fresh.id);
    if (current === null || editing(current)) return;
    // Keep open what the operator opened (a backtrace, say).
    for (const open of current.querySelectorAll("details[open][id]")) {
      const twin = fresh.querySelector("#" + CSS.escape(open.id));
      if (twin !== null) twin.open = true;
    }
    current.replaceWith(document.importNode(fresh, true));
  }

  function operatorConfirms() {
    return confirming || (dialog !== null && dialog.open);
  }

  async function refresh() {
    if (inFlight || document.hidden || operatorConfirms()) return;
    inFlight = true;
    body.dataset.refreshing = "yes";
    try {
      const response = await fetch(liveUrl, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.status === 404) {
        setStatus("Gone", true);
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      // An answer landing while the operator confirms would replace the form they are
      // confirming (its post would go nowhere): this one is dropped, the next brings news.
      if (operatorConfirms()) return;
      for (const fresh of doc.querySelectorAll("[data-live][id]")) swap(fresh);
      // The tab may have been hidden while this answer was on its way.
      setStatus(document.hidden ? "Paused" : "Live", false);
    } catch (error) {
      setStatus("Reconnecting…", true);
    } finally {
      inFlight = false;
      delete body.dataset.refreshing;
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if (!liveUrl || document.hidden) {
      if (liveUrl) setStatus("Paused", false);
      return;
    }
    timer = setInterval(refresh, REFRESH_MS);
  }

  document.addEventListener("visibilitychange", () => {
    schedule();
    if (!document.hidden) refresh();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (dialog === null || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    dialog.querySelector("#confirm-question").textContent = form.dataset.confirm;
    dialog.querySelector("#confirm-ok").textContent = form.dataset.confirmLabel || "OK";
    dialog.returnValue = "";
    confirming = true;
    dialog.addEventListener(
      "close",
      () => {
        confirming = false;
        if (dialog.returnValue !== "ok") return;
        const confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        confirmed.value = "yes";
        form.append(confirmed);
        form.submit();
      },
      { once: true },
    );
    dialog.showModal();
  });

  // "/" jumps to the search box, as in most dashboards.
  document.addEventListener("keydown", (event) => {
    const search = document.querySelector('input[type="search"]');
    const typing = event.target instanceof Element && event.target.matches("input, textarea");
    if (event.key !== "/" || search === null || typing || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    search.focus();
  });

  // A menu closes when the operator clicks elsewhere.
  document.addEventListener("click", (event) => {
    for (const menu of document.querySelectorAll("details.menu[open]")) {
      if (!menu.contains(event.target)) menu.open = false;
    }
  });

  if (liveUrl) {
    setStatus("Live", false);
    schedule();
  }
})();
