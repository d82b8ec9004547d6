// Says "Reconnected" for a few seconds after the "Connection lost. Reconnecting…" banner goes away,
// so someone who saw the connection drop knows their changes are flowing again.
(function () {
  // The words come from the server's catalogue, on the lost-connection banner (components/layout.py).
  var lost = false, said = "Reconnected";
  setInterval(function () {
    var banner = document.getElementById("gs-offline");
    if (banner) { lost = true; said = banner.getAttribute("data-reconnected") || said; return; }
    if (!lost) return;
    lost = false;
    var note = document.createElement("div");
    note.setAttribute("role", "status");
    note.className = "gs-reconnected";
    note.textContent = said;
    document.body.appendChild(note);
    setTimeout(function () { note.remove(); }, 4000);
  }, 500);
})();
