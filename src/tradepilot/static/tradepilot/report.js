// Add/remove lines in the monthly report form; keep related-party checkbox values aligned with row order.
(function () {
  document.querySelectorAll("form.confirm").forEach((f) =>
    f.addEventListener("submit", (e) => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); }));
  const table = document.getElementById("lines");
  const tpl = document.getElementById("line-template");
  const add = document.getElementById("add-line");
  if (!table || !tpl || !add) return;
  const body = table.tBodies[0];
  function renumber() {
    let i = 0;
    body.querySelectorAll("tr.line").forEach((row) => {
      row.querySelector(".no").textContent = String(i + 1);
      const rp = row.querySelector("input[name=related_party_row]");
      if (rp) rp.value = String(i);
      i += 1;
    });
  }
  add.addEventListener("click", () => {
    body.appendChild(tpl.content.cloneNode(true));
    renumber();
    const rows = body.querySelectorAll("tr.line");
    rows[rows.length - 1].querySelector("input[name=service]").focus();
  });
  body.addEventListener("click", (e) => {
    if (!e.target.classList.contains("remove")) return;
    const row = e.target.closest("tr");
    const next = row.nextElementSibling;
    if (next && next.classList.contains("line-msg")) next.remove();
    row.remove();
    renumber();
  });
  if (!body.querySelector("tr.line") && !document.getElementById("nil_return").checked) add.click();
})();
