// raretrace dashboard: times in the viewer's zone (UTC on hover), sortable and paged
// tables, the as-of picker. No framework; htmx does the requests.
(function () {
  "use strict";
  // Refusals and form errors come back 4xx with a message to show (htmx swaps only 2xx
  // by default); the server retargets them to the page's alert area.
  if (window.htmx) {
    htmx.config.responseHandling = [
      {code: "204", swap: false}, {code: "[23]..", swap: true},
      {code: "[4]..", swap: true, error: true}, {code: "...", swap: false, error: true}];
  }
  document.addEventListener("htmx:beforeRequest", function () {
    const box = document.getElementById("htmx-error");
    if (box) box.innerHTML = "";
  });
  const fmt = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function localTimes(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.textContent = fmt.format(d);
      el.title = el.getAttribute("datetime") + " (UTC); shown in " + zone;
      el.dataset.local = "1";
    });
  }

  function cellValue(row, i) {
    const cell = row.cells[i];
    if (!cell) return "";
    const v = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
    const n = Number(v.replace(/[, ]/g, "").replace(/(kg|t|%)$/, ""));
    return v !== "" && !isNaN(n) ? n : v.toLowerCase();
  }

  function pageTable(table) {
    const size = Number(table.dataset.pageSize || 0);
    const rows = Array.from(table.tBodies[0].rows);
    let pager = table.parentElement.querySelector(".pager[data-for='" + table.id + "']");
    if (!size || rows.length <= size) { rows.forEach(r => r.hidden = false); if (pager) pager.remove(); return; }
    const pages = Math.ceil(rows.length / size);
    let at = Math.min(Number(table.dataset.page || 0), pages - 1);
    if (!pager) {
      pager = document.createElement("div");
      pager.className = "pager"; pager.dataset.for = table.id;
      pager.innerHTML = '<button type="button" data-step="-1">Previous</button>' +
        '<span aria-live="polite"></span><button type="button" data-step="1">Next</button>';
      table.parentElement.appendChild(pager);
      pager.addEventListener("click", function (ev) {
        const step = Number(ev.target.dataset.step || 0);
        if (!step) return;
        table.dataset.page = String(Math.max(0, Math.min(pages - 1, Number(table.dataset.page || 0) + step)));
        pageTable(table);
      });
    }
    table.dataset.page = String(at);
    rows.forEach((r, i) => r.hidden = Math.floor(i / size) !== at);
    pager.querySelector("span").textContent = "page " + (at + 1) + " of " + pages + " (" + rows.length + " rows)";
  }

  function sortable(root) {
    root.querySelectorAll("table.sortable:not([data-ready])").forEach(function (table) {
      table.dataset.ready = "1";
      Array.from(table.tHead.rows[0].cells).forEach(function (th, i) {
        const b = document.createElement("button");
        b.type = "button"; b.className = "sort"; b.textContent = th.textContent;
        b.setAttribute("aria-label", "sort by " + th.textContent);
        th.textContent = ""; th.appendChild(b);
        b.addEventListener("click", function () {
          const asc = th.getAttribute("aria-sort") !== "ascending";
          Array.from(table.tHead.rows[0].cells).forEach(c => c.removeAttribute("aria-sort"));
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          const body = table.tBodies[0];
          const rows = Array.from(body.rows);
          rows.sort(function (a, b2) {
            const x = cellValue(a, i), y = cellValue(b2, i);
            return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
          });
          rows.forEach(r => body.appendChild(r));
          table.dataset.page = "0";
          pageTable(table);
        });
      });
      pageTable(table);
    });
  }

  function ready(root) { localTimes(root); sortable(root); }
  document.addEventListener("DOMContentLoaded", function () { ready(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { ready(ev.target); });
})();

// A sign-in link (`raretrace demo --serve` prints one) carries the token after '#', which
// browsers never send to a server nor write to its logs: fill the form, forget the
// fragment, and post it.
(function () {
  "use strict";
  if (location.pathname !== "/ui/signin" || !location.hash.startsWith("#token=")) return;
  const token = decodeURIComponent(location.hash.slice("#token=".length));
  history.replaceState(null, "", location.pathname);
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("signin-form");
    form.querySelector("[name=token]").value = token;
    form.submit();
  });
})();
