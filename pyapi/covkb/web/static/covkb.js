// covkb pages: small enhancements; every page works without them.
(function () {
  function wire(root) {
    // filter a list as the user types (the findings table)
    root.querySelectorAll("input[data-filter]").forEach(function (box) {
      box.addEventListener("input", function () {
        var q = box.value.trim().toLowerCase();
        document.querySelectorAll(box.dataset.filter).forEach(function (row) {
          row.hidden = q !== "" && row.dataset.text.indexOf(q) < 0;
        });
      });
    });
    // expand or collapse the whole explanation tree
    root.querySelectorAll("[data-needs-js]").forEach(function (e) { e.hidden = false; });
    root.querySelectorAll("button[data-tree]").forEach(function (b) {
      b.addEventListener("click", function () {
        var open = b.dataset.tree === "open";
        document.querySelectorAll(".why details").forEach(function (d) { d.open = open; });
      });
    });
    // the print view's Print button
    root.querySelectorAll("button[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    // after an in-place update, move focus to the answer so a screen reader reads it
    var h = root.querySelector(".outcome h2");
    if (h && root !== document) { h.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function () { wire(document.body); });
})();
