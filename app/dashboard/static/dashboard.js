// danchuang dashboard: a little vanilla JS, talking only to this server.
"use strict";

// Elements with data-refresh="URL" are re-rendered by the server every data-interval ms:
// the server sends the fragment's HTML, which replaces the element's content.
function keepFresh(element) {
  const url = element.dataset.refresh;
  const every = Number(element.dataset.interval) || 2000;
  async function tick() {
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (response.ok) {
        element.innerHTML = await response.text();
        element.dataset.refreshed = String(Date.now());
      }
    } catch (error) {
      // The server restarting is no reason to stop: try again at the next tick.
    }
    setTimeout(tick, every);
  }
  setTimeout(tick, every);
}

// A scenario job's page: follow its progress; reload when it ends to show the report link.
function followJob(element) {
  const every = Number(element.dataset.interval) || 1000;
  if (element.dataset.state === "done" || element.dataset.state === "failed") return;
  async function tick() {
    try {
      const response = await fetch(element.dataset.job, { cache: "no-store" });
      if (response.ok) {
        const job = await response.json();
        document.getElementById("job-done").textContent = job.done;
        document.getElementById("job-progress").value = job.done;
        document.getElementById("job-state").textContent = job.state;
        if (job.state === "done" || job.state === "failed") {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // keep polling
    }
    setTimeout(tick, every);
  }
  setTimeout(tick, every);
}

// The scenario form: offer the chosen scenario's parameters in the parameter box.
function linkParameters(select) {
  const input = document.getElementById(select.dataset.paramsFor);
  const update = () => input.setAttribute("list", "params-" + select.value);
  select.addEventListener("change", update);
  update();
}

// A filter box hides the rows that do not contain every word typed.
function filterRows(input) {
  const rows = document.querySelectorAll(input.dataset.filter);
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    rows.forEach((row) => {
      if (row.classList.contains("group")) return;
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((word) => text.includes(word));
    });
  });
}

// Conformance findings: clicking one scrolls its line into view and marks it.
function focusLines() {
  document.querySelectorAll("a.goto").forEach((link) => {
    link.addEventListener("click", (event) => {
      const line = document.getElementById(link.hash.slice(1));
      if (!line) return;
      event.preventDefault();
      document.querySelectorAll(".line.focused").forEach((l) => l.classList.remove("focused"));
      line.classList.add("focused");
      line.scrollIntoView({ block: "center" });
      history.replaceState(null, "", link.hash);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(keepFresh);
  document.querySelectorAll("[data-job]").forEach(followJob);
  document.querySelectorAll("[data-params-for]").forEach(linkParameters);
  document.querySelectorAll("[data-filter]").forEach(filterRows);
  focusLines();
});
