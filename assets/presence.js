// Tells the inbox when the page is hidden (a locked phone, another tab) and shown again, so the people on the
// same message stop seeing "X is viewing" while nobody is looking. The server keeps presence alive otherwise;
// the browser sends no heartbeat. The buttons exist only on the inbox page.
(function () {
  document.addEventListener("visibilitychange", function () {
    var id = document.visibilityState === "hidden" ? "gs-page-hidden" : "gs-page-visible";
    var button = document.getElementById(id);
    if (button) button.click();
  });
})();
