// Tells the inbox when the page is hidden (a locked phone, another tab) and shown again, so the people on the
// same message stop seeing "X is viewing" while nobody is looking. The server keeps presence alive otherwise;
// the browser sends no heartbeat. The buttons exist only on the inbox page.
// A page that is being left (reload, closing, a full navigation) also turns "hidden" as it unloads: that says
// nothing, since its socket closes anyway and the next page's load decides (InboxState.load).
(function () {
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  document.addEventListener("visibilitychange", function () {
    if (leaving) return;
    var id = document.visibilityState === "hidden" ? "gs-page-hidden" : "gs-page-visible";
    var button = document.getElementById(id);
    if (button) button.click();
  });
})();
