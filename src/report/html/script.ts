/**
 * The only script of the page: progressive enhancement. Without it every image is reachable and the
 * report is complete; with it the gallery can be filtered (kept, set apart, observers disagreeing),
 * and a link to a gallery cell (from the summary table) opens the collapsed blocks around it.
 */
export const REPORT_SCRIPT = `(function(){
  document.querySelectorAll(".dbp-report .filters").forEach(function(bar){
    var gallery = bar.parentElement && bar.parentElement.querySelector(".gallery");
    if(!gallery) return;
    bar.hidden = false;
    bar.addEventListener("click", function(ev){
      var b = ev.target && ev.target.closest ? ev.target.closest("button[data-filter]") : null;
      if(!b) return;
      var f = b.getAttribute("data-filter");
      gallery.setAttribute("data-filter", f);
      bar.querySelectorAll("button").forEach(function(x){ x.setAttribute("aria-pressed", String(x === b)); });
      if(f === "apart" || f === "disagree") gallery.querySelectorAll("details[data-" + f + "]").forEach(function(d){ d.open = true; });
    });
  });
  function reveal(){
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if(!target) return;
    for(var el = target; el; el = el.parentElement){ if(el.tagName === "DETAILS") el.open = true; }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();`;
