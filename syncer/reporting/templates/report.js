(function () {
  var filter = document.getElementById("filter");
  var source = document.getElementById("source-filter");
  var shown = document.getElementById("shown");
  var rows = document.querySelectorAll(".timeline .row[data-model]");
  var groups = document.querySelectorAll(".timeline .group");
  function apply() {
    var text = filter.value.trim().toLowerCase();
    var only = source.value;
    var count = 0;
    rows.forEach(function (row) {
      var keep = (!only || row.dataset.source === only) &&
        (!text || row.dataset.model.toLowerCase().indexOf(text) !== -1);
      row.hidden = !keep;
      if (keep) { count += 1; }
    });
    groups.forEach(function (group) { group.hidden = Boolean(only) && group.dataset.source !== only; });
    shown.textContent = count + " of " + rows.length + " rows";
  }
  filter.addEventListener("input", apply);
  source.addEventListener("change", apply);
  apply();
})();
