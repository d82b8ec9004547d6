// Says "Reconnected" for a few seconds after the "Connection lost. Reconnecting…" banner goes away,
// so someone who saw the connection drop knows their changes are flowing again.
(function () {
  var lost = false;
  setInterval(function () {
    if (document.getElementById("gs-offline")) { lost = true; return; }
    if (!lost) return;
    lost = false;
    var rtl = !!document.querySelector("[dir=rtl]");
    var note = document.createElement("div");
    note.setAttribute("role", "status");
    note.className = "gs-reconnected";
    note.textContent = rtl ? "عاد الاتصال" : "Reconnected";
    document.body.appendChild(note);
    setTimeout(function () { note.remove(); }, 4000);
  }, 500);
})();
